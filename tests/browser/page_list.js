// Every page the browser tests visit, in one place: a page added to the site gets a line here.
//   path: the URL path, or a function of the fixture pages_test.js makes before the pages
//         ({product, shop, lot}; add what a new page needs there) that gives it;
//   as: the account a page behind sign-in is visited as: 'farmer' (13900000001),
//       'consumer' (13900000003), 'org_buyer' (13900000004), 'coop' (13900000002, 西渠
//       cooperative's manager), 'station' (13900000005, 西渠镇's station operator),
//       'centre' (13900000006), 'office' (13900000007, the county's poverty-alleviation
//       office) or 'helper' (13600000001), from support.js ACCOUNTS;
//   screenshot: a file name, when a 360 px wide screenshot is kept as a test artefact.
'use strict';

module.exports = [
  { path: '/', screenshot: 'home' },
  { path: '/search?q=蜜瓜' },
  { path: (f) => `/p/${f.product}`, screenshot: 'product' },
  { path: (f) => `/shop/${f.shop}` },
  { path: '/village/620621104201' },
  { path: '/login' },
  { path: '/farm', as: 'farmer', screenshot: 'farm' },
  { path: '/farm/list', as: 'farmer', screenshot: 'farm-list' },
  { path: '/farm/listings', as: 'farmer' },
  { path: '/farm/income', as: 'farmer' },
  { path: (f) => `/t/${f.lot}`, screenshot: 'trace' },
  { path: '/cart', as: 'consumer' },
  { path: '/orders', as: 'consumer' },
  // wp-org: the organisation buyer's pages
  { path: '/org', as: 'org_buyer', screenshot: 'org' },
  { path: '/org/order', as: 'org_buyer', screenshot: 'org-order' },
  { path: '/org/orders', as: 'org_buyer' },
  { path: '/org/invoices', as: 'org_buyer' },
  // The cooperative manager's pages.
  { path: '/coop', as: 'coop', screenshot: 'coop' },
  { path: '/coop/members', as: 'coop' },
  { path: '/coop/list', as: 'coop' },
  { path: '/coop/listings', as: 'coop' },
  { path: '/coop/orders', as: 'coop' },
  { path: '/coop/income', as: 'coop' },
  // The county centre's board (live.js keeps it current from /live).
  { path: '/centre', as: 'centre', screenshot: 'centre' },
  // The township station operator's pages (13900000005, 西渠镇's station).
  { path: '/station', as: 'station', screenshot: 'station-home' },
  { path: '/station/handover', as: 'station' },
  { path: '/station/runs', as: 'station' },
  // The poverty-alleviation office's and the helper's workbench.
  { path: '/office', as: 'office', screenshot: 'office' },
  { path: '/office/households/1', as: 'office', screenshot: 'office-household' },
  { path: '/office/funds', as: 'office' },
  { path: '/office/statistics', as: 'office', screenshot: 'office-statistics' },
  { path: '/helper', as: 'helper', screenshot: 'helper' },
];
