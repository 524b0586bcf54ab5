// The county centre's board (/centre) in real headless Chromium, kept current by live.js
// from the live feed (/live) without a reload: an order paid in another session shows
// within 1 s of the payment's answer; a warm reading for a cold store makes its excursion
// appear with its chart within 1 s; and after the feed's connection is lost and found again,
// the events missed meanwhile are in the page's log (动态).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const support = require('./support');

const LIVE_MS = 1000;          // from the API's answer to the board showing it
const FIRST_VISIT_BUDGET_BYTES = 150 * 1024;  // an operations page's first visit
const RECONNECT_MS = 20_000;   // a dropped feed is retried with growing pauses
const COLD_STORE = 'MQ-CS-XQ', SENSOR = 'MQ-CS-XQ-T1';  // 西渠镇's, 0–4 °C
const ADDRESS = {
  name: '张三明', phone: '13711112222', address: '兰州市城关区某路1号', region_code: '620102',
};

const report = support.figures(__filename);
let server, browser, centre, consumer, farmer;

before(async () => {
  server = await support.startServer();
  browser = await support.launchBrowser();
  centre = await support.tokenOf(server, support.ACCOUNTS.centre);
  consumer = await support.tokenOf(server, support.ACCOUNTS.consumer);
  farmer = await support.tokenOf(server, support.FARMER);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// A POST with an Idempotency-Key (orders, payments), answered as JSON.
async function keyedPost(url, token, key, body) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}`,
    'Idempotency-Key': key };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const reply = await fetch(server.base + url,
    { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`POST ${url}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

let placed = 0;
// The consumer orders two melons and starts paying; `pay()` confirms it on the sandbox's page.
async function orderMelons() {
  placed += 1;
  const melon = await support.listMelon(server, farmer);
  const order = await keyedPost('/api/v1/orders', consumer, `centre-order-${placed}`,
    { items: [{ product_id: melon.id, quantity: 2 }], shipping_address: ADDRESS });
  const intent = await keyedPost(`/api/v1/checkouts/${order.checkout_id}/payments`, consumer,
    `centre-pay-${placed}`);
  return {
    id: order.orders[0].id,
    pay: () => support.payOnSandbox(intent.pay_url),
  };
}

async function orderStatus(id) {
  return (await support.api(server, 'GET', `/api/v1/orders/${id}`, { token: consumer })).status;
}

// The board open as the centre, its feed connected. Each socket the page opens is kept in
// window.__sockets, so that a test may close it as a dropped line would.
async function openBoard(context) {
  const watched = await support.watchedPage(context);
  await watched.page.evaluateOnNewDocument(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = function WebSocket(url, protocols) {
      const socket = new Native(url, protocols);
      window.__sockets.push(socket);
      return socket;
    };
    window.WebSocket.prototype = Native.prototype;
  });
  await watched.cdp.send('Network.setCookie', {
    name: support.SESSION_COOKIE, value: centre, url: server.base, httpOnly: true,
  });
  await watched.page.goto(`${server.base}/centre`);
  await watched.page.waitForSelector('#live[data-state="live"]');
  return watched;
}

const paidCount = () => {
  const b = document.querySelector('#today li[data-status="paid"] b');
  return b ? Number(b.textContent) : 0;
};

