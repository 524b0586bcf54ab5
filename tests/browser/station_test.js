// A township station's operator at the counter, in real headless Chromium: the label of a
// paid order (its QR code as the farmer's label page draws it, photographed to a PNG) is
// scanned on /station by a photo read on the server, and a second one by typing its number
// and pressing Enter as a USB scanner does; each parcel moves from "arriving" to "in store".
// The first visit stays within an operations page's 150 KB, with no console error.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const support = require('./support');

const STATION_OPERATOR = '13900000005';  // 西渠镇's station, MQ-TS-XQ
const CONSUMER = '13900000003';
const OPERATIONS_BUDGET_BYTES = 150 * 1024;

let server, browser, tokens;
const report = support.figures(__filename);

before(async () => {
  server = await support.startServer();
  browser = await support.launchBrowser();
  tokens = {
    farmer: await support.tokenOf(server, support.FARMER),
    consumer: await support.tokenOf(server, CONSUMER),
    station: await support.tokenOf(server, STATION_OPERATOR),
  };
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function post(url, token, body, key) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (key) headers['Idempotency-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const reply = await fetch(server.base + url,
    { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.text();
  assert.ok(reply.ok, `POST ${url}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

// The consumer buys the farmer's melon and pays in the sandbox; the outbox makes its parcel.
async function paidParcel() {
  const listed = await support.listMelon(server, tokens.farmer);
  const ordered = await post('/api/v1/orders', tokens.consumer, {
    items: [{ product_id: listed.id, quantity: 1 }],
    shipping_address: { name: '张三明', phone: '13711112222', address: '兰州市城关区某路1号',
      region_code: '620102' },
  }, `order-${listed.id}`);
  const order = ordered.orders[0].id;
  const intent = await post(`/api/v1/checkouts/${ordered.checkout_id}/payments`, tokens.consumer,
    undefined, `pay-${ordered.checkout_id}`);
  await support.payOnSandbox(intent.pay_url);
  let number = null;
  await support.waitFor(async () => {
    const s = await support.api(server, 'GET', `/api/v1/orders/${order}/shipments`,
      { token: tokens.consumer });
    if (s.shipments.length === 0) return false;
    number = s.shipments[0].tracking_number;
    return true;
  }, `order ${order}'s parcel`);
  return { order, number };
}

async function signedIn(context, token) {
  const watched = await support.watchedPage(context);
  await watched.cdp.send('Network.setCookie',
    { name: support.SESSION_COOKIE, value: token, url: server.base, httpOnly: true });
  return watched;
}

// The tracking numbers a list of /station shows.
async function listed(page, id) {
  return page.$$eval(`#${id} td.num`, (cells) => cells.map((c) => c.textContent.trim()));
}

test('a photo of the label\'s QR code scans the parcel in: it moves from arriving to in store',
  async () => {
    const parcel = await paidParcel();
    // The label as the farmer prints it; its QR code photographed to a PNG.
    const farmerContext = await browser.createBrowserContext();
    const photo = path.join(server.dir, 'label-qr.png');
    try {
      const { page } = await signedIn(farmerContext, tokens.farmer);
      await page.goto(`${server.base}/farm/orders/${parcel.order}/label`);
      const qr = await page.$('.label svg.qr');
      assert.ok(qr, 'the label page draws a QR code');
      await qr.screenshot({ path: photo });
    } finally {
      await farmerContext.close();
    }
    const context = await browser.createBrowserContext();
    try {
      const { page, cdp, errors } = await signedIn(context, tokens.station);
      await page.setViewport({ width: 360, height: 740, isMobile: true, hasTouch: true });
      const tally = support.countBytes(cdp);
      await page.goto(`${server.base}/station`, { waitUntil: 'networkidle0' });
      report(`page_bytes /station ${tally.bytes}`);
      assert.ok(tally.bytes <= OPERATIONS_BUDGET_BYTES, `first visit ${tally.bytes} bytes`);
      report(`barcode_detector ${await page.evaluate(() => typeof BarcodeDetector)}`);
      assert.ok((await listed(page, 'arriving')).includes(parcel.number), 'arriving before');
      assert.ok(!(await listed(page, 'in_store')).includes(parcel.number));
      await (await page.$('#photo')).uploadFile(photo);
      await Promise.all([page.waitForNavigation(), page.click('button[value="arriving"]')]);
      assert.match(await page.$eval('#done', (e) => e.textContent), new RegExp(parcel.number));
      assert.ok(!(await listed(page, 'arriving')).includes(parcel.number), 'not arriving after');
      assert.ok((await listed(page, 'in_store')).includes(parcel.number), 'in store after');
      await page.screenshot({ path: path.join(support.artifactsDir('screenshots'),
        'station-360.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

test('a USB scanner types the number and presses Enter: the parcel is scanned in',
  async () => {
    const parcel = await paidParcel();
    const context = await browser.createBrowserContext();
    try {
      const { page, errors } = await signedIn(context, tokens.station);
      await page.goto(`${server.base}/station`);
      assert.ok((await listed(page, 'arriving')).includes(parcel.number), 'arriving before');
      await page.focus('#label');
      await page.keyboard.type(parcel.number);
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.ok((await listed(page, 'in_store')).includes(parcel.number), 'in store after');
      // An unknown label is answered in Chinese and nothing moves.
      await page.type('#label', 'CH000000000000');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.match(await page.$eval('#error', (e) => e.textContent), /找不到这个面单/);
      assert.ok((await listed(page, 'in_store')).includes(parcel.number));
      assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), []);
    } finally {
      await context.close();
    }
  });

test('the day\'s pickup runs are planned and printed as a route sheet', async () => {
  const parcel = await paidParcel();
  const context = await browser.createBrowserContext();
  try {
    const { page, errors } = await signedIn(context, tokens.station);
    await page.goto(`${server.base}/station/runs`);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/station/runs"] button')]);
    await Promise.all([page.waitForNavigation(), page.click('#sheet')]);
    assert.match(new URL(page.url()).pathname, /^\/station\/runs\/\d{4}-\d\d-\d\d\/sheet$/);
    const stops = await page.$$eval('table.sheet tbody tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(stops.some((s) => s.includes(parcel.number)), 'the parcel is on its stop');
    assert.ok((await page.$$('td.stop-qr svg.qr')).length >= 1, 'a QR code per stop');
    await page.emulateMediaType('print');
    await page.screenshot({ path: path.join(support.artifactsDir('screenshots'),
      'station-sheet-print.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
