// A consumer new to the platform buys in real headless Chromium: puts the farmer's melon in
// the cart as a visitor, signs up with a phone code when checking out (the cart comes
// along), pays in the payment sandbox, sees the order paid, and confirms receipt once the
// parcel is delivered. The farmer's income page then shows the sale's line.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const support = require('./support');

const NEW_BUYER = '13700000088';
const CENTRE = '13900000006';
const ADMIN = '13900000008';

let server, browser;

before(async () => {
  server = await support.startServer();
  browser = await support.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

// The new buyer signs up on /login by a code sent to their phone, and comes back to `next`.
async function signUpByCode(page) {
  const before = await support.lastSmsId(server, NEW_BUYER);
  await page.type('#phone', NEW_BUYER);
  await submit(page, 'form[action="/login/code"] button');
  await page.type('#code', await support.smsCode(server, NEW_BUYER, before));
  await submit(page, 'form[action="/login"] button');
}

// The parcel leaves its station and reaches the buyer, scanned as the stations would.
async function deliver(orderId) {
  const centre = await support.tokenOf(server, CENTRE);
  const admin = await support.tokenOf(server, ADMIN);
  let parcels = [];
  await support.waitFor(async () => {
    parcels = (await support.api(server, 'GET', `/api/v1/orders/${orderId}/shipments`,
      { token: centre })).shipments;
    return parcels.length > 0;
  }, 'the parcels of the paid order');
  for (const p of parcels) {
    const scans = `/api/v1/shipments/${p.tracking_number}/scans`;
    await support.api(server, 'POST', scans, {
      token: centre,
      body: { node_code: p.origin, biz_step: 'departing', disposition: 'in_transit' },
    });
    await support.api(server, 'POST', scans, {
      token: admin,
      body: { node_code: p.destination, biz_step: 'delivering', disposition: 'delivered' },
    });
  }
}

test('a consumer signs up at checkout, pays in the sandbox, confirms receipt; ' +
     'the farmer sees the income', async () => {
  const melon = await support.listMelon(server, await support.tokenOf(server, support.FARMER));
  const context = await browser.createBrowserContext();
  const { page, errors } = await support.watchedPage(context);

  await page.goto(`${server.base}/p/${melon.id}`);
  await submit(page, 'form[action="/cart/add"] button');
  assert.match(await page.content(), /民勤沙漠蜜瓜/);

  await page.goto(`${server.base}/checkout`);  // signed out: to /login, then back here
  assert.match(page.url(), /\/login\?next=/);
  await signUpByCode(page);
  assert.match(page.url(), /\/checkout$/);
  assert.match(await page.content(), /民勤沙漠蜜瓜/, 'the cart came along through sign-up');
  await page.type('#name', '张三明');
  await page.type('#phone', '13711112222');
  await page.type('#address', '兰州市城关区某路1号');
  await page.type('#region_code', '620102');
  await submit(page, 'form[action="/checkout"] button');
  assert.match(page.url(), /\/checkouts\/\d+$/);

  await submit(page, 'form[action$="/pay"] button');
  assert.match(page.url(), /\/pay\/wx/);  // the sandbox provider's page, its own origin
  await submit(page, '#confirm');
  assert.match(page.url(), /\/orders$/);
  const orderId = /href="\/orders\/(\d+)"/.exec(await page.content())[1];
  await support.waitFor(async () => {
    await page.goto(`${server.base}/orders/${orderId}`);
    return (await page.content()).includes('已付款');
  }, 'the order shown paid');

  await deliver(orderId);
  await support.waitFor(async () => {
    await page.goto(`${server.base}/orders/${orderId}`);
    return (await page.$(`form[action="/orders/${orderId}/confirm"] button`)) !== null;
  }, 'the order confirmable once delivered');
  await submit(page, `form[action="/orders/${orderId}/confirm"] button`);
  assert.match(await page.content(), /已确认收货/);
  assert.deepEqual(errors, []);

  const farmer = await browser.createBrowserContext();
  const farm = await farmer.newPage();
  await farm.setCookie({
    name: support.SESSION_COOKIE,
    value: await support.tokenOf(server, support.FARMER),
    url: server.base,
  });
  await support.waitFor(async () => {
    await farm.goto(`${server.base}/farm/income`);
    const line = await farm.$eval('#lines', (t) => t.textContent).catch(() => '');
    return line.includes(`#${orderId}`) && line.includes('民勤沙漠蜜瓜');
  }, 'the sale on the farmer\'s income page');
  await farmer.close();
  await context.close();
});
