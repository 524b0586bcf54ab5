// Assisted selling at the township station (代买代卖): an operator orders or lists for a
// villager who cannot use a phone. First the operator asks for a confirmation: a code goes
// to the phone on the household's card (the villager reads it out at the counter, or the
// operator reads it to them from a call). Then the order or listing carries that code;
// without the live code of a confirmation asked for that very action, nothing is written.
// What is done is kept "by proxy" with both sides (marketplace/proxy.hpp) and shows in the
// household's audit trail.
//
//   POST /api/v1/proxy/confirmations {household_id, action: order|listing}   202, no code
//   POST /api/v1/proxy/orders   {household_id, confirmation_code, order: <a cart>}
//                               (Idempotency-Key; the operator is the buyer and pays)
//   POST /api/v1/proxy/products {household_id, confirmation_code, listing: <a listing>}
//                               (into the household's own shop, produced by the household)
//   GET  /api/v1/households/{id}/proxy-actions
//
// A code is checked in a transaction of its own that commits whatever the answer, so a
// wrong guess costs one of the code's tries; a right one is used up even if the order then
// fails (out of stock): the operator asks for another.
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
