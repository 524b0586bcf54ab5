// The photo a buyer sends with a refund claim as evidence of spoiled goods: stored beside the
// listing photos, under their own folder, one per claim, seen only by who may see the claim
// (its buyer and the county centre that decides it).
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

namespace cunhuo::storefront {

inline constexpr std::string_view kRefundPhotoFolder = "/refunds";  // under the photo folder

struct ClaimPhoto {
  std::int64_t claim_id = 0;
  std::string file_key;
  int width = 0, height = 0;
};

std::span<const db::Migration> refund_evidence_migrations();

// Records the claim's photo (its files already stored) in the claim's transaction.
Status record_claim_photo(db::Session& tx, const ClaimPhoto& photo, const Clock& clock);
Result<std::optional<ClaimPhoto>> claim_photo(db::Session& s, std::int64_t claim_id);
// The file of the claim's photo (or its thumbnail) under `photo_folder`.
std::string claim_photo_path(const std::string& photo_folder, const ClaimPhoto& photo,
                             bool thumbnail);

}  // namespace cunhuo::storefront
