// Browser end-to-end tests of the Parley UI in a real headless Chromium (issue 5):
// create a chat, send a message and watch the reply stream, reload and find the history, stop a
// reply mid-stream, rename and delete, the no-JavaScript path, <script>/<img onerror> payloads stay
// inert, phone-width layout. Screenshots of the main screens go to $OUT_DIR.
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

await browser.close();
const unexpected = problems.filter((p) => !p.includes('404'));
if (unexpected.length) {
  failures++;
  console.log('FAIL browser problems:\n  ' + unexpected.join('\n  '));
}
fs.writeFileSync(path.join(OUT, 'results.txt'), results.join('\n') + '\n');
console.log(failures ? `${failures} e2e failure(s)` : `all ${results.length} e2e tests passed; screenshots in ${OUT}`);
process.exit(failures ? 1 : 0);
