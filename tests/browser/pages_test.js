// Every page of page_list.js in real headless Chromium: it loads with no console error, its
// first visit (an empty cache) costs at most 50 KB without photos, and the pages a phone
// shows most are kept as 360 px wide screenshots.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const support = require('./support');
const pageList = require('./page_list');

const FIRST_VISIT_BUDGET_BYTES = 50 * 1024;
const PHONE = { width: 360, height: 740, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

let server, browser;
const tokens = {};  // by page_list.js `as`
const fixture = {};

before(async () => {
  server = await support.startServer();
  for (const [role, phone] of Object.entries(support.ACCOUNTS))
    tokens[role] = await support.tokenOf(server, phone);
  const listed = await support.listMelon(server, tokens.farmer);
  fixture.product = listed.id;
  const productPage = await (await fetch(`${server.base}/p/${listed.id}`)).text();
  fixture.shop = Number(/href="\/shop\/(\d+)"/.exec(productPage)[1]);
  fixture.lot = /href="\/t\/([A-Za-z0-9]+)"/.exec(productPage)[1];  // the lot's trace page
  browser = await support.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const screenshots = support.artifactsDir('screenshots');
const report = support.figures(__filename);

for (const entry of pageList) {
  const name = typeof entry.path === 'string' ? entry.path
    : entry.path({ product: 'ID', shop: 'ID', lot: 'CODE' });
  test(`${name} loads with no console error in at most 50 KB`, async () => {
    const url = typeof entry.path === 'string' ? entry.path : entry.path(fixture);
    // A context of its own: an empty cache and no cookies, as on a first visit.
    const context = await browser.createBrowserContext();
    try {
      const { page, cdp, errors } = await support.watchedPage(context);
      await page.setViewport(PHONE);
      if (entry.as) {
        assert.ok(tokens[entry.as], `no fixture account for as: '${entry.as}'`);
        await cdp.send('Network.setCookie', {
          name: support.SESSION_COOKIE, value: tokens[entry.as], url: server.base, httpOnly: true,
        });
      }
      const tally = support.countBytes(cdp);
      const response = await page.goto(server.base + encodeURI(url), { waitUntil: 'networkidle0' });
      assert.equal(response.status(), 200, `${url} answered ${response.status()}`);
      assert.equal(new URL(page.url()).pathname, new URL(server.base + encodeURI(url)).pathname,
        `${url} was sent elsewhere`);
      report(`page_bytes ${url} ${tally.bytes}`);
      assert.deepEqual(errors, [], `${url} logged errors`);
      assert.ok(tally.bytes <= FIRST_VISIT_BUDGET_BYTES,
        `${url}: first visit ${tally.bytes} bytes in ${tally.requests} responses`);
      if (entry.screenshot) {
        const file = path.join(screenshots, `${entry.screenshot}-360.png`);
        await page.screenshot({ path: file, fullPage: true });
        report(`screenshot ${url} ${file}`);
      }
    } finally {
      await context.close();
    }
  });
}

// The payer's page is the payment sandbox provider's own (its origin, as WeChat Pay's would
// be), yet it is what a buyer's phone shows between checkout and paid: same budget, same width.
test('the payment sandbox provider\'s payer page loads with no console error in at most 50 KB',
  async () => {
    const ordered = await support.api(server, 'POST', '/api/v1/orders', {
      token: tokens.consumer,
      key: 'pages-test-order',
      body: {
        items: [{ product_id: fixture.product, quantity: 1 }],
        shipping_address: { name: '张三明', phone: '13711112222',
          address: '兰州市城关区某路1号', region_code: '620102' },
      },
    });
    const intent = await support.api(server, 'POST',
      `/api/v1/checkouts/${ordered.checkout_id}/payments`,
      { token: tokens.consumer, key: 'pages-test-pay' });
    const context = await browser.createBrowserContext();
    try {
      const { page, cdp, errors } = await support.watchedPage(context);
      await page.setViewport(PHONE);
      const tally = support.countBytes(cdp);
      const response = await page.goto(intent.pay_url, { waitUntil: 'networkidle0' });
      assert.equal(response.status(), 200, `${intent.pay_url} answered ${response.status()}`);
      assert.match(await page.content(), /确认支付/);
      const button = await page.$eval('#confirm', (b) => b.getBoundingClientRect().height);
      assert.ok(button >= 44, `the pay button is ${button} px tall, under a thumb's 44`);
      report(`page_bytes sandbox-pay ${tally.bytes}`);
      assert.deepEqual(errors, []);
      assert.ok(tally.bytes <= FIRST_VISIT_BUDGET_BYTES,
        `the payer page: ${tally.bytes} bytes in ${tally.requests} responses`);
      const file = path.join(screenshots, 'sandbox-pay-360.png');
      await page.screenshot({ path: file, fullPage: true });
      report(`screenshot sandbox-pay ${file}`);
    } finally {
      await context.close();
    }
  });
