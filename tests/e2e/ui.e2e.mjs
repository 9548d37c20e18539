// Browser end-to-end tests of the Parley UI in a real headless Chromium (issue 5):
// create a chat, send a message and watch the reply stream, reload and find the history, stop a
// reply mid-stream, rename and delete, the no-JavaScript path, <script>/<img onerror> payloads stay
// inert (in messages, titles and system prompts; the CSP blocks inline handlers), phone-width layout,
// and a rate-limited send (429) shown in place on a second server started with a strict limit
// (PARLEY_BIN, PARLEY_E2E_MODEL as in run.sh). Screenshots of the main screens go to $OUT_DIR.
//
//   BASE_URL=http://127.0.0.1:8080 OUT_DIR=test-output/e2e node ui.e2e.mjs
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';
const OUT = process.env.OUT_DIR || 'test-output/e2e';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(OUT, { recursive: true });

let failures = 0;
const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures++;
    results.push(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
  console.log(results[results.length - 1]);
}
function assert(cond, msg) { if (!cond) throw new Error('assertion failed: ' + msg); }
const shot = (page, name) => page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true });

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

// Fails the test on any dialog (alert from an XSS payload) or page error.
function guard(page, problems) {
  page.on('dialog', async (d) => { problems.push('dialog: ' + d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
}

async function newChat(page) {
  await page.goto(BASE + '/');
  await Promise.all([page.waitForURL(/\/chats\/chat_[0-9a-f]{32}$/), page.click('#new-chat')]);
  return page.url();
}

// Sends a message with JavaScript on; returns the text lengths seen while it streamed.
async function sendAndWatch(page, text) {
  const before = await page.locator('#messages > li.assistant').count();
  await page.fill('#content', text);
  await page.click('#send');
  const lengths = [];
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const s = await page.evaluate(() => {
      const b = document.querySelector('#messages > li.assistant:last-child .body');
      return { streaming: document.body.classList.contains('streaming'), len: b ? b.textContent.length : 0,
               rendered: b ? !b.classList.contains('streaming') : false };
    });
    if (s.streaming && s.len > 0) lengths.push(s.len);
    if (!s.streaming && s.rendered) break;
    await page.waitForTimeout(5);
  }
  assert(await page.locator('#messages > li.assistant').count() === before + 1, 'one new reply');
  return lengths;
}

const problems = [];
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
guard(page, problems);
let chatUrl = '';

await test('home page, security headers, new chat', async () => {
  const res = await page.goto(BASE + '/');
  const csp = res.headers()['content-security-policy'] || '';
  assert(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), 'CSP without inline script: ' + csp);
  assert(csp.includes("frame-ancestors 'none'"), 'frame-ancestors none');
  assert(res.headers()['x-content-type-options'] === 'nosniff', 'nosniff');
  await shot(page, '01-home');
  chatUrl = await newChat(page);
});

await test('send a message and watch the reply stream in', async () => {
  const lengths = await sendAndWatch(page, 'Once upon a time');
  const distinct = new Set(lengths);
  assert(distinct.size >= 3, 'the reply grew in several steps while streaming: ' + [...distinct].slice(0, 10));
  const last = page.locator('#messages > li.assistant').last();
  assert(await last.evaluate((li) => li.classList.contains('complete') || li.classList.contains('partial')),
         'the streamed reply was replaced by the stored, rendered one');
  assert((await last.locator('.body').innerText()).trim().length > 0, 'reply has text');
  assert(await page.locator('#messages > li.user').first().innerText().then((t) => t.includes('Once upon a time')),
         'the user message is shown');
  assert((await page.locator('#chat-title').innerText()) === 'Once upon a time', 'the heading shows the new title');
  await shot(page, '02-chat-streamed');
});

await test('reload shows the history', async () => {
  const replyBefore = (await page.locator('#messages > li.assistant .body').last().innerText()).trim();
  await page.reload();
  assert(await page.locator('#messages > li').count() === 2, 'two messages after reload');
  const replyAfter = (await page.locator('#messages > li.assistant .body').last().innerText()).trim();
  assert(replyAfter === replyBefore, 'the stored reply is what was streamed');
  assert((await page.title()).startsWith('Once upon a time'), 'chat titled after the first message');
  await page.goto(BASE + '/');
  assert(await page.locator('#chat-list a', { hasText: 'Once upon a time' }).count() === 1, 'listed on the home page');
  await page.goto(chatUrl);
});

await test('<script> and <img onerror> payloads stay inert text', async () => {
  const payload = '<script>window.__xss=1;alert(1)</script> <img src=x onerror="window.__xss=2;alert(2)"> [x](javascript:alert(3))';
  await sendAndWatch(page, payload);
  await page.waitForTimeout(300);
  const check = async () => {
    assert(await page.evaluate(() => window.__xss === undefined), 'no payload ran');
    assert(await page.locator('#messages img, #messages script').count() === 0, 'no img/script elements in messages');
    const userText = await page.locator('#messages > li.user').last().innerText();
    assert(userText.includes('<script>window.__xss=1;alert(1)</script>'), 'shown as text: ' + userText);
    const hrefs = await page.locator('#messages a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert(hrefs.every((h) => !/^\s*javascript:/i.test(h)), 'no javascript: links: ' + hrefs);
  };
  await check();
  await page.reload();
  await page.waitForTimeout(300);
  await check();
  // A hostile title too.
  await page.click('#settings summary');
  await page.fill('input[name=title]', '<img src=x onerror="window.__xss=4;alert(4)">');
  await Promise.all([page.waitForNavigation(), page.click('#rename')]);
  assert((await page.locator('#chat-title').innerText()).includes('<img src=x'), 'title shown as text');
  await page.goto(BASE + '/');
  await page.waitForTimeout(300);
  assert(await page.evaluate(() => window.__xss === undefined), 'title payload did not run on the home page');
  await shot(page, '03-xss-inert');
  assert(problems.filter((p) => p.startsWith('dialog')).length === 0, 'no dialogs: ' + problems);
});

await test('stop a reply mid-stream', async () => {
  await newChat(page);
  // A high temperature keeps the tiny model from ending its story early.
  await page.click('#settings summary');
  await page.fill('input[name=temperature]', '2');
  await Promise.all([page.waitForNavigation(), page.click('#save-settings')]);
  await page.fill('#content', 'Tell me a very long story');
  await page.click('#send');
  await page.waitForFunction(() => {
    const b = document.querySelector('#messages > li.assistant:last-child .body.streaming');
    return b && b.textContent.length > 0;
  }, null, { timeout: 30000 });
  assert(await page.locator('#stop').isVisible(), 'Stop is shown while streaming');
  await page.click('#stop');
  await page.waitForFunction(() => !document.body.classList.contains('streaming'), null, { timeout: 10000 });
  const last = page.locator('#messages > li.assistant').last();
  assert(await last.evaluate((li) => li.classList.contains('partial')), 'the reply is marked partial');
  assert((await last.innerText()).includes('Stopped'), 'and says it was stopped');
  const shown = (await last.locator('.body').innerText()).trim();
  await shot(page, '04-stopped');
  await page.waitForTimeout(500);
  await page.reload();
  const stored = page.locator('#messages > li.assistant').last();
  assert(await stored.evaluate((li) => li.classList.contains('partial')), 'stored as partial');
  assert((await stored.innerText()).includes('Stopped before the end'), 'shown as stopped after reload');
  assert((await stored.locator('.body').innerText()).trim() === shown, 'nothing was generated after the stop');
});

await test('rename and delete a chat', async () => {
  await page.goto(chatUrl);
  await page.click('#settings summary');
  await page.fill('input[name=title]', 'Renamed chat');
  await Promise.all([page.waitForNavigation(), page.click('#rename')]);
  assert((await page.locator('#chat-title').innerText()) === 'Renamed chat', 'renamed');
  await page.goto(BASE + '/');
  assert(await page.locator('#chat-list a', { hasText: 'Renamed chat' }).count() === 1, 'new title listed');
  await page.goto(chatUrl);
  await page.click('#settings summary');
  await shot(page, '05-settings');
  await Promise.all([page.waitForURL(BASE + '/'), page.click('#delete')]);
  assert(await page.locator('#chat-list a', { hasText: 'Renamed chat' }).count() === 0, 'deleted');
  const gone = await page.goto(chatUrl);
  assert(gone.status() === 404, 'the deleted chat is a 404');
});

await test('phone-width layout', async () => {
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
                                           deviceScaleFactor: 2 });
  const p = await phone.newPage();
  guard(p, problems);
  await newChat(p);
  await sendAndWatch(p, 'A story about a **cat** with a `code` word and a long link https://example.com/' + 'a'.repeat(80));
  const m = await p.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth }));
  assert(m.sw <= m.w, `no horizontal scrolling at phone width (${m.sw} > ${m.w})`);
  for (const sel of ['#send', '#content', '#regenerate']) {
    const box = await p.locator(sel).boundingBox();
    assert(box && box.x >= 0 && box.x + box.width <= m.w + 1, sel + ' fits the screen');
  }
  await shot(p, '06-phone-chat');
  await p.goto(BASE + '/');
  await shot(p, '07-phone-home');
  await phone.close();
});

