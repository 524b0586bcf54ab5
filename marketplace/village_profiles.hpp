// A village as buyers meet it: a short story of the place and its produce, and a photo of
// it. The county centre or poverty office of the area writes it; the photo is one of the
// listing photos of the village's own shops, so no photo of elsewhere can stand for it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "marketplace/photos.hpp"

namespace cunhuo::marketplace {

inline constexpr std::size_t kMaxVillageStoryBytes = 2000;

struct VillageProfile {
  std::string village_code;
  std::string story;
  std::optional<PhotoId> photo;
  std::int64_t updated_at_ms = 0;
};

std::span<const db::Migration> village_profile_migrations();

// Writes the village's story and photo (replacing them); a story past kMaxVillageStoryBytes
// is invalid_length, a code that is no village's invalid_region_code, and a photo that is
// not of a listing of a shop in the village photo_not_of_village.
Result<VillageProfile> set_village_profile(db::Session& tx, const VillageProfile& profile,
                                           const Clock& clock);
Result<std::optional<VillageProfile>> find_village_profile(db::Session& s,
                                                           std::string_view village_code);

}  // namespace cunhuo::marketplace
