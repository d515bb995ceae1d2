// The node's web page: try TTS and ASR through this node and watch the network it knows.
// Everything shown is built as text nodes, never parsed as HTML: backend names, error
// messages and transcripts come from the network and may hold markup.
'use strict';

const STATUS_EVERY_MS = 3000;
// The backend kinds a request may ask for (?backend=), first the default: one list for
// every form's select.
const BACKEND_KINDS = ['any', 'cpu', 'gpu'];

/// An element with attributes and children; strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function text(value) {
  return value === null || value === undefined ? '' : String(value);
}

function setStatus(id, message, kind) {
  const node = document.getElementById(id);
  node.textContent = message;
  node.className = 'status' + (kind ? ' ' + kind : '');
}

/// A table of `rows` (arrays of strings or nodes) under `headers`; `caption` for readers.
function table(caption, headers, rows) {
  const head = el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)));
  const body = rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))));
  return el('table', {}, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...body));
}

/// The node's error message of a failed reply: {"response_code": 1, "error": {...}}.
async function replyError(reply) {
  let detail = '';
  try {
    const body = await reply.json();
    if (body && body.error) detail = text(body.error.code) + ': ' + text(body.error.message);
    else if (body && typeof body.response === 'string') detail = body.response;
  } catch (e) {
    detail = reply.statusText;
  }
  return 'HTTP ' + reply.status + (detail ? ' — ' + detail : '');
}

// ---- TTS ----

let ttsUrl = null;

function base64ToBytes(b64) {
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; ++i) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

async function synthesize(event) {
  event.preventDefault();
  const button = document.getElementById('tts-submit');
  const audio = document.getElementById('tts-audio');
  const download = document.getElementById('tts-download');
  const body = {
    text: document.getElementById('tts-text').value,
    voice: document.getElementById('tts-voice').value,
    rate: Number(document.getElementById('tts-rate').value),
  };
  const backend = document.getElementById('tts-backend').value;
  button.disabled = true;
  setStatus('tts-status', 'Synthesizing…', 'busy');
  try {
    const started = performance.now();
    const reply = await fetch('/synthesize?backend=' + encodeURIComponent(backend), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!reply.ok) throw new Error(await replyError(reply));
    const doc = await reply.json();
    if (doc.response_code !== 0 || !Array.isArray(doc.response) || !doc.response.length)
      throw new Error('the backend refused: ' + text(doc.response));
    const first = doc.response[0];
    const wav = new Blob([base64ToBytes(first.response_audio)], { type: 'audio/wav' });
    if (ttsUrl) URL.revokeObjectURL(ttsUrl);
    ttsUrl = URL.createObjectURL(wav);
    audio.src = ttsUrl;
    audio.hidden = false;
    download.href = ttsUrl;
    download.hidden = false;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    setStatus('tts-status', 'Voice ' + text(first.voice) + ', ' + text(first.duration_s) +
              ' s of audio, answered in ' + seconds + ' s (request id ' +
              text(reply.headers.get('X-Request-Id')) + ').', 'ok');
    audio.play().catch(() => {
      // Autoplay may be refused; the controls still play it.
    });
  } catch (e) {
    setStatus('tts-status', 'Synthesis failed: ' + e.message, 'error');
  } finally {
    button.disabled = false;
  }
}

// ---- ASR ----

/// 16-bit PCM mono WAV of `samples` (Float32Array) at `rate`.
function wavBytes(samples, rate) {
  const out = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const ascii = (at, s) => { for (let i = 0; i < s.length; ++i) out.setUint8(at + i, s.charCodeAt(i)); };
  ascii(0, 'RIFF'); out.setUint32(4, 36 + samples.length * 2, true); ascii(8, 'WAVE');
  ascii(12, 'fmt '); out.setUint32(16, 16, true); out.setUint16(20, 1, true);
  out.setUint16(22, 1, true); out.setUint32(24, rate, true); out.setUint32(28, rate * 2, true);
  out.setUint16(32, 2, true); out.setUint16(34, 16, true);
  ascii(36, 'data'); out.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; ++i) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([out.buffer], { type: 'audio/wav' });
}

