// Closing the provider's order of an intent that can no longer be paid: its checkout's
// payment window ran out (the stock went back), or a new intent replaced it. The close is
// asked for in the transaction that made the intent unpayable (a row here, idempotent) and
// sent later, outside any transaction and off the buyer's request, by the housekeeping pass
// `close_provider_orders`, again with back-off until the provider answers. A close that
// finds the order paid loses nothing: the order is queried at once and its payment applied
// as its notification would be (a payment for a cancelled order goes back to the buyer);
// the notification, before or after, changes nothing more.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/provider.hpp"

namespace cunhuo::payments {

inline constexpr std::int64_t kCloseRetryBaseMs = 30'000;    // then twice as long each time
inline constexpr std::int64_t kCloseRetryCapMs = 3'600'000;  // a failing close, at least hourly
inline constexpr int kCloseBatch = 100;                      // closes sent per pass
inline constexpr std::string_view kCloseCancelled = "cancelled";  // its order cancelled unpaid
inline constexpr std::string_view kCloseReplaced = "replaced";    // a new intent took its place

// payments migration 14: provider_closes.
std::span<const db::Migration> close_migrations();

// Asks for the intent's order to be closed at the provider; asking again changes nothing.
Status request_close(db::Session& tx, std::int64_t intent_id, std::string_view reason,
                     const Clock& clock);
// The order was cancelled unpaid: every intent of its checkout not paid is closed.
Status close_intents_of_order(db::Session& tx, std::int64_t order_id, const Clock& clock);

// One close's state: pending (to send, or again at next_attempt_at), closed, paid.
struct ProviderClose {
  std::int64_t intent_id = 0;
  std::string reason, status;
  int attempts = 0;
};
Result<std::optional<ProviderClose>> find_close(db::Session& s, std::int64_t intent_id);

// Sends the closes that are due to `provider`; returns how many it answered. A payment
// found and applied is in the outbox: the caller wakes the dispatcher.
Result<int> close_provider_orders(db::Database& db, PaymentProvider& provider, const Clock& clock);

}  // namespace cunhuo::payments
