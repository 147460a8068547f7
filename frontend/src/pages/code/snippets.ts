/**
 * Copyable examples for one served model. The key is never written into them: they read
 * GATEWAY_API_KEY from the environment.
 */
export type SnippetKind = 'chat' | 'transcription' | 'diarization' | 'translation' | 'speech';

/** The kinds whose Python example uses httpx (gateway routes OpenAI has no API for). */
export const HTTPX_KINDS: ReadonlySet<SnippetKind> = new Set(['diarization', 'translation']);

export interface Snippets {
  curl: string;
  python: string;
}

export const KEY_VARIABLE = 'GATEWAY_API_KEY';

/** The kind of example a model slot's `kind` calls for (`llm`, `asr`, `diarization`, `translation`, `tts`). */
export function snippetKindFor(kind: string | undefined): SnippetKind | null {
  if (kind === 'llm') return 'chat';
  if (kind === 'asr') return 'transcription';
  if (kind === 'diarization') return 'diarization';
  if (kind === 'translation') return 'translation';
  if (kind === 'tts') return 'speech';
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
  if (kind === 'translation') {
    return {
      curl: [
        `curl ${base}/translate \\`,
        `  ${auth} \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '{"model": "${model}", "text": "Good morning!", "src_lang": "en", "tgt_lang": "fr"}'`,
        '',
        '# the language codes and aliases it accepts:',
        `curl "${base}/translate/languages?model=${encodeURIComponent(model)}" ${auth}`,
      ].join('\n'),
      python: [
        'import os',
        '',
        'import httpx',
        '',
        'response = httpx.post(',
        `    "${base}/translate",`,
        `    headers={"Authorization": f"Bearer {os.environ['${KEY_VARIABLE}']}"},`,
        '    json={',
        `        "model": "${model}",`,
        '        "text": ["Good morning!", "How are you?"],',
        '        "src_lang": "en",',
        '        "tgt_lang": "fr",',
        '    },',
        '    timeout=120,',
        ')',
        'response.raise_for_status()',
        'print(response.json()["translations"])',
      ].join('\n'),
    };
  }
  if (kind === 'speech') {
    return {
      curl: [
        `curl ${base}/audio/speech \\`,
        `  ${auth} \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '{"model": "${model}", "input": "Hello there!", "voice": "alloy", "response_format": "mp3"}' \\`,
        '  -o speech.mp3',
      ].join('\n'),
      python: [
        client,
        'with client.audio.speech.with_streaming_response.create(',
        `    model="${model}",`,
        '    input="Hello there!",',
        '    voice="alloy",',
        '    response_format="mp3",',
        ') as response:',
        '    response.stream_to_file("speech.mp3")',
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
