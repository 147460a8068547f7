/** ISO 639-1 codes the gateway's Canary model speaks (its 25 European languages), with their names. */
export const LANGUAGES: [code: string, name: string][] = [
  ['bg', 'Bulgarian'],
  ['cs', 'Czech'],
  ['da', 'Danish'],
  ['de', 'German'],
  ['el', 'Greek'],
  ['en', 'English'],
  ['es', 'Spanish'],
  ['et', 'Estonian'],
  ['fi', 'Finnish'],
  ['fr', 'French'],
  ['hr', 'Croatian'],
  ['hu', 'Hungarian'],
  ['it', 'Italian'],
  ['lt', 'Lithuanian'],
  ['lv', 'Latvian'],
  ['mt', 'Maltese'],
  ['nl', 'Dutch'],
  ['pl', 'Polish'],
  ['pt', 'Portuguese'],
  ['ro', 'Romanian'],
  ['ru', 'Russian'],
  ['sk', 'Slovak'],
  ['sl', 'Slovenian'],
  ['sv', 'Swedish'],
  ['uk', 'Ukrainian'],
];

/** A code's name ("de" -> "German"); names and unknown codes as they are. */
export function languageName(codeOrName: string): string {
  const found = LANGUAGES.find(([code, name]) => code === codeOrName || name.toLowerCase() === codeOrName);
  return found ? found[1] : codeOrName;
}
