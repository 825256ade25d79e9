// A real browser: Debian's Chromium (headless, driven by playwright-core)
// loads a page served on 127.0.0.1 with two real Monaco editors bound through
// the package to one server, types into both at once (emoji, a CRLF file,
// Enter, undo), and checks that both models, both stores and the server end
// equal, byte for byte. The page also runs the conformance vectors. A
// screenshot is kept in wasm/test-artifacts/browser.png.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { root } from './support.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ttf': 'font/ttf',
};
const SERVED = ['wasm/pkg/', 'wasm/node_modules/', 'wasm/tests/', 'conformance/'];

let server;
let context;
let page;
let base;
const pageErrors = [];
const userDataDir = mkdtempSync(join(tmpdir(), 'velocity-sync-chromium-'));

before(async () => {
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
    if (!SERVED.some((prefix) => path.startsWith(prefix)) || path.includes('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const file = join(root, path);
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 420 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  const consoleLines = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('requestfailed', (request) => consoleLines.push(`failed: ${request.url()}`));
  await page.goto(`${base}/wasm/tests/browser/page.html`);
  try {
    await page.waitForFunction(() => window.ready === true, null, { timeout: 60000 });
  } catch (err) {
    throw new Error(`the page did not get ready: ${err.message}\n${[...pageErrors, ...consoleLines].join('\n')}`);
  }
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(userDataDir, { recursive: true, force: true });
});

const focus = (which) => page.evaluate((w) => window.harness.endOf(w), which);
const settle = async () => {
  for (let i = 0; i < 100; i += 1) {
    await page.evaluate(() => window.harness.quiet());
    const snap = await page.evaluate(() => window.harness.snapshot());
    if (snap.idle.every(Boolean) && snap.models[0] === snap.models[1]) return snap;
    await page.waitForTimeout(20);
  }
  return page.evaluate(() => window.harness.snapshot());
};

test('two Monaco editors typing at once end equal to the server, CRLF kept', async () => {
  const start = await page.evaluate(() => window.harness.snapshot());
  assert.deepEqual(start.eol, ['\r\n', '\r\n']);
  assert.deepEqual(start.exact, [true, true]);
  assert.equal(start.models[0], 'first line\r\nsecond line\r\n');

  // Put A's caret at the end of line 1 and B's at the start of line 2.
  await page.evaluate(() => window.harness.focus(0, 1, 11));
  await page.evaluate(() => window.harness.focus(1, 2, 1));
  const a = [' alpha', ' 😀', ' done'];
  const b = ['beta ', '👩‍👩‍👧 ', 'é '];
  for (let i = 0; i < a.length; i += 1) {
    // Each editor keeps its own caret; messages are in flight between turns.
    await page.evaluate(() => window.harness.focusOnly(0));
    await page.keyboard.type(a[i]);
    await page.evaluate(() => window.harness.focusOnly(1));
    await page.keyboard.type(b[i]);
  }
  await page.evaluate(() => window.harness.focusOnly(0));
  await page.keyboard.press('Enter');
  await page.keyboard.type('third line');
  // Undo in B: the Q goes, A's concurrent typing stays.
  await page.evaluate(() => window.harness.focusOnly(1));
  await page.keyboard.type('Q');
  await page.evaluate(() => window.harness.focusOnly(0));
  await page.keyboard.type('!');
  await page.evaluate(() => window.harness.focusOnly(1));
  await page.keyboard.press('Control+z');

  const end = await settle();
  const [text] = end.models;
  assert.equal(end.models[1], text, `both Monaco models are equal: ${JSON.stringify({ ...end, pageErrors })}`);
  assert.deepEqual(end.stores, [text, text], 'both stores hold the models text');
  assert.equal(end.server, text, 'the server holds the same bytes');
  assert.deepEqual(end.idle, [true, true]);
  assert.equal(new Set(end.manifests).size, 1);
  // Each editor's caret stayed where its user typed through the other's
  // edits, so every run ends with exactly this text; the Q was undone.
  assert.equal(text, 'first line alpha 😀 done\r\nthird line!\r\nbeta 👩‍👩‍👧 é second line\r\n');
  assert.equal(text.split('\r\n').join('').includes('\n'), false, 'no bare LF: CRLF kept');
  assert.equal(text.match(/\r\n/g).length, 3);
  assert.deepEqual(end.eol, ['\r\n', '\r\n']);
  assert.deepEqual(end.resets, [0, 0], 'every remote edit applied through applyEdits, byte-exact');
  // Each editor shows the other's caret where it really is.
  assert.equal(end.presence[0]['2']?.head, end.carets[1], JSON.stringify(end.presence));
  assert.equal(end.presence[1]['1']?.head, end.carets[0], JSON.stringify(end.presence));
  assert.deepEqual(end.panics, []);
  assert.deepEqual(pageErrors, []);
  mkdirSync(join(root, 'wasm/test-artifacts'), { recursive: true });
  await page.evaluate((t) => window.harness.status(`converged: ${JSON.stringify(t)}`), text);
  await page.screenshot({ path: join(root, 'wasm/test-artifacts/browser.png') });
});

test('remote cursors reach the other editor', async () => {
  await page.evaluate(() => window.harness.focus(1, 1, 3));
  const snap = await settle();
  await page.waitForFunction(() => Object.keys(window.harness.snapshot().presence[0]).length > 0);
  const presence = await page.evaluate(() => window.harness.snapshot().presence[0]);
  assert.deepEqual(presence['2'], { head: 2, anchor: 2 }, JSON.stringify(snap.presence));
});

test('a file with mixed line endings opens read-only and keeps its bytes', async () => {
  const result = await page.evaluate(() => window.harness.mixed());
  assert.deepEqual(result, {
    exact: false,
    endings: 'mixed',
    readOnly: true,
    store: 'a\r\nb\nc',
    server: 'a\r\nb\nc',
  });
});

test('the conformance vectors pass in the page', async () => {
  const result = await page.evaluate(() => window.harness.conformance());
  assert.equal(result.missing, undefined, 'conformance/vectors.json was served');
  assert.deepEqual(result.failures, []);
  assert.equal(result.passed, result.total);
  assert.ok(result.total > 100);
});
