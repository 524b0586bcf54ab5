#include "marketplace/village_profiles.hpp"

#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

// The story column holds kMaxVillageStoryBytes (village_profiles.hpp).
constexpr db::Migration kMigrations[] = {
    {"marketplace", 25, "a village's story and photo as buyers see them",
     "CREATE TABLE IF NOT EXISTS village_profiles (\n"
     "  village_code VARCHAR(12) NOT NULL PRIMARY KEY,\n"
     "  story VARCHAR(2000) NOT NULL,\n"
     "  photo_id BIGINT,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"},
};

Status check_village(std::string_view code) {
  if (CUNHUO_TRY(region_level(code, "village_code")) != RegionLevel::village)
    return make_error(ErrorKind::invalid, "invalid_region_code", "a 12-digit village code",
                      "village_code");
  return {};
}

// The photo must show a listing of one of the village's own shops.
Status check_photo_of_village(db::Session& s, PhotoId photo, std::string_view village) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT sh.village_code FROM product_photos ph JOIN products p ON p.id = ph.product_id "
      "JOIN shops sh ON sh.id = p.shop_id WHERE ph.id = ?",
      {photo.value}));
  if (!row || row->str(0) != village)
    return make_error(ErrorKind::unprocessable, "photo_not_of_village",
                      "the photo must be of a listing of a shop in this village", "photo_id");
  return {};
}

}  // namespace

std::span<const db::Migration> village_profile_migrations() { return kMigrations; }

Result<VillageProfile> set_village_profile(db::Session& tx, const VillageProfile& profile,
                                           const Clock& clock) {
  CUNHUO_CHECK(check_village(profile.village_code));
  if (profile.story.size() > kMaxVillageStoryBytes)
    return make_error(ErrorKind::invalid, "invalid_length",
                      "at most " + std::to_string(kMaxVillageStoryBytes) + " bytes", "story");
  if (profile.photo) CUNHUO_CHECK(check_photo_of_village(tx, *profile.photo, profile.village_code));
  VillageProfile saved = profile;
  saved.updated_at_ms = clock.now_ms();
  const db::Value photo = profile.photo ? db::Value(profile.photo->value) : db::Value();
  // Insert-if-absent, then update: two first saves at once cannot both insert.
  CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                         " INTO village_profiles (village_code, story, photo_id, updated_at) "
                         "VALUES (?, ?, ?, ?)",
                     {saved.village_code, saved.story, photo, saved.updated_at_ms}));
  CUNHUO_TRY(
      tx.exec("UPDATE village_profiles SET story = ?, photo_id = ?, updated_at = ? "
              "WHERE village_code = ?",
              {saved.story, photo, saved.updated_at_ms, saved.village_code}));
  return saved;
}

Result<std::optional<VillageProfile>> find_village_profile(db::Session& s,
                                                           std::string_view village_code) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT story, photo_id, updated_at FROM village_profiles WHERE village_code = ?",
                  {std::string(village_code)}));
  if (!row) return std::optional<VillageProfile>();
  VillageProfile p{.village_code = std::string(village_code),
                   .story = row->str(0),
                   .updated_at_ms = row->i64(2)};
  if (auto photo = row->opt_i64(1)) p.photo = PhotoId{*photo};
  return std::optional<VillageProfile>(p);
}

}  // namespace cunhuo::marketplace
