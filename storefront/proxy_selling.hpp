// Assisted selling at the township station (代买代卖): an operator orders or lists for a
// villager who cannot use a phone. First the operator asks for a confirmation of exactly
// what is to be done: a code goes to the phone on the household's card in a text that says
// what it confirms (an order's goods, quantity and total in yuan; a listing's title, price
// and stock), and the villager reads it out at the counter (or the operator reads the text
// to them from a call). Then the order or listing carries that code and the same content;
// the confirmation stores a digest of the content's canonical form (marketplace/proxy.hpp),
// so a code asked for one cart or listing confirms no other. What is done is kept "by
// proxy" with both sides (marketplace/proxy.hpp) and shows in the household's audit trail.
//
//   POST /api/v1/proxy/confirmations {household_id, action: order, order: <a cart>}
//                                    {household_id, action: listing, listing: <a listing>}
//                               202, never the code (an order's total_fen as the text says)
//   POST /api/v1/proxy/orders   {household_id, confirmation_code, order: <the same cart>}
//                               (Idempotency-Key; the operator is the buyer and pays)
//   POST /api/v1/proxy/products {household_id, confirmation_code, listing: <the same listing>}
//                               (into the household's own shop, produced by the household)
//   GET  /api/v1/households/{id}/proxy-actions
//
// The code is checked in the transaction that writes what it confirms, and used up only if
// that commits: an order that fails (out of stock) leaves it for the next try. A wrong code,
// or the right one with other content (422 confirmation_mismatch), writes nothing and costs
// one of the code's tries; a price changed since the villager was told the total is a 409
// confirmation_price_changed. A code confirms once.
#pragma once

#include <chrono>
#include <span>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "messaging/dispatcher.hpp"
#include "storefront/auth.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

// How many characters of a title a villager's text shows (then "…"): texts stay short.
inline constexpr std::size_t kTitleCharsInText = 12;

std::span<const db::Migration> proxy_selling_migrations();

struct ProxySellingContext {
  db::Database& db;
  const Clock& clock;
  Idempotency& idempotency;
  std::chrono::milliseconds payment_window;
  messaging::SmsDispatcher* sms = nullptr;  // woken when a code is queued; null when off
};

void add_proxy_selling_routes(RouteTable& table, ProxySellingContext context);

}  // namespace cunhuo::storefront
