// Alleviation over HTTP: exit scores with their reasons, re-scoring an area, the
// evaluation model's versions; and the outbox handlers that re-score a household when
// its card changes or its sales settle.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront {

struct AlleviationContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  std::int64_t exit_notice_ms = 7LL * 24 * 3600 * 1000;
};

void add_alleviation_routes(Router& router, AlleviationContext context);
void subscribe_alleviation_flow(outbox::Dispatcher& dispatcher, const Clock& clock);

}  // namespace cunhuo::storefront
