// Refunds. A buyer claims a full or partial refund of an order that has not settled;
// the claimed amount is held in the order's escrow (a pending transfer) until the centre
// approves (posted) or rejects (voided) it. Logistics reporting goods spoiled refunds
// what is left in escrow at once. Each refund records who bears the loss: the shop when
// the goods were bad before pickup (the household earns nothing for them), logistics
// when the cold chain broke in transit (the carrier pays the goods' value into escrow,
// so the households are paid as if sold). The money goes back through the provider;
// requests to it are sent outside any transaction by `send_provider_refunds`.
#pragma once

#include <cstdint>
#include <optional>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"
#include "payments/provider.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::payments {

enum class LossBearer { none, shop, logistics };
std::string_view to_string(LossBearer bearer);
Result<LossBearer> parse_loss_bearer(std::string_view text);

// A claim says why, in up to this many bytes.
inline constexpr std::size_t kMaxRefundReasonBytes = 500;

struct RefundClaim {
  std::int64_t id = 0, order_id = 0, buyer_id = 0;
  Money amount;
  std::string reason, status;  // requested, approved, rejected
  LossBearer bearer = LossBearer::none;
  std::int64_t created_at_ms = 0;
};

std::span<const db::Migration> refund_migrations();

// Published when money goes back to the buyer; `full` when nothing of the order is left.
inline constexpr const char* kOrderRefunded = "payment.order_refunded";
struct OrderRefunded {
  std::int64_t order_id = 0;
  Money amount;
  bool full = false;

  std::string encode() const;  // {"order_id", "amount_fen", "full"}
  static Result<OrderRefunded> decode(std::string_view payload);
  bool operator==(const OrderRefunded&) const = default;
};

// Published when a claim is made ("refund_claim.filed") and when the centre decides it
// ("refund_claim.decided"), so the centre's board and the buyer's page follow it live.
inline constexpr const char* kRefundClaimTopicPrefix = "refund_claim.";
inline constexpr const char* kRefundClaimFiled = "refund_claim.filed";
inline constexpr const char* kRefundClaimDecided = "refund_claim.decided";
struct RefundClaimMoved {
  std::int64_t claim_id = 0, order_id = 0;
  std::string status;  // requested, approved, rejected

  std::string encode() const;  // {"claim_id", "order_id", "status"}
  static Result<RefundClaimMoved> decode(std::string_view payload);
  bool operator==(const RefundClaimMoved&) const = default;
};

// The buyer's claim; holds `amount` of the order's escrow.
Result<RefundClaim> claim_refund(db::Session& tx, std::int64_t order_id, std::int64_t buyer_id,
                                 Money amount, const std::string& reason, const Clock& clock);
// The centre's decision. An approval refunds the buyer; `bearer` says who bears the loss.
Result<RefundClaim> decide_claim(db::Session& tx, std::int64_t claim_id, bool approve,
                                 LossBearer bearer, const FeeRules& rules, const Clock& clock);
Result<std::optional<RefundClaim>> find_claim(db::Session& s, std::int64_t claim_id);
// The claims made on an order, oldest first.
Result<std::vector<RefundClaim>> claims_of_order(db::Session& s, std::int64_t order_id);

// Refunds everything left in the order's escrow (goods spoiled, or a payment that came
// after the order was cancelled). A repeat is a no-op.
Status refund_order(db::Session& tx, std::int64_t order_id, LossBearer bearer,
                    const std::string& reason, const FeeRules& rules, const Clock& clock);

// Sends back the whole of an intent that succeeded after another one had paid its
// checkout (status `returned`); the handler of "payment.returned". A repeat is a no-op.
Status return_payment(db::Session& tx, std::int64_t intent_id, const Clock& clock);

// A refund the provider took is `sent` until the provider tells its outcome (a notification,
// or a query once it has been sent this long): `succeeded`, or `abnormal`/`closed`, which
// leave the money at the provider and need staff (WeChat Pay's remedy for ABNORMAL is its
// merchant portal's refund to balance or offline; a CLOSED one is made again by a person).
inline constexpr std::int64_t kRefundQueryAfterMs = 60 * 60 * 1000;
inline constexpr std::string_view kUnknownRefund = "unknown_refund";

// Asks the provider to send back every refund recorded but not yet sent; runs outside
// any transaction. Returns how many were sent. `still_leading`, when given, is asked before
// each refund (the caller's lease, renewed or found lost): false stops the batch.
Result<int> send_provider_refunds(db::Database& db, PaymentProvider& provider, const Clock& clock,
                                  const std::function<bool()>& still_leading = {});