/// A recording (WebM/Opus from MediaRecorder) as a 16 kHz mono WAV, which every SOVA ASR
/// backend reads.
async function recordingToWav(blob) {
  const rate = 16000;
  // An offline context decodes without an audio device, resampling to its rate.
  const decoded = await new OfflineAudioContext(1, 1, rate).decodeAudioData(await blob.arrayBuffer());
  const offline = new OfflineAudioContext(1, Math.max(1, Math.ceil(decoded.duration * rate)), rate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const mono = await offline.startRendering();
  return wavBytes(mono.getChannelData(0), rate);
}

function showTranscript(doc) {
  const out = document.getElementById('asr-transcript');
  out.replaceChildren();
  const results = Array.isArray(doc.r) ? doc.r : [];
  if (!results.length) throw new Error('the backend read no recording');
  for (const r of results) {
    if (r.response_code !== 0) throw new Error('the backend could not read it: ' + text(r.response));
    for (const utterance of r.response || []) {
      out.append(el('p', { class: 'transcript' }, text(utterance.text)));
      const words = (utterance.words || []).map((w) => [
        text(w.word),
        Number(w.start).toFixed(2),
        Number(w.end).toFixed(2),
        w.confidence === undefined ? '' : Number(w.confidence).toFixed(2),
      ]);
      if (words.length)
        out.append(table('Words with their times (seconds)', ['word', 'start', 'end', 'confidence'], words));
    }
  }
}

async function recognise(file, filename) {
  const backend = document.getElementById('asr-backend').value;
  const form = new FormData();
  form.append('audio_blob', file, filename);
  setStatus('asr-status', 'Recognising ' + filename + '…', 'busy');
  document.getElementById('asr-transcript').replaceChildren();
  try {
    const started = performance.now();
    const reply = await fetch('/asr?backend=' + encodeURIComponent(backend), { method: 'POST', body: form });
    if (!reply.ok) throw new Error(await replyError(reply));
    showTranscript(await reply.json());
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    setStatus('asr-status', 'Recognised ' + filename + ' in ' + seconds + ' s (request id ' +
              text(reply.headers.get('X-Request-Id')) + ').', 'ok');
  } catch (e) {
    setStatus('asr-status', 'Recognition failed: ' + e.message, 'error');
  }
}

function uploadFile(event) {
  event.preventDefault();
  const input = document.getElementById('asr-file');
  if (!input.files.length) {
    setStatus('asr-status', 'Choose an audio file first.', 'error');
    input.focus();
    return;
  }
  recognise(input.files[0], input.files[0].name);
}

let recorder = null;

async function toggleRecording() {
  const button = document.getElementById('asr-record');
  if (recorder) {
    recorder.stop();
    return;
  }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    setStatus('asr-status', 'This browser cannot record here (it needs HTTPS or localhost).', 'error');
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener('dataavailable', (e) => chunks.push(e.data));
    recorder.addEventListener('stop', async () => {
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      button.textContent = 'Record from the microphone';
      button.setAttribute('aria-pressed', 'false');
      try {
        const wav = await recordingToWav(new Blob(chunks, { type: chunks.length ? chunks[0].type : '' }));
        await recognise(wav, 'recording.wav');
      } catch (e) {
        setStatus('asr-status', 'The recording could not be read: ' + e.message, 'error');
      }
    });
    recorder.start();
    button.textContent = 'Stop and recognise';
    button.setAttribute('aria-pressed', 'true');
    setStatus('asr-status', 'Recording… press the button again to stop.', 'busy');
  } catch (e) {
    recorder = null;
    setStatus('asr-status', 'No microphone: ' + e.message, 'error');
  }
}

// ---- the network ----

const HEALTH = {
  closed: ['healthy', 'ok'],
  half_open: ['half-open (being tried again)', 'warn'],
  open: ['failing (breaker open)', 'error'],
  untried: ['not used yet', 'muted'],
};

// What answers at a known backend's address (/status' `peer`); unknown: not asked yet.
const PEER = { node: 'a node (owner)', plain: 'a SOVA server' };

function health(breaker) {
  const [label, kind] = HEALTH[breaker] || [text(breaker), 'warn'];
  return el('span', { class: 'badge ' + kind }, label);
}

function renderNode(doc) {
  document.getElementById('node-title').textContent = text(doc.http);
  const facts = [
    ['Node id', doc.node_id],
    ['Version', doc.version],
    ['DHT (UDP)', doc.udp],
    ['HTTP API', doc.http],
    ['Routing table', doc.routing_table_size === undefined ? 'did not answer'
      : doc.routing_table_size + (doc.routing_table_size === 1 ? ' node' : ' nodes')],
    ['Requests in flight', doc.requests_in_flight],
    ['Requests so far', doc.requests_total],
    ['Draining', doc.draining ? 'yes: it takes no new requests' : 'no'],
  ];
  if (Array.isArray(doc.unavailable) && doc.unavailable.length)
    facts.push(['Parts that did not answer', doc.unavailable.map(text).join(', ')]);
  const list = document.getElementById('node-facts');
  list.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, text(v))]));
}

