#include "storefront/refund_evidence.hpp"

namespace cunhuo::storefront {
namespace {

constexpr db::Migration kMigrations[] = {
    {"storefront", 15, "the photo of each refund claim made on a page",
     "CREATE TABLE IF NOT EXISTS refund_claim_photos (\n"
     "  claim_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  file_key VARCHAR(80) NOT NULL,\n"
     "  width INTEGER NOT NULL,\n"
     "  height INTEGER NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"},
};

}  // namespace

std::span<const db::Migration> refund_evidence_migrations() { return kMigrations; }

Status record_claim_photo(db::Session& tx, const ClaimPhoto& photo, const Clock& clock) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO refund_claim_photos (claim_id, file_key, width, height, "
              "created_at) VALUES (?, ?, ?, ?, ?)",
              {photo.claim_id, photo.file_key, photo.width, photo.height, clock.now_ms()}));
  return {};
}

Result<std::optional<ClaimPhoto>> claim_photo(db::Session& s, std::int64_t claim_id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT file_key, width, height FROM refund_claim_photos WHERE claim_id = ?", {claim_id}));
  if (!row) return std::optional<ClaimPhoto>();
  return std::optional<ClaimPhoto>(ClaimPhoto{.claim_id = claim_id,
                                              .file_key = row->str(0),
                                              .width = static_cast<int>(row->i64(1)),
                                              .height = static_cast<int>(row->i64(2))});
}

std::string claim_photo_path(const std::string& photo_folder, const ClaimPhoto& photo,
                             bool thumbnail) {
  const marketplace::Photo as_stored{.file_key = photo.file_key};
  return marketplace::photo_path(photo_folder + std::string(kRefundPhotoFolder), as_stored,
                                 thumbnail);
}

}  // namespace cunhuo::storefront
