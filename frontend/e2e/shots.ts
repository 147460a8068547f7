/**
 * Every screenshot the run takes (with E2E_SCREENSHOTS=1), in the order doc/frontend.md shows them. A test
 * takes one with `shoot(page, name)`; global-teardown.ts writes the doc's "Screenshots" section from this list.
 */
export interface Shot {
  title: string;
  caption: string;
}

export const SHOTS = {
  'sign-in': {
    title: 'Sign in',
    caption: "The key dialog from the top bar; a wrong key shows the server's message and replaces nothing.",
  },
  overview: {
    title: 'Overview',
    caption: 'A machine without a GPU: the "CPU mode" state, the system card and the history chart.',
  },
  models: {
    title: 'Models',
    caption:
      'One card per slot with its state, actions and facts (the tiny LLM loaded), the GPU budget and the Hugging Face token.',
  },
  'hf-token': {
    title: 'Hugging Face token',
    caption:
      'The token is set in a password field; the page shows only its masked form and where it is stored.',
  },
  logs: { title: 'Logs', caption: 'Recent log lines with level filter, search and follow mode.' },
  chat: {
    title: 'Chat playground',
    caption: 'A streamed answer with its time to first token, speed and usage (random weights: random text).',
  },
  transcribe: {
    title: 'Transcription playground',
    caption: 'An uploaded wav transcribed: text, segments and the SRT/VTT/JSON downloads.',
  },
  speakers: {
    title: 'Who said what',
    caption: "Speaker lanes on a time axis, the audio player's playhead and the labelled transcript.",
  },
  translate: {
    title: 'Translation playground',
    caption:
      "Languages picked by code, name or alias from the model's own list, a translation and its token usage (random weights: random text).",
  },
  speech: {
    title: 'Speech playground',
    caption:
      'Text spoken by the text-to-speech model: the player, the time to the first audio byte and the download (random weights: noise).',
  },
  jobs: { title: 'Jobs', caption: "The caller's jobs (all of them for an admin), live." },
  job: {
    title: 'A job',
    caption: 'A finished job: its state history, per-stage progress and the result downloads.',
  },
  code: { title: 'Use it from code', caption: 'curl and Python snippets for each served model.' },
  usage: {
    title: 'Usage',
    caption:
      "Tokens and audio per client and day, the totals per client and model, today's quotas and the request log with its filters.",
  },
  'my-usage': {
    title: 'My usage (a client key)',
    caption: 'A key sees its own use per model and its daily quota.',
  },
  'client-key': {
    title: 'A client key',
    caption:
      'A client key sees the playgrounds, its jobs, the code page and its own usage; the admin pages are not listed.',
  },
  'phone-overview': { title: 'Overview on a phone (390×844)', caption: 'The drawer becomes a menu.' },
  'phone-models': { title: 'Models on a phone (390×844)', caption: 'The cards stack.' },
  'phone-menu': { title: 'The menu on a phone (390×844)', caption: 'Navigation opened from the top bar.' },
  'dark-overview': { title: 'Overview, dark scheme', caption: "The system's dark scheme is followed." },
  'dark-models': { title: 'Models, dark scheme', caption: '' },
} as const satisfies Record<string, Shot>;

export type ShotName = keyof typeof SHOTS;