function renderOwn(own) {
  const out = document.getElementById('own-backends');
  if (!Array.isArray(own) || !own.length) {
    out.replaceChildren(el('p', { class: 'muted' }, 'None: this node serves no backends of its own.'));
    return;
  }
  // The owner's queue (--announce node); a node announcing its backends has none.
  const queued = (s) => s.capacity !== undefined;
  const rows = own.map((s) => [
    text(s.backend),
    el('span', { class: 'badge ' + (s.alive ? 'ok' : 'error') }, s.alive ? 'alive' : 'not answering'),
    s.announcements > 0 ? 'yes (' + s.announcements + ' stores)' : 'not yet',
    queued(s) ? text(s.running) + ' of ' + text(s.capacity) : '—',
    queued(s) ? text(s.queued) : '—',
    queued(s) ? Number(s.wait_s).toFixed(1) + ' s' : '—',
    text(s.last_error),
  ]);
  out.replaceChildren(table('Backends this node announces',
                            ['backend', 'probe', 'announced', 'running', 'queued', 'wait', 'last error'], rows));
}

function renderKnown(services) {
  const out = document.getElementById('known-backends');
  const parts = [];
  for (const [service, backends] of Object.entries(services || {})) {
    if (!Array.isArray(backends) || !backends.length) {
      parts.push(el('p', { class: 'muted' }, text(service).toUpperCase() + ': none looked up yet.'));
      continue;
    }
    const rows = backends.map((b) => [
      text(b.kind),
      text(b.address),
      health(b.breaker),
      text(b.in_flight),
      b.latency_ms > 0 ? Number(b.latency_ms).toFixed(0) + ' ms' : '—',
      text(b.served),
      text(b.failed),
      text(b.busy),
      Object.hasOwn(PEER, b.peer) ? PEER[b.peer] : '—',
    ]);
    parts.push(table(text(service).toUpperCase() + ' backends',
                     ['kind', 'address', 'health', 'in flight', 'latency', 'served', 'failed', 'busy', 'at the address'],
                     rows));
  }
  out.replaceChildren(...parts);
}

function renderNodes(nodes) {
  const out = document.getElementById('known-nodes');
  if (!Array.isArray(nodes)) {
    out.replaceChildren(el('p', { class: 'muted' }, 'The routing table did not answer.'));
    return;
  }
  if (!nodes.length) {
    out.replaceChildren(el('p', { class: 'muted' }, 'None yet.'));
    return;
  }
  const rows = nodes.map((n) => [el('code', {}, text(n.id)), text(n.udp)]);
  out.replaceChildren(table('Nodes in the routing table', ['node id', 'DHT address (UDP)'], rows));
}

async function refreshStatus() {
  try {
    const reply = await fetch('/status', { cache: 'no-store' });
    if (!reply.ok) throw new Error(await replyError(reply));
    const doc = await reply.json();
    renderNode(doc);
    renderOwn(doc.own_services);
    renderKnown(doc.services);
    renderNodes(doc.nodes);
    setStatus('network-status', '', '');
    document.getElementById('network-updated').textContent =
      'Last update ' + new Date().toLocaleTimeString() + '.';
  } catch (e) {
    setStatus('network-status', 'The node did not answer /status: ' + e.message, 'error');
  } finally {
    setTimeout(refreshStatus, STATUS_EVERY_MS);
  }
}

function fillBackendKinds() {
  for (const select of document.querySelectorAll('select.backend-kind'))
    select.replaceChildren(...BACKEND_KINDS.map((kind) => el('option', { value: kind }, kind)));
}

function start() {
  fillBackendKinds();
  document.getElementById('tts-form').addEventListener('submit', synthesize);
  const rate = document.getElementById('tts-rate');
  rate.addEventListener('input', () => {
    document.getElementById('tts-rate-value').textContent = Number(rate.value).toFixed(1);
  });
  document.getElementById('asr-form').addEventListener('submit', uploadFile);
  document.getElementById('asr-record').addEventListener('click', toggleRecording);
  refreshStatus();
}

document.addEventListener('DOMContentLoaded', start);
