// Lot codes: the public code a lot's QR code carries (/t/<code>), so anyone who scans a box
// can trace where it came from. A code is random (kLotCodeChars characters of 32 letters
// and digits, 60 bits) and kept with the listing and lot it names, so the codes of a
// village's lots cannot be counted through; a lot keeps its code when its listing changes
// lot, so a printed QR code keeps working.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "marketplace/catalog.hpp"

namespace cunhuo::marketplace {

inline constexpr std::size_t kLotCodeChars = 12;
// How many of a listing's newest orders a trace reads (their parcels and settlement).
inline constexpr int kMaxTracedOrders = 20;

struct LotCode {
  std::string code;
  ProductId product;
  std::string lot, harvest_date;  // as the listing stated them when the code was made
};

std::span<const db::Migration> lot_migrations();

// The lot's code, made on first use: a listing with a lot gets one when created or changed.
Result<std::string> record_lot(db::Session& tx, ProductId product, std::string_view lot,
                               std::string_view harvest_date, const Clock& clock);
// The code of a listing's lot, if one was made.
Result<std::optional<std::string>> lot_code_of(db::Session& s, ProductId product,
                                               std::string_view lot);
Result<std::optional<LotCode>> find_lot(db::Session& s, std::string_view code);
// The newest orders (at most `limit`) that bought the listing, newest first, by id.
Result<std::vector<std::int64_t>> orders_of_product(db::Session& s, ProductId product, int limit);

}  // namespace cunhuo::marketplace