test('an order paid in another session shows on the board within 1 s', async () => {
  const context = await browser.createBrowserContext();
  try {
    const { page, errors } = await openBoard(context);
    const before = await page.evaluate(paidCount);
    const order = await orderMelons();
    await order.pay();
    const answered = Date.now();
    await page.waitForFunction(`(${paidCount})() === ${before + 1}`, { timeout: LIVE_MS });
    report(`centre_paid_order_shown_ms ${Date.now() - answered}`);
    assert.equal(await page.$eval('#live-log li', (li) => li.dataset.type), 'order.paid');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a warm reading for a cold store shows its excursion with its chart within 1 s',
  async () => {
    const order = await orderMelons();
    await order.pay();
    await support.waitFor(async () => (await orderStatus(order.id)) === 'paid', 'order paid');
    let number;
    await support.waitFor(async () => {
      const found = await support.api(server, 'GET', `/api/v1/orders/${order.id}/shipments`,
        { token: centre });
      number = found.shipments[0] && found.shipments[0].tracking_number;
      return Boolean(number);
    }, 'its parcel');
    const scan = (node, step, disposition = 'in_transit') => support.api(server, 'POST',
      `/api/v1/shipments/${number}/scans`,
      { token: centre, body: { node_code: node, biz_step: step, disposition } });
    await scan('MQ-VP-XQ01', 'departing');
    await scan('MQ-TS-XQ', 'arriving');
    await scan(COLD_STORE, 'storing', 'in_progress');

    const context = await browser.createBrowserContext();
    try {
      const { page, errors } = await openBoard(context);
      assert.equal(await page.$$eval('#excursions article', (a) => a.length), 0);
      // 12 °C for 40 minutes: longer than chilled goods may bear.
      const now = Date.now();
      const readings = [{ sensor: SENSOR, at_ms: now - 45 * 60_000, centi: 300 }];
      for (let i = 0; i < 9; i++)
        readings.push({ sensor: SENSOR, at_ms: now - (40 - 5 * i) * 60_000, centi: 1200 });
      const ingested = await support.api(server, 'POST', '/api/v1/telemetry',
        { token: centre, body: { readings } });
      const answered = Date.now();
      assert.equal(ingested.excursions.length, 1);
      const id = ingested.excursions[0];
      await page.waitForFunction(
        `document.querySelector('#excursion-${id} figure.chart svg') !== null`,
        { timeout: LIVE_MS });
      report(`centre_excursion_shown_ms ${Date.now() - answered}`);
      const text = await page.$eval(`#excursion-${id}`, (e) => e.textContent);
      assert.match(text, new RegExp(number));
      assert.equal(await page.$eval('#live-log li', (li) => li.dataset.type), 'excursion.raised');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

test('after the feed drops and reconnects, the log shows the events missed meanwhile',
  async () => {
    const context = await browser.createBrowserContext();
    try {
      const { page, cdp, errors } = await openBoard(context);
      // The line goes down: the socket closes and no new one can open.
      await cdp.send('Network.emulateNetworkConditions',
        { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await page.evaluate(() => window.__sockets[window.__sockets.length - 1].close());
      await page.waitForSelector('#live[data-state="dropped"]');

      const order = await orderMelons();
      await order.pay();
      await support.waitFor(async () => (await orderStatus(order.id)) === 'paid', 'order paid');
      assert.notEqual(await page.$eval('#live', (e) => e.dataset.state), 'live',
        'the feed stayed down while the order was paid');
      const logged = `#live-log li[data-type="order.paid"]`;
      assert.equal(await page.$$eval(logged, (l) => l.length), 0);

      await cdp.send('Network.emulateNetworkConditions',
        { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await page.waitForFunction(
        (sel, id) => [...document.querySelectorAll(sel)].some((li) => li.textContent.includes(`#${id}`)),
        { timeout: RECONNECT_MS }, logged, order.id);
      assert.equal(await page.$eval('#live', (e) => e.dataset.state), 'live');
      // Chromium reports each connection refused while the line was down; nothing else.
      const unexpected = errors.filter((e) => !/WebSocket connection|ERR_INTERNET_DISCONNECTED/.test(e));
      assert.deepEqual(unexpected, []);
    } finally {
      await context.close();
    }
  });

test('the centre\'s records load with no console error in at most 150 KB', async () => {
  const order = await orderMelons();
  await order.pay();
  await support.waitFor(async () => (await orderStatus(order.id)) === 'paid', 'order paid');
  let number;
  await support.waitFor(async () => {
    const found = await support.api(server, 'GET', `/api/v1/orders/${order.id}/shipments`,
      { token: centre });
    number = found.shipments[0] && found.shipments[0].tracking_number;
    return Boolean(number);
  }, 'its parcel');
  for (const path of ['/centre', `/centre/orders/${order.id}`, `/centre/shipments/${number}`,
    '/centre/households/1']) {
    // A context of its own: an empty cache, as on a first visit.
    const context = await browser.createBrowserContext();
    try {
      const { page, cdp, errors } = await support.watchedPage(context);
      const tally = support.countBytes(cdp);
      await cdp.send('Network.setCookie', {
        name: support.SESSION_COOKIE, value: centre, url: server.base, httpOnly: true,
      });
      const reply = await page.goto(`${server.base}${path}`, { waitUntil: 'load' });
      assert.equal(reply.status(), 200, path);
      if (path === '/centre') await page.waitForSelector('#live[data-state="live"]');
      report(`page_bytes ${path.replace(/\d+|CH\w+/g, 'ID')} ${tally.bytes}`);
      assert.ok(tally.bytes <= FIRST_VISIT_BUDGET_BYTES, `${path}: ${tally.bytes} bytes`);
      assert.deepEqual(errors, [], path);
    } finally {
      await context.close();
    }
  }
});
