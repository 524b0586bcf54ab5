// The county's poverty-alleviation office closes a monitoring alert from /office in real
// headless Chromium: it types the reason, picks the outcome, and the alert is closed as the
// API closes it; without a reason the page says why and nothing is written.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const support = require('./support');

let server, browser;

before(async () => {
  server = await support.startServer();
  browser = await support.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('the office closes an alert from its queue with a reason', async () => {
  const token = await support.tokenOf(server, support.ACCOUNTS.office);
  // A large medical expense on 张 (household 3, at risk) opens alerts.
  const opened = await support.api(server, 'POST', '/api/v1/households/3/expenses',
    { token, body: { kind: 'medical', amount_fen: 3000000, note: '住院' } });
  const alert = opened.alerts[0];
  const form = `form[action="/office/alerts/${alert}/close"]`;
  const context = await browser.createBrowserContext();
  try {
    const { page, cdp, errors } = await support.watchedPage(context);
    await cdp.send('Network.setCookie', {
      name: support.SESSION_COOKIE, value: token, url: server.base, httpOnly: true,
    });
    await page.goto(`${server.base}/office`, { waitUntil: 'networkidle0' });
    // Without a reason: refused on the page, the alert still open.
    await Promise.all([page.waitForNavigation(), page.click(`${form} button`)]);
    assert.match(await page.content(), /请填写理由。/);
    await page.select(`${form} select[name="outcome"]`, 'help_given');
    await page.type(`${form} input[name="reason"]`, '已落实临时救助');
    await Promise.all([page.waitForNavigation(), page.click(`${form} button`)]);
    assert.match(await page.content(), /已处理。/);
    const closed = await support.api(server, 'GET', '/api/v1/alerts?status=closed', { token });
    const found = closed.alerts.find((a) => a.id === alert);
    assert.ok(found, 'the alert is closed');
    assert.equal(found.outcome, 'help_given');
    assert.ok(found.history.some((h) => h.includes('已落实临时救助')));
    // The one refusal the test asked for (400) is the only thing logged.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
  } finally {
    await context.close();
  }
});