// The provider's word on a refund: from its notification (the body open_notification
// gives: out_trade_no the intent id, out_refund_no, refund_id, status, amount.refund).
struct RefundOutcome {
  std::int64_t intent_id = 0;
  std::string refund_no;  // the provider's name for the refund key (PaymentProvider::refund_no)
  std::string provider_ref;
  Money amount;
  RefundState state = RefundState::processing;
};
Result<RefundOutcome> decode_refund_notice(std::string_view body);
// Records the outcome on the refund the platform sent. A refund it never asked for, or of
// another intent or amount, is refused (4xx); the same outcome again changes nothing.
Status apply_refund_outcome(db::Session& tx, const PaymentProvider& provider,
                            const RefundOutcome& outcome, const Clock& clock);
// Asks the provider about every refund still `sent` kRefundQueryAfterMs after it was sent
// (a notification may be lost); runs outside any transaction. Returns how many settled.
Result<int> settle_provider_refunds(db::Database& db, PaymentProvider& provider, const Clock& clock,
                                    const std::function<bool()>& still_leading = {});

// Refunds the provider reported ABNORMAL or CLOSED: the money did not reach the buyer. The
// ledger takes it back from the provider's account into accounts::kRefundsOwed (so the
// refund does not count as done) when the outcome is recorded; staff pay the buyer another
// way. Listed for the county centre of the order's shop (region_code "" : all, and the
// returns of second payments, which have no order).
struct UndeliveredRefund {
  std::int64_t id = 0, order_id = 0, intent_id = 0, amount_fen = 0;
  std::string status;  // abnormal or closed
  std::string reason, region_code;
  std::int64_t sent_at_ms = 0;
};
// Newest first, after `before_id` (a page's cursor), at most `limit`; settled ones are done
// and left out.
Result<std::vector<UndeliveredRefund>> undelivered_refunds(db::Session& s,
                                                           std::string_view region_code,
                                                           std::optional<std::int64_t> before_id,
                                                           int limit);
// How many are not settled yet (the /metrics gauge).
Result<std::int64_t> count_undelivered_refunds(db::Session& s);

// Staff record that they paid the buyer an undelivered refund another way: the ledger moves
// it from accounts::kRefundsOwed to accounts::kRefundsPaidOffline, once, and the refund
// leaves the list and the gauge. The whole amount owed, in one settlement.
enum class OfflineRefundMethod { bank_transfer, cash };
std::string_view to_string(OfflineRefundMethod method);
std::vector<std::string> offline_refund_method_names();
// A bank transfer's reference, or who handed the cash over where: up to this many bytes.
inline constexpr std::size_t kMaxSettlementReferenceBytes = 200;
inline constexpr std::string_view kNotUndelivered = "not_undelivered";
inline constexpr std::string_view kRefundAlreadySettled = "already_settled";
inline constexpr std::string_view kSettlementAmountMismatch = "amount_mismatch";

// What staff say, as they said it (checked by settle_undelivered_refund).
struct SettlementRequest {
  std::int64_t refund_id = 0;
  std::string method, reference;
  std::int64_t amount_fen = 0;
  std::int64_t settled_by = 0;  // the staff account
};
struct RefundSettlement {
  std::int64_t refund_id = 0;
  OfflineRefundMethod method = OfflineRefundMethod::bank_transfer;
  std::string reference;
  std::int64_t amount_fen = 0, settled_by = 0, settled_at_ms = 0;
};
// A refund the provider took, whatever its status, with its settlement if it has one (for
// the caller's area check: region_code "" is a second payment's return, of no shop).
struct ProviderRefundRecord {
  UndeliveredRefund refund;  // status: any of a provider refund's
  std::optional<RefundSettlement> settlement;
};
Result<std::optional<ProviderRefundRecord>> find_provider_refund(db::Session& s,
                                                                 std::int64_t refund_id);
// Refusals in order: no such refund (404), not abnormal or closed (409 not_undelivered),
// settled before (409 already_settled), then the fields (400: method, reference, amount_fen
// not the amount owed).
Result<ProviderRefundRecord> settle_undelivered_refund(db::Session& tx,
                                                       const SettlementRequest& request,
                                                       const Clock& clock);

}  // namespace cunhuo::payments
