#include "logistics/pickup_codes.hpp"

#include "core/one_time_code.hpp"

namespace cunhuo::logistics {
namespace {

constexpr db::Migration kMigrations[] = {
    {"logistics", 12, "pickup codes (hashes only) of parcels waiting for their recipients",
     "CREATE TABLE IF NOT EXISTS pickup_codes (\n"
     "  shipment_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  code_hash VARCHAR(64) NOT NULL,\n"
     "  tries_left INT NOT NULL,\n"
     "  sends INT NOT NULL,\n"
     "  issued_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  used_at BIGINT\n"
     ")"},
};

// The hash binds the code to its parcel, so a row copied to another parcel is useless.
std::string bound_to(std::int64_t shipment_id) { return "pickup|" + std::to_string(shipment_id); }

std::string code_hash(std::int64_t shipment_id, std::string_view code) {
  return one_time_code_hash(bound_to(shipment_id), code);
}

std::string random_code() { return random_digits(kPickupCodeDigits); }

}  // namespace

std::span<const db::Migration> pickup_code_migrations() { return kMigrations; }

Result<std::optional<PickupCodeState>> pickup_code_of(db::Session& s, std::int64_t shipment_id) {
  auto r = CUNHUO_TRY(
      s.query_one("SELECT tries_left, sends, issued_at, expires_at, used_at FROM pickup_codes "
                  "WHERE shipment_id = ?",
                  {shipment_id}));
  if (!r) return std::optional<PickupCodeState>();
  PickupCodeState state{.tries_left = static_cast<int>(r->i64(0)),
                        .sends = static_cast<int>(r->i64(1)),
                        .issued_at_ms = r->i64(2),
                        .expires_at_ms = r->i64(3),
                        .used_at_ms = std::nullopt};
  if (!r->is_null(4)) state.used_at_ms = r->i64(4);
  return std::optional<PickupCodeState>(state);
}

Result<IssuedPickupCode> issue_pickup_code(db::Session& tx, std::int64_t shipment_id,
                                           const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  const auto before = CUNHUO_TRY(pickup_code_of(tx, shipment_id));
  if (before && before->used_at_ms)
    return make_error(ErrorKind::conflict, "pickup_code_used", "the parcel was handed over",
                      "tracking_number");
  if (before && now < before->issued_at_ms + kPickupCodeResendMs)
    return make_error(ErrorKind::conflict, "pickup_code_too_soon",
                      "a code was sent less than a minute ago", "tracking_number");
  if (before && before->sends >= kMaxPickupCodeSends)
    return make_error(ErrorKind::conflict, "pickup_code_sends_spent",
                      "this parcel has had as many codes as it may", "tracking_number");
  IssuedPickupCode issued{.code = random_code(),
                          .expires_at_ms = now + kPickupCodeLifetimeMs,
                          .sends = before ? before->sends + 1 : 1};
  const std::string hash = code_hash(shipment_id, issued.code);
  if (before) {
    // Only the send that still sees the count it read replaces the code.
    auto updated = CUNHUO_TRY(
        tx.exec("UPDATE pickup_codes SET code_hash = ?, tries_left = ?, sends = ?, issued_at = ?, "
                "expires_at = ? WHERE shipment_id = ? AND sends = ?",
                {hash, kPickupCodeTries, issued.sends, now, issued.expires_at_ms, shipment_id,
                 before->sends}));
    if (updated.affected_rows != 1)
      return make_error(ErrorKind::conflict, "pickup_code_too_soon", "a code was just sent",
                        "tracking_number");
  } else {
    auto inserted = CUNHUO_TRY(
        tx.exec(std::string(tx.insert_ignore()) +
                    " INTO pickup_codes (shipment_id, code_hash, tries_left, sends, issued_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                {shipment_id, hash, kPickupCodeTries, issued.sends, now, issued.expires_at_ms}));
    if (inserted.affected_rows != 1)
      return make_error(ErrorKind::conflict, "pickup_code_too_soon", "a code was just sent",
                        "tracking_number");
  }
  return issued;
}

Result<PickupCheck> check_pickup_code(db::Session& tx, std::int64_t shipment_id,
                                      std::string_view code, const Clock& clock) {
  auto r = CUNHUO_TRY(tx.query_one(
      "SELECT code_hash, tries_left, expires_at, used_at FROM pickup_codes WHERE shipment_id = ?",
      {shipment_id}));
  if (!r || !r->is_null(3)) return PickupCheck::missing;
  if (r->i64(1) <= 0) return PickupCheck::locked;
  // A code hashed before codes were keyed is re-issued: its hash may have been read.
  if (r->i64(2) <= clock.now_ms() || is_unkeyed_code_hash(r->str(0))) return PickupCheck::expired;
  if (one_time_code_matches(r->str(0), bound_to(shipment_id), code)) {
    // Only one of two concurrent handovers of the same parcel uses the code.
    auto used = CUNHUO_TRY(
        tx.exec("UPDATE pickup_codes SET used_at = ? WHERE shipment_id = ? AND used_at IS NULL",
                {clock.now_ms(), shipment_id}));
    return used.affected_rows == 1 ? PickupCheck::accepted : PickupCheck::missing;
  }
  CUNHUO_TRY(
      tx.exec("UPDATE pickup_codes SET tries_left = tries_left - 1 WHERE shipment_id = ? AND "
              "tries_left > 0",
              {shipment_id}));
  return PickupCheck::wrong;
}

}  // namespace cunhuo::logistics
