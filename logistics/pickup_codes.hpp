// Pickup codes (取件码): when a parcel reaches the point where its recipient collects it,
// a 6-digit code is made and sent to the recipient (the storefront's flow sends it by SMS).
// The operator hands the parcel over against that code, which is the proof of delivery.
// Only a hash of the code is kept. A code expires after kPickupCodeLifetimeMs and takes
// kPickupCodeTries wrong guesses; after them the parcel is locked until a new code is sent,
// so guessing 6 digits (a million) is out of reach.
//
//   auto issued = CUNHUO_TRY(issue_pickup_code(tx, shipment_id, clock));  // issued.code: SMS only
//   auto check = CUNHUO_TRY(check_pickup_code(tx, shipment_id, typed, clock));
//   if (check != PickupCheck::accepted) ...  // commit anyway: a wrong try must count
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::logistics {

inline constexpr int kPickupCodeDigits = 6;
inline constexpr std::int64_t kPickupCodeLifetimeMs = 3LL * 24 * 3600 * 1000;  // a parcel waits
inline constexpr int kPickupCodeTries = 5;                   // wrong codes before the lock
inline constexpr std::int64_t kPickupCodeResendMs = 60'000;  // between two sends of a parcel's code
inline constexpr int kMaxPickupCodeSends = 10;               // per parcel: no SMS bombing

// Published (with a ShipmentEvent, shipments.hpp) when a parcel is scanned in at its
// destination, where its recipient collects it: the storefront sends the pickup code.
inline constexpr const char* kShipmentReadyForPickup = "shipment.ready_for_pickup";

std::span<const db::Migration> pickup_code_migrations();

// A code just made: `code` goes into the recipient's text message and nowhere else.
struct IssuedPickupCode {
  std::string code;
  std::int64_t expires_at_ms = 0;
  int sends = 0;  // how many codes this parcel has had, this one included
};

// A parcel's code as kept: never the code itself.
struct PickupCodeState {
  int tries_left = 0, sends = 0;
  std::int64_t issued_at_ms = 0, expires_at_ms = 0;
  std::optional<std::int64_t> used_at_ms;
};

// Makes a new code for the parcel, replacing any earlier one (its tries start again).
// Refuses pickup_code_too_soon within kPickupCodeResendMs of the last, and
// pickup_code_sends_spent after kMaxPickupCodeSends.
Result<IssuedPickupCode> issue_pickup_code(db::Session& tx, std::int64_t shipment_id,
                                           const Clock& clock);
Result<std::optional<PickupCodeState>> pickup_code_of(db::Session& s, std::int64_t shipment_id);

enum class PickupCheck {
  accepted,  // right and live: used now
  wrong,     // wrong: one try spent
  locked,    // no tries left: a new code must be sent
  expired,   // past its lifetime: a new code must be sent
  missing,   // no code was made for this parcel, or it was used
};
// Checks `code` for the parcel. Whatever it answers, the caller commits.
Result<PickupCheck> check_pickup_code(db::Session& tx, std::int64_t shipment_id,
                                      std::string_view code, const Clock& clock);

}  // namespace cunhuo::logistics