await test('works without JavaScript', async () => {
  const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1024, height: 768 } });
  const p = await nojs.newPage();
  guard(p, problems);
  await p.goto(BASE + '/');
  await Promise.all([p.waitForURL(/\/chats\/chat_/), p.click('#new-chat')]);
  await p.fill('#content', 'Hello without *JavaScript*');
  await Promise.all([p.waitForURL(/\/chats\/chat_[0-9a-f]{32}#msg_/, { timeout: 60000 }), p.click('#send')]);
  assert(await p.locator('#messages > li.user em', { hasText: 'JavaScript' }).count() === 1, 'markdown rendered');
  assert(await p.locator('#messages > li.assistant').count() === 1, 'the whole reply is on the page');
  assert((await p.locator('#messages > li.assistant .body').innerText()).trim().length > 0, 'reply text');
  await Promise.all([p.waitForURL(/\/chats\/chat_[0-9a-f]{32}#msg_/, { timeout: 60000 }), p.click('#regenerate')]);
  assert(await p.locator('#messages > li.assistant').count() === 1, 'regenerate replaced the reply');
  await shot(p, '08-nojs');
  await nojs.close();
});

await test('stored XSS in a title, a system prompt and a message stays inert (list, chat, streamed reply)', async () => {
  const payloads = ['<img src=x onerror=window.__xss=1>', '<script>window.__xss=2</script>',
                    '"><svg onload=window.__xss=3>', "'><iframe src=javascript:window.__xss=4>",
                    '[click](javascript:window.__xss=5)', '<a href="javascript:window.__xss=6">a</a>',
                    '</textarea><script>window.__xss=7</script>', '</title><script>window.__xss=8</script>'];
  const all = payloads.join('\n\n');
  const p = await context.newPage();
  guard(p, problems);
  const url = await newChat(p);
  const inert = async (where) => {
    assert(await p.evaluate(() => window.__xss === undefined), 'a payload ran on ' + where);
    const n = await p.locator('main img, main svg, main iframe, main script, #chat-list img, #chat-list svg').count();
    assert(n === 0, `no element from a payload on ${where} (${n})`);
    const hrefs = await p.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') || ''));
    assert(hrefs.every((h) => !/^\s*(javascript|data):/i.test(h)), 'no javascript:/data: link on ' + where + ': ' + hrefs);
  };
  // System prompt and title through the settings forms.
  await p.click('#settings summary');
  await p.fill('textarea[name=system_prompt]', all);
  await Promise.all([p.waitForNavigation(), p.click('#save-settings')]);
  await p.click('#settings summary');
  await p.fill('input[name=title]', payloads[2] + payloads[0] + payloads[7]);
  await Promise.all([p.waitForNavigation(), p.click('#rename')]);
  await inert('the chat page after the settings');
  assert((await p.inputValue('textarea[name=system_prompt]')) === all, 'the system prompt is kept verbatim');
  // A message, streamed (its reply too), then the page reloaded and the list.
  await sendAndWatch(p, all);
  await inert('the chat page after a streamed reply');
  assert((await p.locator('#messages > li.user').last().innerText()).includes('<script>window.__xss=2</script>'),
         'the message is shown as text');
  const res = await p.goto(url);
  await inert('the reloaded chat page');
  await p.goto(BASE + '/');
  await inert('the home page');
  assert(await p.locator('#chat-list a', { hasText: '"><svg onload' }).count() === 1, 'the title listed as text');
  // The CSP forbids inline script: even markup put into the page by script does not run its handler.
  const csp = res.headers()['content-security-policy'] || '';
  assert(/script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp), 'CSP without inline script: ' + csp);
  await p.goto(url);
  await shot(p, '09-xss-settings-inert');
  await p.close();
  // (An unguarded page: the browser reports the blocked handlers on the console, as it should.)
  const probe = await context.newPage();
  const violations = [];
  probe.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await probe.goto(url);
  await probe.evaluate(() => {
    document.body.insertAdjacentHTML('beforeend', '<img src="data:," onerror="window.__xss=9"><img src=x onerror="window.__xss=10">');
  });
  await probe.waitForFunction(() => Array.from(document.images).every((i) => i.complete), null, { timeout: 10000 });
  await probe.waitForTimeout(200);
  assert(await probe.evaluate(() => window.__xss === undefined), 'the CSP blocked the inline handlers');
  assert(violations.length >= 1, 'and the browser says so: ' + violations.length);
  await probe.close();
  assert(problems.filter((x) => x.startsWith('dialog')).length === 0, 'no dialogs: ' + problems);
});

// A second server with a strict limit (1 reply per minute per session) shows how a 429 looks.
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const BIN = process.env.PARLEY_BIN || path.join(root, 'build/release/parley');
const MODEL = process.env.PARLEY_E2E_MODEL || path.join(root, '../shared/models/stories260K.gguf');

async function startLimitedServer() {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const port = await new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
  const dataDir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'parley-e2e-limits-'));
  const log = fs.openSync(path.join(OUT, 'server-limits.log'), 'w');
  const env = { ...process.env, PARLEY_ACCESS_LOG: 'false' };
  delete env.SESSION_KEY;
  delete env.SESSION_KEYS;
  const child = spawn(BIN, ['serve', '--model', MODEL, '--port', String(port), '--data-dir', dataDir, '--ctx', '1024',
                            '--max-tokens', '40', '--generations-per-minute', '1', '--generation-burst', '1'],
                      { env, stdio: ['ignore', log, log] });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    try { if ((await fetch(base + '/readyz')).ok) break; } catch (e) { /* not yet */ }
    if (child.exitCode !== null) throw new Error('parley serve (limits) exited, see server-limits.log');
    if (Date.now() > deadline) throw new Error('parley serve (limits) not ready in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, stop: () => { child.kill('SIGTERM'); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

await test('a rate-limited send (429) is a clear message in place, with and without JavaScript', async () => {
  const limited = await startLimitedServer();
  try {
    // With JavaScript: the message goes back into the box and the reason is shown under the chat.
    // (The browser logs the refused request on the console: expected here, so only dialogs and
    // page errors count as problems on these pages.)
    const local = [];
    const watch = (pg) => {
      pg.on('dialog', async (d) => { local.push('dialog: ' + d.message()); await d.dismiss(); });
      pg.on('pageerror', (e) => local.push('pageerror: ' + e.message));
    };
    const js = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const p = await js.newPage();
    watch(p);
    await p.goto(limited.base + '/');
    await Promise.all([p.waitForURL(/\/chats\/chat_/), p.click('#new-chat')]);
    await sendAndWatch(p, 'Once upon a time');
    const users = await p.locator('#messages > li.user').count();
    const [refused] = await Promise.all([
      p.waitForResponse((r) => r.url().endsWith('/messages') && r.request().method() === 'POST'),
      (async () => { await p.fill('#content', 'One more, please'); await p.click('#send'); })(),
    ]);
    assert(refused.status() === 429, 'the second send is refused: ' + refused.status());
    assert(Number(refused.headers()['retry-after']) >= 1, 'with Retry-After: ' + refused.headers()['retry-after']);
    await p.waitForFunction(() => /You can send again in \d+ seconds?/.test(document.getElementById('live-status').textContent),
                            null, { timeout: 10000 });
    assert((await p.inputValue('#content')) === 'One more, please', 'the text is back in the box');
    assert(await p.locator('#messages > li.user').count() === users, 'no phantom message');
    assert(!(await p.evaluate(() => document.body.classList.contains('streaming'))), 'not stuck streaming');
    await shot(p, '10-rate-limited-js');
    await js.close();

    // Without JavaScript: the chat page itself, status 429, the reason as an alert above the history.
    const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1024, height: 768 } });
    const q = await nojs.newPage();
    watch(q);
    await q.goto(limited.base + '/');
    await Promise.all([q.waitForURL(/\/chats\/chat_/), q.click('#new-chat')]);
    await q.fill('#content', 'Hello');
    await Promise.all([q.waitForURL(/#msg_/, { timeout: 60000 }), q.click('#send')]);
    await q.fill('#content', 'Again');
    const [page429] = await Promise.all([q.waitForNavigation(), q.click('#send')]);
    assert(page429.status() === 429, 'no-JS send refused with 429: ' + page429.status());
    const alert = await q.locator('.notice[role=alert]').innerText();
    assert(/You can send again in \d+ seconds?/.test(alert), 'the reason in place: ' + alert);
    assert(await q.locator('#composer').count() === 1, 'the chat page, ready to send again');
    assert(await q.locator('#messages > li.user').count() === 1, 'the refused message was not stored');
    await shot(q, '11-rate-limited-nojs');
    await nojs.close();
    assert(local.length === 0, 'no dialogs or page errors: ' + local);
  } finally {
    limited.stop();
  }
});

await browser.close();
const unexpected = problems.filter((p) => !p.includes('404'));
if (unexpected.length) {
  failures++;
  console.log('FAIL browser problems:\n  ' + unexpected.join('\n  '));
}
fs.writeFileSync(path.join(OUT, 'results.txt'), results.join('\n') + '\n');
console.log(failures ? `${failures} e2e failure(s)` : `all ${results.length} e2e tests passed; screenshots in ${OUT}`);
process.exit(failures ? 1 : 0);
