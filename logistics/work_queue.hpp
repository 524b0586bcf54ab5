// Small, bounded reads of what waits on a station or a centre, for the "what needs me now"
// queue: parcels riding a link toward a station, parcels standing at it, and the cold-chain
// excursions open in an area, each counted exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"

namespace cunhuo::logistics {

struct WaitingParcel {
  std::string tracking_number;
  std::int64_t since_ms = 0;  // its last change
};
struct WaitingParcels {
  std::int64_t count = 0;
  std::vector<WaitingParcel> parcels;  // oldest first, up to the limit
};

// Parcels in transit on a link that ends at the node.
Result<WaitingParcels> parcels_arriving_at(db::Session& s, std::int64_t node_id, int limit);
// Parcels standing at the node (arrived, stored or held), to send on.
Result<WaitingParcels> parcels_at(db::Session& s, std::int64_t node_id, int limit);

// Cold-chain excursions open at nodes within `region_code` ("" for all), newest first.
struct WaitingExcursion {
  std::int64_t id = 0;
  std::string node_code, kind;
  std::int64_t detected_at_ms = 0;
};
struct WaitingExcursions {
  std::int64_t count = 0;
  std::vector<WaitingExcursion> items;  // up to the limit
};
Result<WaitingExcursions> open_excursions_in(db::Session& s, std::string_view region_code,
                                             int limit);

// Orders with parcels waiting (planned) at the village points of `station_code`'s township,
// as a pickup plan collects them; at most `limit`, by order.
struct OrderToCollect {
  std::int64_t order_id = 0;
  std::string point_code;
};
Result<std::vector<OrderToCollect>> orders_to_collect(db::Session& s, std::string_view station_code,
                                                      int limit);

}  // namespace cunhuo::logistics
