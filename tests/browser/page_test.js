// Drives the node's web page in Debian's chromium (headless, puppeteer-core) through each
// of its states, saving a screenshot of each to <out>; exits 1 with the reason on the first
// failed expectation. Started by tests/integration/web_page_test.cpp:
//   node page_test.js <url> <out> <recording.wav> <markup> <tts addr> <asr addr> <other node udp>
'use strict';
const path = require('path');
const puppeteer = require('puppeteer-core');

const [url, out, recording, markup, ttsAddress, asrAddress, otherNode] = process.argv.slice(2);
const WAIT = { timeout: 30000 };

function expect(ok, what) {
  if (!ok) throw new Error('expected: ' + what);
  console.log('ok: ' + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(out, name), fullPage: true });
  console.log('screenshot ' + name);
}

async function text(page, selector) {
  return page.$eval(selector, (e) => e.textContent);
}

/// Submits the ASR form with `file` on backend kind `kind`; the status line once answered.
async function recognise(page, kind) {
  await page.select('#asr-backend', kind);
  const input = await page.$('#asr-file');
  await input.uploadFile(recording);
  await page.click('#asr-submit');
  await page.waitForFunction(
    () => /\b(ok|error)\b/.test(document.getElementById('asr-status').className), WAIT);
  return text(page, '#asr-status');
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--autoplay-policy=no-user-gesture-required',
           '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
  });
  const problems = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(m.type() + ': ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));

    // 1. Loaded: the node's facts from /status.
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelectorAll('#node-facts dd').length > 0, WAIT);
    const facts = await text(page, '#node-facts');
    expect(/[0-9a-f]{40}/.test(facts), 'the node id is shown');
    expect(facts.includes(new URL(url).host), 'the node\'s HTTP address is shown');
    await page.waitForFunction((udp) => document.getElementById('known-nodes').textContent.includes(udp),
                               WAIT, otherNode);
    expect(true, 'the other node is listed among the known nodes');
    const own = await text(page, '#own-backends');
    expect(own.includes('tts/cpu/' + ttsAddress) && own.includes('asr/cpu/' + asrAddress),
           'the node\'s own backends are listed');
    await page.waitForFunction(() => document.getElementById('own-backends').textContent.includes('yes ('),
                               WAIT);
    expect(true, 'they are shown as announced');
    expect(own.includes(' of 1'), 'with their owner\'s queue (running of capacity)');
    await shot(page, '1-loaded.png');

    // 2. TTS, from the keyboard (Tab to the button, its focus visible, Enter): the audio
    // element gets a finite duration.
    await page.select('#tts-voice', 'en-us');
    await page.focus('#tts-backend');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const e = document.activeElement;
      return { id: e.id, outline: getComputedStyle(e).outlineStyle, visible: e.matches(':focus-visible') };
    });
    expect(focused.id === 'tts-submit' && focused.visible && focused.outline === 'solid',
           'Tab reaches the button with a visible focus ring: ' + JSON.stringify(focused));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const a = document.getElementById('tts-audio');
      return !a.hidden && Number.isFinite(a.duration) && a.duration > 0;
    }, WAIT);
    const duration = await page.$eval('#tts-audio', (a) => a.duration);
    expect(duration > 0.5, 'synthesized audio of ' + duration.toFixed(2) + ' s plays in the page');
    const href = await page.$eval('#tts-download', (a) => (a.hidden ? '' : a.href));
    expect(href.startsWith('blob:'), 'a download link for the WAV is offered');
    await shot(page, '2-tts.png');

    // 3. ASR of a real recording: words with their times.
    const status = await recognise(page, 'cpu');
    expect(status.startsWith('Recognised'), 'the recording is recognised (' + status + ')');
    const transcript = await text(page, '#asr-transcript .transcript');
    expect(transcript.includes('himself'), 'the transcript has the recording\'s words: ' + transcript);
    const words = await page.$$eval('#asr-transcript tbody tr', (rows) => rows.length);
    expect(words > 3, words + ' words are listed with their times');
    await shot(page, '3-asr.png');

    // 4. A transcript that is markup is shown as text.
    const marked = await recognise(page, 'gpu');
    expect(marked.startsWith('Recognised'), 'the markup backend answered (' + marked + ')');
    const shown = await text(page, '#asr-transcript .transcript');
    expect(shown.includes(markup), 'the markup is shown as its text: ' + shown);
    expect(await page.$('#injected') === null, 'no element was made of it');
    expect(await page.evaluate(() => window.hacked === undefined), 'no script of it ran');
    await shot(page, '4-markup.png');

    // 4b. A microphone recording (chromium's fake device: a tone) goes up as a 16 kHz WAV,
    // here to the test backend, which says how many bytes it got.
    await page.click('#asr-record');
    await page.waitForFunction(
      () => document.getElementById('asr-record').getAttribute('aria-pressed') === 'true', WAIT);
    await new Promise((done) => setTimeout(done, 1500));
    await page.click('#asr-record');
    await page.waitForFunction(
      () => /^(Recognised recording|Recognition failed|The recording)/.test(
        document.getElementById('asr-status').textContent), WAIT);
    const recorded = await text(page, '#asr-status');
    expect(recorded.startsWith('Recognised recording.wav'), 'the recording is sent (' + recorded + ')');
    const heard = /heard (\d+) bytes/.exec(await text(page, '#asr-transcript .transcript'));
    const bytes = heard ? Number(heard[1]) : 0;
    expect(bytes > 44 + 16000, 'as a WAV of ' + bytes + ' bytes (over half a second)');

    // 5. The network: every backend by service and kind, with its health, seen after a
    // last request and a refresh (the page as the README shows it).
    expect((await recognise(page, 'cpu')).startsWith('Recognised'), 'the recording is recognised again');
    const before = await text(page, '#network-updated');
    await page.waitForFunction((t) => document.getElementById('network-updated').textContent !== t,
                               WAIT, before);
    await page.waitForFunction((addresses) => {
      const t = document.getElementById('known-backends').textContent;
      return addresses.every((a) => t.includes(a)) && t.includes('healthy');
    }, WAIT, [ttsAddress, asrAddress]);
    const tables = await page.$$eval('#known-backends caption', (cs) => cs.map((c) => c.textContent));
    expect(tables.join() === 'ASR backends,TTS backends', 'ASR and TTS backends are listed');
    const rows = await page.$$eval('#known-backends tbody tr', (rs) => rs.length);
    expect(rows === 3, 'with the three backends (' + rows + ')');
    await shot(page, '5-network.png');
    await page.setViewport({ width: 1100, height: 900, deviceScaleFactor: 0.7 });
    await shot(page, '6-readme.png');

    // 6. Markup in /status (a hostile node view) is shown as text too.
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (!r.url().endsWith('/status')) return r.continue();
      const doc = {
        node_id: 'a'.repeat(40), version: '<i id=injected2>v</i>', udp: '127.0.0.9:1', http: '127.0.0.9:2',
        routing_table_size: 1, nodes: [{ id: 'b'.repeat(40), udp: '<b id=injected3>n</b>' }],
        own_services: [{ backend: 'tts/cpu/<b id=injected4>x</b>', alive: true, last_error: '<script>x</script>',
                         announcements: 1, capacity: '<b id=injected6>1</b>', running: 0, queued: 0, wait_s: 0 }],
        services: { asr: [], tts: [{ backend: 'x', kind: '<u id=injected5>gpu</u>', address: markup,
                                     breaker: '<b>open</b>', in_flight: 0, latency_ms: 0, served: 0,
                                     failed: 0, refused: 0, busy: 0, peer: '<b id=injected7>node</b>' }] },
        requests_in_flight: 0, requests_total: 1, draining: false,
      };
      r.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(doc) });
    });
    await page.waitForFunction((m) => document.getElementById('known-backends').textContent.includes(m),
                               WAIT, markup);
    for (const id of ['injected', 'injected2', 'injected3', 'injected4', 'injected5', 'injected6', 'injected7'])
      expect(await page.$('#' + id) === null, 'no element #' + id + ' was made of /status');
    const network = await text(page, '#network');
    expect(network.includes('<i id=injected2>v</i>') && network.includes('<script>x</script>'),
           'the markup in /status is shown as text');

    expect(problems.length === 0, 'no console errors or failed requests: ' + JSON.stringify(problems));
  } finally {
    await browser.close();
  }
}

main().then(() => console.log('all passed'), (e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
