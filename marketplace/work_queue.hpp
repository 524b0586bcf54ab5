// Small, bounded reads of what waits on someone in the marketplace, for the "what needs me
// now" queue: paid orders a shop must pack, certifications waiting on an office's review.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

// The indexes these reads use (marketplace migration 20).
std::span<const db::Migration> work_queue_migrations();

// Up to `limit` of something waiting, oldest first, and how many wait in all.
struct WaitingItem {
  std::int64_t id = 0;       // the order, or the certification
  std::int64_t subject = 0;  // the certification's product (0 for an order)
  std::int64_t since_ms = 0;
};
struct Waiting {
  std::int64_t count = 0;
  std::vector<WaitingItem> items;
};

// The household shops (kind household) a household is a member of: the farmer's own.
Result<std::vector<ShopId>> own_shops_of(db::Session& s, HouseholdId household);
// Paid orders of the shops, not yet packed.
Result<Waiting> orders_to_pack(db::Session& s, std::span<const ShopId> shops, int limit);
// A buyer's delivered orders, waiting for the buyer to confirm receipt.
Result<Waiting> deliveries_to_confirm(db::Session& s, std::int64_t buyer, int limit);
// Certifications in `status` whose listing's origin lies within `region_code`.
Result<Waiting> certifications_in(db::Session& s, CertificationStatus status,
                                  std::string_view region_code, int limit);

}  // namespace cunhuo::marketplace
