// What the browser tests share: a cunhuo server of their own (fixture seed, temporary data
// directory, a port the kernel picks), Debian's headless Chromium driven by puppeteer-core,
// the slow rural line the pages are written for, and a count of the bytes a page costs.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('../tools/node_modules/puppeteer-core');

const CHROMIUM = process.env.CUNHUO_CHROMIUM || '/usr/bin/chromium';
const FARMER = '13900000001';
// The fixture seed's accounts a page may be visited as (page_list.js `as`).
const ACCOUNTS = {
  farmer: FARMER,
  consumer: '13900000003',
  org_buyer: '13900000004',
  coop: '13900000002',
  centre: '13900000006',  // the county e-commerce centre of 民勤县 (620621)
  station: '13900000005',
  // The county's poverty-alleviation office and a helper (帮扶责任人) of households 1 and 2.
  office: '13900000007',
  helper: '13600000001',
};
const FIXTURE_PASSWORD = 'cunhuo-demo';
const SESSION_COOKIE = 'cunhuo_session';
// Bounded waits: generous for a loaded 2-core machine and a sanitized build.
const START_TIMEOUT_MS = 60_000;
const WAIT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

// The line a farmer's phone has in the village: 250 kbit/s down, 150 kbit/s up, 300 ms.
const RURAL_LINE = {
  offline: false,
  latency: 300,
  downloadThroughput: (250 * 1000) / 8,
  uploadThroughput: (150 * 1000) / 8,
};

function artifactsDir(...parts) {
  const root = process.env.CUNHUO_ARTIFACTS || path.join(os.tmpdir(), 'cunhuo-browser-artifacts');
  const dir = path.join(root, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// Prints a figure as a line `BROWSER ...` (in the test's output: ctest -V, or
// Testing/Temporary/LastTest.log) and keeps it in <artifacts>/figures/<test file>.txt.
function figures(testFile) {
  const out = path.join(artifactsDir('figures'), `${path.basename(testFile, '.js')}.txt`);
  fs.writeFileSync(out, '');
  return (line) => {
    console.log(`BROWSER ${line}`);
    fs.appendFileSync(out, `BROWSER ${line}\n`);
  };
}

// Starts `cunhuo serve` on 127.0.0.1:0 and reads the bound port from its log.
async function startServer() {
  const binary = process.env.CUNHUO_BINARY;
  if (!binary) throw new Error('CUNHUO_BINARY must name the cunhuo server binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cunhuo-browser-'));
  const child = spawn(binary, ['serve', '--db', `sqlite:${dir}/db.sqlite`, '--seed', 'fixture',
    '--data-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'info'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (error) => done({ error: error.message }));  // e.g. no such binary
  });
  const port = await new Promise((done, failed) => {
    const late = () => failed(new Error(`no port within ${START_TIMEOUT_MS} ms:\n${log}`));
    const timer = setTimeout(late, START_TIMEOUT_MS);
    const read = (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); done(Number(m[1])); }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    exited.then((e) => {
      clearTimeout(timer);
      failed(new Error(`server exited ${JSON.stringify(e)}:\n${log}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'GET /healthz');
  return {
    base,
    dir,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer;
      const late = new Promise((r) => { timer = setTimeout(r, STOP_TIMEOUT_MS, null); });
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (result === null) { child.kill('SIGKILL'); await exited; }
      // A server that did not stop cleanly (a sanitizer's report, a crash) fails the file.
      if (result === null || result.code !== 0)
        throw new Error(`server stopped with ${JSON.stringify(result)}:\n${log.slice(-4000)}`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Polls `check` until it is true (a server-side state with no event to wait on), bounded.
async function waitFor(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch (e) { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// `key` is the Idempotency-Key the money-moving and order-creating POSTs take.
async function api(server, method, url, { token, body, key } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers['Idempotency-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const reply = await fetch(server.base + url,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`${method} ${url}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

// The payer confirms on the payment sandbox's page that an intent's pay_url opens (the
// sandbox provider's own origin, http://127.0.0.1:PORT/pay/<prepay_id>).
async function payOnSandbox(payUrl) {
  const reply = await fetch(`${payUrl}/confirm`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' } });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`paying on the sandbox: ${reply.status} ${text}`);
  return JSON.parse(text);
}

// A session (API token, and the page's session cookie) of a fixture account.
async function tokenOf(server, phone) {
  const session = await api(server, 'POST', '/api/v1/sessions',
    { body: { phone, password: FIXTURE_PASSWORD } });
  return session.token;
}

// A product of the fixture farmer's household, listed through the API as the C++ tests do.
async function listMelon(server, token) {
  return api(server, 'POST', '/api/v1/products', {
    token,
    body: {
      title: '民勤沙漠蜜瓜 5斤装', category: '水果', unit: 'box', price_fen: 3980, stock: 5,
      temperature_class: 'chilled', shelf_life_days: 20, harvest_date: '2026-08-20',
      lot: 'MQ-2026-0820', origin_code: '620621104201', origin_name: '甘肃民勤',
      producers: [{ household_id: 1, share_bps: 10000 }],
    },
  });
}

// The latest sign-in code the SMS sandbox holds for `phone` (loopback only).
async function smsCode(server, phone, after = 0) {
  let code = null;
  await waitFor(async () => {
    const inbox = await api(server, 'GET', `/sim/sms?phone=${phone}`);
    const fresh = inbox.items.filter((m) => m.id > after);
    if (fresh.length === 0) return false;
    code = /\d{6}/.exec(fresh[0].text)[0];
    return true;
  }, `a text message to ${phone}`);
  return code;
}

async function lastSmsId(server, phone) {
  const inbox = await api(server, 'GET', `/sim/sms?phone=${phone}`);
  return inbox.items.reduce((max, m) => Math.max(max, m.id), 0);
}

function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    protocolTimeout: 120_000,
  });
}

// A page whose console errors and uncaught exceptions are collected in `errors`.
async function watchedPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  return { page, cdp, errors };
}

async function emulateLine(cdp, line) {
  await cdp.send('Network.emulateNetworkConditions', line);
}

// Counts every response's encoded bytes (headers and body as they came over the wire),
// photos apart, from CDP's own network events.
function countBytes(cdp) {
  const types = new Map();
  const tally = { bytes: 0, images: 0, requests: 0 };
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    if (types.get(e.requestId) === 'Image') { tally.images += e.encodedDataLength; return; }
    tally.bytes += e.encodedDataLength;
    tally.requests += 1;
  });
  return tally;
}

// The fixture farmer signs in by code on /login, as on a phone.
async function signInByCode(server, page, next) {
  const before = await lastSmsId(server, FARMER);
  await page.goto(`${server.base}/login?next=${encodeURIComponent(next)}`);
  await page.type('#phone', FARMER);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login/code"] button')]);
  const code = await smsCode(server, FARMER, before);
  await page.type('#code', code);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
}

module.exports = {
  FARMER, ACCOUNTS, SESSION_COOKIE, RURAL_LINE, WAIT_MS, artifactsDir, figures, startServer,
  waitFor, api, tokenOf, listMelon, smsCode, launchBrowser, watchedPage, emulateLine, countBytes,
  signInByCode, lastSmsId, payOnSandbox,
};
