#include "marketplace/places.hpp"

#include <algorithm>
#include <set>

#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

std::size_t characters(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
  }));
}

}  // namespace

std::span<const db::Migration> place_migrations() {
  // Built once from the limit the code checks, so the two cannot drift apart.
  static const std::string sql =
      "CREATE TABLE IF NOT EXISTS place_names (\n"
      "  code VARCHAR(" +
      std::to_string(kVillageCodeDigits) +
      ") NOT NULL PRIMARY KEY,\n"
      "  name VARCHAR(" +
      std::to_string(kMaxPlaceNameChars) +
      ") NOT NULL\n"
      ");\n";
  static const db::Migration migrations[] = {
      {"marketplace", 23, "names of places by their administrative division code", sql}};
  return migrations;
}

Status name_place(db::Session& tx, std::string_view code, std::string_view name) {
  CUNHUO_TRY(region_level(code, "code"));
  if (name.empty() || characters(name) > kMaxPlaceNameChars)
    return make_error(ErrorKind::invalid, "invalid_length",
                      "a place name has 1 to " + std::to_string(kMaxPlaceNameChars) + " characters",
                      "name");
  auto added = CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) + " INTO place_names (code, name) VALUES (?, ?)",
              {std::string(code), std::string(name)}));
  if (added.affected_rows == 0)
    CUNHUO_TRY(tx.exec("UPDATE place_names SET name = ? WHERE code = ?",
                       {std::string(name), std::string(code)}));
  return {};
}

Result<PlaceNames> place_names(db::Session& s, const std::vector<std::string>& codes) {
  const std::set<std::string> distinct(codes.begin(), codes.end());
  const std::vector<std::string> wanted(distinct.begin(), distinct.end());
  PlaceNames out;
  for (std::size_t at = 0; at < wanted.size(); at += kPlaceLookupBatch) {
    const std::size_t n = std::min(kPlaceLookupBatch, wanted.size() - at);
    std::vector<db::Value> values;
    for (std::size_t i = at; i < at + n; ++i) values.emplace_back(wanted[i]);
    for (const auto& r : CUNHUO_TRY(s.query_with(
             "SELECT code, name FROM place_names WHERE code IN (" + db::placeholders(n) + ")",
             values)))
      out.emplace(r.str(0), r.str(1));
  }
  return out;
}

}  // namespace cunhuo::marketplace
