// An organisation buyer types quantities on the bulk order form (/org/order) in real headless
// Chromium: site.js shows the running total and the budget left as they are typed, with no
// round trip to the server (without JavaScript the 计算 button does the same).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const support = require('./support');

const BUDGET_FEN = 50000000;  // the fixture's public unit (seeds/fixture/seed.json)
const MELON_FEN = 3980;       // support.listMelon's price

let server, browser;

before(async () => {
  server = await support.startServer();
  browser = await support.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;

test('the bulk order form totals the typed quantities and shows the budget left', async () => {
  const melon = await support.listMelon(server, await support.tokenOf(server, support.FARMER));
  const token = await support.tokenOf(server, support.ACCOUNTS.org_buyer);
  const context = await browser.createBrowserContext();
  try {
    const { page, cdp, errors } = await support.watchedPage(context);
    await cdp.send('Network.setCookie', {
      name: support.SESSION_COOKIE, value: token, url: server.base, httpOnly: true,
    });
    await page.goto(`${server.base}/org/order`, { waitUntil: 'networkidle0' });
    let asked = 0;
    page.on('request', () => { asked += 1; });
    await page.type(`input[name="q${melon.id}"]`, '3');
    assert.equal(await page.$eval('#total', (e) => e.textContent), yuan(3 * MELON_FEN));
    assert.equal(await page.$eval('#left', (e) => e.textContent), yuan(BUDGET_FEN - 3 * MELON_FEN));
    assert.equal(asked, 0, 'the total was worked out in the page');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
