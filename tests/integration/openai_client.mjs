// Driven by openai_client_test.cpp: the official `openai` npm package against a node's
// OpenAI routes. Writes each speech reply to OUT_DIR/speech.<format> and everything else
// the client returned (or threw) to OUT_DIR/results.json; the C++ test checks them.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const require = createRequire(process.env.NPM_DIR + '/package.json');
const mod = require('openai');
const OpenAI = mod.OpenAI ?? mod.default;
const { toFile } = mod;

const out = process.env.OUT_DIR;
const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: 'not-needed', maxRetries: 0, timeout: 90000 });
const sentence = process.env.SENTENCE;
const version = JSON.parse(readFileSync(`${process.env.NPM_DIR}/node_modules/openai/package.json`, 'utf8')).version;
const results = { version, speech: {}, transcriptions: {}, synthesised: {}, errors: {}, models: [] };

async function speech(name, params) {
  const r = await client.audio.speech.create({ model: 'tts-1', voice: 'en-us', input: sentence, ...params });
  const bytes = Buffer.from(await r.arrayBuffer());
  writeFileSync(`${out}/speech.${name}`, bytes);
  results.speech[name] = { bytes: bytes.length, content_type: r.headers.get('content-type') };
}

async function transcribe(bytes, filename, params) {
  return client.audio.transcriptions.create({ file: await toFile(bytes, filename), model: 'whisper-1', ...params });
}

async function expectError(name, call) {
  try {
    await call();
    results.errors[name] = { thrown: false };
  } catch (e) {
    results.errors[name] = { thrown: true, cls: e?.constructor?.name, status: e.status ?? null, type: e.type ?? null,
                             code: e.code ?? null, param: e.param ?? null, request_id: e.requestID ?? null,
                             message: String(e.message) };
  }
}

for (const format of ['wav', 'pcm', 'mp3', 'opus', 'flac']) await speech(format, { response_format: format });
await speech('fast.pcm', { response_format: 'pcm', speed: 2.0 });

const recording = readFileSync(process.env.RECORDING);
const formats = ['json', 'text', 'verbose_json', 'srt', 'vtt'];
const replies = await Promise.all(formats.map((f) => transcribe(recording, 'librivox.wav', {
  response_format: f, language: 'en', ...(f === 'verbose_json' ? { timestamp_granularities: ['word', 'segment'] } : {}),
})));
formats.forEach((f, i) => { results.transcriptions[f] = replies[i]; });

for (const f of ['wav', 'flac']) {
  const reply = await transcribe(readFileSync(`${out}/speech.${f}`), `speech.${f}`, { model: 'sova-asr-cpu' });
  results.synthesised[f] = reply.text;
}

await expectError('bad_voice', () => client.audio.speech.create({ model: 'tts-1', voice: 'no-such-voice', input: 'hello' }));
await expectError('empty_input', () => client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: '' }));
await expectError('aac', () => client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hi', response_format: 'aac' }));
await expectError('missing_file', () => client.audio.transcriptions.create({ model: 'whisper-1' }));
await expectError('not_audio', () => transcribe(Buffer.from('this is not audio at all'), 'notes.wav', {}));
await expectError('gpu_model', () => transcribe(recording, 'librivox.wav', { model: 'sova-asr-gpu' }));

for await (const m of client.models.list()) results.models.push(m.id);

writeFileSync(`${out}/results.json`, JSON.stringify(results, null, 2));
