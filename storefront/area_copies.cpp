#include "storefront/area_copies.hpp"

#include <spdlog/spdlog.h>

#include "alleviation/work_queue.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/registry.hpp"
#include "payments/work_queue.hpp"

namespace cunhuo::storefront {
namespace {

static_assert(kAreaFillBatch <= static_cast<int>(marketplace::kMaxPlacesPerCall));

// One batch of paid orders without an area; returns the last order id looked at.
Result<std::optional<std::int64_t>> fill_orders(db::Session& tx, std::int64_t after,
                                                std::int64_t& filled) {
  const auto ids = CUNHUO_TRY(payments::paid_orders_without_area(tx, after, kAreaFillBatch));
  if (ids.empty()) return std::optional<std::int64_t>();
  for (const auto& o : CUNHUO_TRY(marketplace::order_summaries(tx, ids, {}))) {
    if (o.shop_village.empty()) continue;
    CUNHUO_CHECK(payments::set_order_area(tx, o.id.value, o.shop_village));
    ++filled;
  }
  return std::optional<std::int64_t>(ids.back());
}

}  // namespace

Status fill_area_copies(db::Database& db) {
  std::int64_t orders = 0, proposal_batches = 0;
  for (std::optional<std::int64_t> after = 0; after;)
    after = CUNHUO_TRY(db.write([&](db::Session& tx) { return fill_orders(tx, *after, orders); }));
  for (std::optional<std::int64_t> after = 0; after; ++proposal_batches)
    after = CUNHUO_TRY(db.write([&](db::Session& tx) {
      return alleviation::fill_proposal_villages(tx, *after, kAreaFillBatch);
    }));
  if (orders > 0 || proposal_batches > 1)
    spdlog::info("copied the area onto {} paid orders and {} batches of exit proposals", orders,
                 proposal_batches - 1);
  return {};
}

}  // namespace cunhuo::storefront
