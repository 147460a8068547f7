import { describe, expect, it } from 'vitest';

import { snippetKindFor, snippetsFor } from './snippets';

describe('code snippets', () => {
  it('has an example for each kind of slot', () => {
    expect(snippetKindFor('translation')).toBe('translation');
    expect(snippetKindFor('tts')).toBe('speech');
    expect(snippetKindFor('embedding')).toBeNull();
  });

  it('translates with curl and httpx, and lists the languages', () => {
    const { curl, python } = snippetsFor('translation', 'nllb', 'https://gw.example');
    expect(curl).toContain('curl https://gw.example/v1/translate \\');
    expect(curl).toContain('"model": "nllb"');
    expect(curl).toContain('https://gw.example/v1/translate/languages?model=nllb');
    expect(python).toContain('import httpx');
    expect(python).toContain('"src_lang": "en"');
  });

  it('speaks with the openai SDK, streaming to a file', () => {
    const { curl, python } = snippetsFor('speech', 'mms-tts', 'https://gw.example');
    expect(curl).toContain('https://gw.example/v1/audio/speech');
    expect(curl).toContain('-o speech.mp3');
    expect(python).toContain('client.audio.speech.with_streaming_response.create(');
    expect(python).toContain('model="mms-tts"');
    expect(python).toContain('stream_to_file("speech.mp3")');
  });
});
