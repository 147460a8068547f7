/**
 * Copyable examples for one served model. The key is never written into them: they read
 * GATEWAY_API_KEY from the environment.
 */
export type SnippetKind = 'chat' | 'transcription' | 'diarization';

export interface Snippets {
  curl: string;
  python: string;
}

export const KEY_VARIABLE = 'GATEWAY_API_KEY';

/** The kind of example a model slot's `kind` calls for (`llm`, `asr`, `diarization`). */
export function snippetKindFor(kind: string | undefined): SnippetKind | null {
  if (kind === 'llm') return 'chat';
  if (kind === 'asr') return 'transcription';
  if (kind === 'diarization') return 'diarization';
  return null;
}

export function snippetsFor(kind: SnippetKind, model: string, origin: string): Snippets {
  const base = `${origin}/v1`;
  const auth = `-H "Authorization: Bearer $${KEY_VARIABLE}"`;
  const client = `import os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url="${base}", api_key=os.environ["${KEY_VARIABLE}"])\n`;
  if (kind === 'chat') {
    return {
      curl: [
        `curl ${base}/chat/completions \\`,
        `  ${auth} \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
      ].join('\n'),
      python: [
        client,
        'stream = client.chat.completions.create(',
        `    model="${model}",`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        '    stream=True,',
        ')',
        'for chunk in stream:',
        '    if chunk.choices:',
        '        print(chunk.choices[0].delta.content or "", end="", flush=True)',
      ].join('\n'),
    };
  }
  if (kind === 'transcription') {
    return {
      curl: [
        `curl ${base}/audio/transcriptions \\`,
        `  ${auth} \\`,
        `  -F file=@speech.wav \\`,
        `  -F model=${model}`,
      ].join('\n'),
      python: [
        client,
        'with open("speech.wav", "rb") as audio:',
        `    transcript = client.audio.transcriptions.create(model="${model}", file=audio)`,
        'print(transcript.text)',
      ].join('\n'),
    };
  }
  return {
    curl: [`curl ${origin}/api/diarization/process \\`, `  ${auth} \\`, `  -F file=@meeting.wav`].join('\n'),
    python: [
      'import os',
      '',
      'import httpx',
      '',
      'with open("meeting.wav", "rb") as audio:',
      '    response = httpx.post(',
      `        "${origin}/api/diarization/process",`,
      `        headers={"Authorization": f"Bearer {os.environ['${KEY_VARIABLE}']}"},`,
      '        files={"file": audio},',
      '        timeout=600,',
      '    )',
      'response.raise_for_status()',
      'print(response.json())',
    ].join('\n'),
  };
}
