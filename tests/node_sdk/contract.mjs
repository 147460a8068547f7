// The official openai Node SDK against a live gateway: what a Node client does by default must work.
// Usage: node contract.mjs <base_url> <api_key> <wav_file>. Prints one JSON object; exit 1 on a failure.
import fs from "node:fs";
import OpenAI from "openai";

const [baseURL, apiKey, wav] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 });
const results = {};
let failed = false;

async function check(name, run) {
  try {
    results[name] = { ok: true, value: await run() };
  } catch (error) {
    failed = true;
    results[name] = { ok: false, status: error.status ?? null, error: String(error.message ?? error) };
  }
}

await check("models.list", async () => (await client.models.list()).data.map((m) => m.id));
await check("models.retrieve", async () => {
  const names = (await client.models.list()).data.map((m) => m.id);
  const retrieved = [];
  for (const name of names) retrieved.push((await client.models.retrieve(name)).id);
  return retrieved;
});
await check("models.retrieve unknown is 404", async () => {
  try {
    await client.models.retrieve("gpt-5");
  } catch (error) {
    if (error instanceof OpenAI.NotFoundError) return error.error?.code ?? error.code;
    throw error;
  }
  throw new Error("retrieving an unknown model succeeded");
});
await check("chat with nulls", async () => {
  const completion = await client.chat.completions.create({
    model: "qwen",
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 3,
    n: null,
    temperature: null,
    top_p: null,
    stream: null,
  });
  return { choices: completion.choices.length, fingerprint: completion.system_fingerprint };
});
await check("chat stream", async () => {
  const stream = await client.chat.completions.create({
    model: "qwen",
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 3,
    stream: true,
    stream_options: { include_usage: true },
  });
  let chunks = 0;
  let usage = null;
  for await (const chunk of stream) {
    chunks += 1;
    usage = chunk.usage ?? usage;
  }
  return { chunks, completion_tokens: usage?.completion_tokens };
});
await check("audio.transcriptions", async () => {
  const result = await client.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(wav) });
  return typeof result.text;
});
await check("audio.translations without language", async () => {
  const result = await client.audio.translations.create({
    model: "whisper-1",
    file: fs.createReadStream(wav),
    response_format: "verbose_json",
  });
  return { text: typeof result.text, language: result.language, source: result.source_language };
});

console.log(JSON.stringify(results));
process.exit(failed ? 1 : 0);
