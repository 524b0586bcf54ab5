#include "payments/refunds.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "payments/accounts.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 5, "refund claims and refunds sent through the provider",
     "CREATE TABLE IF NOT EXISTS refund_claims (\n"
     "  id {{ID}},\n"
     "  order_id BIGINT NOT NULL,\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  bearer VARCHAR(10) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  decided_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS refund_claims_order ON refund_claims (order_id);\n"
     "CREATE TABLE IF NOT EXISTS provider_refunds (\n"
     "  id {{ID}},\n"
     "  refund_key VARCHAR(100) NOT NULL UNIQUE,\n"
     "  intent_id BIGINT NOT NULL,\n"
     "  order_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  bearer VARCHAR(10) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  provider_ref VARCHAR(64),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  sent_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS provider_refunds_status ON provider_refunds (status, id);\n"},
    // One row per refund at most (its key): an undelivered refund is settled once.
    {"payments", 18, "undelivered refunds staff paid the buyer another way",
     "CREATE TABLE IF NOT EXISTS refund_settlements (\n"
     "  refund_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  method VARCHAR(20) NOT NULL,\n"
     "  reference VARCHAR(200) NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  settled_by BIGINT NOT NULL,\n"
     "  settled_at BIGINT NOT NULL\n"
     ");\n"},
};
static_assert(kMaxSettlementReferenceBytes == 200, "refund_settlements.reference holds it");

constexpr std::array<std::pair<OfflineRefundMethod, std::string_view>, 2> kMethodNames = {{
    {OfflineRefundMethod::bank_transfer, "bank_transfer"},
    {OfflineRefundMethod::cash, "cash"},
}};

// The columns provider_refund_row reads, joined to the order's area and the settlement.
constexpr const char* kRefundRecordSelect =
    "SELECT r.id, r.order_id, r.intent_id, r.amount_fen, r.status, r.reason, "
    "COALESCE(o.region_code, ''), COALESCE(r.sent_at, r.created_at), s.method, s.reference, "
    "s.amount_fen, s.settled_by, s.settled_at FROM provider_refunds r "
    "LEFT JOIN payment_orders o ON o.order_id = r.order_id "
    "LEFT JOIN refund_settlements s ON s.refund_id = r.id ";

constexpr std::array<std::pair<LossBearer, std::string_view>, 3> kBearerNames = {{
    {LossBearer::none, "none"},
    {LossBearer::shop, "shop"},
    {LossBearer::logistics, "logistics"},
}};

struct PaidOrder {
  std::string status;
  std::int64_t buyer_id = 0, intent_id = 0;
  std::string provider, region_code;
};

Result<std::optional<PaidOrder>> paid_order(db::Session& tx, std::int64_t order_id) {
  auto row = CUNHUO_TRY(tx.query_one(
      "SELECT o.status, o.buyer_id, i.id, i.provider, o.region_code FROM payment_orders o JOIN "
      "payment_intents i "
      "ON i.checkout_id = o.checkout_id AND i.status = 'succeeded' WHERE o.order_id = ? ORDER BY "
      "i.id LIMIT 1",
      {order_id}));
  if (!row) return std::optional<PaidOrder>();
  return std::optional<PaidOrder>(
      PaidOrder{row->str(0), row->i64(1), row->i64(2), row->str(3), row->str(4)});
}

Result<std::optional<RefundClaim>> claim_row(db::Session& s, std::int64_t claim_id) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT id, order_id, buyer_id, amount_fen, reason, status, bearer, "
                             "created_at FROM refund_claims WHERE id = ?",
                             {claim_id}));
  if (!r) return std::optional<RefundClaim>();
  RefundClaim c{r->i64(0), r->i64(1), r->i64(2),        Money::fen(r->i64(3)),
                r->str(4), r->str(5), LossBearer::none, r->i64(7)};
  c.bearer = value_of(kBearerNames, r->str(6)).value_or(LossBearer::none);
  return std::optional<RefundClaim>(std::move(c));
}

// Money back to the buyer through the provider: recorded now, sent by the refund sender.
Status request_provider_refund(db::Session& tx, const PaidOrder& order, std::int64_t order_id,
                               const std::string& key, Money amount, LossBearer bearer,
                               const std::string& reason, const Clock& clock) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO provider_refunds (refund_key, intent_id, order_id, amount_fen, bearer, "
              "reason, status, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, 'requested', ?)",
              {key, order.intent_id, order_id, amount.fen(), name_of(kBearerNames, bearer), reason,
               clock.now_ms()}));
  CUNHUO_TRY(tx.exec("UPDATE payment_orders SET refunded_fen = refunded_fen + ? WHERE order_id = ?",
                     {amount.fen(), order_id}));
  return {};
}

// The carrier pays the goods' value into escrow: the households are paid as if sold.
Status compensate(db::Session& tx, std::int64_t order_id, const std::string& key, Money amount,
                  const Clock& clock) {
  const AccountSpec liability{accounts::kLogisticsLiability, true};
  CUNHUO_CHECK(open_accounts(tx, std::span(&liability, 1), clock));
  const Transfer t{key + ":compensation",
                   accounts::kLogisticsLiability,
                   accounts::escrow(order_id),
                   amount,
                   TransferKind::posted,
                   "",
                   "order:" + std::to_string(order_id),
                   "carrier pays for goods spoiled in transit"};
  CUNHUO_TRY(transfer(tx, std::span(&t, 1), clock));
  return {};
}

Error already_decided(const std::string& status) {
  return make_error(ErrorKind::conflict, "already_decided", "this claim was " + status, "id");
}

Status publish_refunded(db::Session& tx, std::int64_t order_id, Money amount, bool full,
                        const Clock& clock) {
  const OrderRefunded refunded{.order_id = order_id, .amount = amount, .full = full};
  CUNHUO_TRY(outbox::publish(tx, kOrderRefunded, refunded.encode(), clock));
  return {};
}

Status publish_claim(db::Session& tx, const RefundClaim& claim, const char* topic,
                     const Clock& clock) {
  const RefundClaimMoved moved{
      .claim_id = claim.id, .order_id = claim.order_id, .status = claim.status};
  CUNHUO_TRY(outbox::publish(tx, topic, moved.encode(), clock));
  return {};
}

}  // namespace

std::span<const db::Migration> refund_migrations() { return kMigrations; }

std::string RefundClaimMoved::encode() const {
  JsonWriter w;
  w.begin_object().field("claim_id", claim_id).field("order_id", order_id);
  w.field("status", status).end_object();
  return w.take();
}

Result<RefundClaimMoved> RefundClaimMoved::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("RefundClaimMoved", payload));
  return RefundClaimMoved{.claim_id = CUNHUO_TRY(p.integer("claim_id")),
                          .order_id = CUNHUO_TRY(p.integer("order_id")),
                          .status = CUNHUO_TRY(p.string("status"))};
}

std::string OrderRefunded::encode() const {
  JsonWriter w;
  w.begin_object().field("order_id", order_id).field("amount_fen", amount.fen());
  w.field("full", full).end_object();
  return w.take();
}

Result<OrderRefunded> OrderRefunded::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("OrderRefunded", payload));
  return OrderRefunded{.order_id = CUNHUO_TRY(p.integer("order_id")),
                       .amount = Money::fen(CUNHUO_TRY(p.integer("amount_fen"))),
                       .full = CUNHUO_TRY(p.boolean("full"))};
}

std::string_view to_string(LossBearer bearer) { return name_of(kBearerNames, bearer); }

Result<LossBearer> parse_loss_bearer(std::string_view text) {
  if (auto v = value_of(kBearerNames, text); v && *v != LossBearer::none) return *v;
  return make_error(ErrorKind::invalid, "invalid_bearer", "who bears the loss: shop or logistics",
                    "bearer");
}

Result<std::optional<RefundClaim>> find_claim(db::Session& s, std::int64_t claim_id) {
  return claim_row(s, claim_id);
}

Result<std::vector<RefundClaim>> claims_of_order(db::Session& s, std::int64_t order_id) {
  std::vector<RefundClaim> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT id FROM refund_claims WHERE order_id = ? ORDER BY id", {order_id})))
    if (auto claim = CUNHUO_TRY(claim_row(s, r.i64(0)))) out.push_back(std::move(*claim));
  return out;
}

Result<RefundClaim> claim_refund(db::Session& tx, std::int64_t order_id, std::int64_t buyer_id,
                                 Money amount, const std::string& reason, const Clock& clock) {
  if (amount.fen() <= 0)
    return make_error(ErrorKind::invalid, "out_of_range", "a refund is a positive amount",
                      "amount_fen");
  if (reason.empty() || reason.size() > kMaxRefundReasonBytes)
    return make_error(ErrorKind::invalid, "invalid_length",
                      "say why, in up to " + std::to_string(kMaxRefundReasonBytes) + " bytes",
                      "reason");
  auto order = CUNHUO_TRY(paid_order(tx, order_id));
  if (!order || order->buyer_id != buyer_id)
    return make_error(ErrorKind::not_found, "not_found", "no such paid order", "order_id");
  if (order->status == "settled")
    return make_error(ErrorKind::conflict, "already_settled",
                      "this order has been settled to its producers; ask the centre", "order_id");
  if (order->status != "paid")
    return make_error(ErrorKind::conflict, "not_refundable", "this order has been refunded",
                      "order_id");
  auto escrow = CUNHUO_TRY(find_account(tx, accounts::escrow(order_id)));
  if (!escrow || amount.fen() > escrow->available())
    return make_error(ErrorKind::conflict, "exceeds_paid",
                      "more than what was paid and is not already refunded or claimed",
                      "amount_fen");
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO refund_claims (order_id, buyer_id, amount_fen, reason, status, bearer, "
              "created_at, region_code) "
              "VALUES (?, ?, ?, ?, 'requested', 'none', ?, ?)",
              {order_id, buyer_id, amount.fen(), reason, now, order->region_code}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  const Transfer hold{"claim:" + std::to_string(id),
                      accounts::escrow(order_id),
                      accounts::provider(order->provider),
                      amount,
                      TransferKind::pending,
                      "",
                      "order:" + std::to_string(order_id),
                      "refund claimed"};
  CUNHUO_TRY(transfer(tx, std::span(&hold, 1), clock));
  RefundClaim claim{id, order_id, buyer_id, amount, reason, "requested", LossBearer::none, now};
  CUNHUO_CHECK(publish_claim(tx, claim, kRefundClaimFiled, clock));
  return claim;
}

Result<RefundClaim> decide_claim(db::Session& tx, std::int64_t claim_id, bool approve,
                                 LossBearer bearer, const FeeRules& rules, const Clock& clock) {
  auto claim = CUNHUO_TRY(claim_row(tx, claim_id));
  if (!claim) return make_error(ErrorKind::not_found, "not_found", "no such refund claim", "id");
  if (claim->status != "requested") return already_decided(claim->status);
  auto order = CUNHUO_TRY(paid_order(tx, claim->order_id));
  CUNHUO_ASSERT(order);  // a claim is only made on a paid order, and paid stays paid
  claim->status = approve ? "approved" : "rejected";
  claim->bearer = approve ? bearer : LossBearer::none;
  // The decision is taken by a conditional update before any money moves: of two
  // decisions at once (MariaDB reads a snapshot), only one finds the claim requested.
  auto decided = CUNHUO_TRY(
      tx.exec("UPDATE refund_claims SET status = ?, bearer = ?, decided_at = ? WHERE id = ? "
              "AND status = 'requested'",
              {claim->status, name_of(kBearerNames, claim->bearer), clock.now_ms(), claim_id}));
  if (decided.affected_rows != 1) return already_decided("decided meanwhile");
  const std::string key = "claim:" + std::to_string(claim_id);
  Transfer complete{key + (approve ? ":post" : ":void"),
                    "",
                    "",
                    Money(),
                    approve ? TransferKind::post_pending : TransferKind::void_pending,
                    key,
                    "order:" + std::to_string(claim->order_id),
                    approve ? "refund approved" : "refund rejected"};
  CUNHUO_TRY(transfer(tx, std::span(&complete, 1), clock));
  if (approve) {
    CUNHUO_CHECK(request_provider_refund(tx, *order, claim->order_id, key, claim->amount, bearer,
                                         claim->reason, clock));
    if (bearer == LossBearer::logistics)
      CUNHUO_CHECK(compensate(tx, claim->order_id, key, claim->amount, clock));
    auto escrow = CUNHUO_TRY(find_account(tx, accounts::escrow(claim->order_id)));
    const bool full = escrow->balance() == 0 && escrow->debits_pending == 0;
    if (full)
      CUNHUO_TRY(tx.exec("UPDATE payment_orders SET status = 'refunded' WHERE order_id = ?",
                         {claim->order_id}));
    CUNHUO_CHECK(publish_refunded(tx, claim->order_id, claim->amount, full, clock));
  }
  CUNHUO_TRY(
      settle_order(tx, claim->order_id, rules, clock));  // a completed order waiting on this claim
  CUNHUO_CHECK(publish_claim(tx, *claim, kRefundClaimDecided, clock));
  return std::move(*claim);
}

Status refund_order(db::Session& tx, std::int64_t order_id, LossBearer bearer,
                    const std::string& reason, const FeeRules& rules, const Clock& clock) {
  auto order = CUNHUO_TRY(paid_order(tx, order_id));
  if (!order || order->status != "paid")
    return {};  // unpaid (nothing to give back), settled, or refunded before
  auto escrow = CUNHUO_TRY(find_account(tx, accounts::escrow(order_id)));
  // Claims still open are rejected: the whole rest of the escrow goes back now.
  for (const auto& row : CUNHUO_TRY(tx.query(
           "SELECT id FROM refund_claims WHERE order_id = ? AND status = 'requested'", {order_id})))
    CUNHUO_TRY(decide_claim(tx, row.i64(0), false, LossBearer::none, rules, clock));
  escrow = CUNHUO_TRY(find_account(tx, accounts::escrow(order_id)));
  const Money left = Money::fen(escrow->balance());
  const std::string key = "refund:order:" + std::to_string(order_id);
  if (left.fen() > 0) {
    const Transfer back{key,
                        accounts::escrow(order_id),
                        accounts::provider(order->provider),
                        left,
                        TransferKind::posted,
                        "",
                        "order:" + std::to_string(order_id),
                        reason.substr(0, 200)};
    CUNHUO_TRY(transfer(tx, std::span(&back, 1), clock));
    CUNHUO_CHECK(request_provider_refund(tx, *order, order_id, key, left, bearer, reason, clock));
  }
  if (bearer == LossBearer::logistics && left.fen() > 0) {
    CUNHUO_CHECK(compensate(tx, order_id, key, left, clock));
    CUNHUO_TRY(
        complete_order(tx, order_id, rules, clock));  // the carrier bought the goods: settle now
  } else {
    CUNHUO_TRY(
        tx.exec("UPDATE payment_orders SET status = 'refunded' WHERE order_id = ?", {order_id}));
  }
  return publish_refunded(tx, order_id, left, true, clock);
}

Status return_payment(db::Session& tx, std::int64_t intent_id, const Clock& clock) {
  auto intent = CUNHUO_TRY(find_intent(tx, intent_id));
  if (!intent || intent->status != IntentStatus::returned) return {};
  const std::string key = "return:intent:" + std::to_string(intent_id);
  const Transfer back{.key = key,
                      .debit = accounts::kReturns,
                      .credit = accounts::provider(intent->provider),
                      .amount = intent->amount,
                      .kind = TransferKind::posted,
                      .pending_key = "",
                      .reference = "intent:" + std::to_string(intent_id),
                      .memo = "a second payment of a checkout, sent back"};
  if (CUNHUO_TRY(transfer(tx, std::span(&back, 1), clock)).front() == Outcome::exists)
    return {};  // handled before
  CUNHUO_TRY(
      tx.exec("INSERT INTO provider_refunds (refund_key, intent_id, order_id, amount_fen, bearer, "
              "reason, status, created_at) "
              "VALUES (?, ?, 0, ?, 'none', 'the checkout was already paid', 'requested', ?)",
              {key, intent_id, intent->amount.fen(), clock.now_ms()}));
  return {};
}

// The refund's money never reached the buyer: it comes back from the provider's account
// and is owed to the buyer (a repeat is a no-op: the transfer's key is the refund's).
Status take_back_undelivered(db::Session& tx, const std::string& provider,
                             const std::string& refund_key, Money amount, RefundState state,
                             const Clock& clock) {
  const AccountSpec specs[] = {{accounts::provider(provider), true},
                               {accounts::kRefundsOwed, false}};
  CUNHUO_CHECK(open_accounts(tx, specs, clock));
  const Transfer back{.key = "undelivered:" + refund_key,
                      .debit = accounts::provider(provider),
                      .credit = accounts::kRefundsOwed,
                      .amount = amount,
                      .kind = TransferKind::posted,
                      .pending_key = "",
                      .reference = "refund:" + refund_key.substr(0, 90),
                      .memo = std::string("refund ") + std::string(to_string(state)) +
                              " at the provider: owed to the buyer"};
  CUNHUO_TRY(transfer(tx, std::span(&back, 1), clock));
  return {};
}

Result<int> send_provider_refunds(db::Database& db, PaymentProvider& provider, const Clock& clock,
                                  const std::function<bool()>& still_leading) {
  auto due = CUNHUO_TRY(db.read([&](db::Session& s) {
    return s.query(
        "SELECT r.id, r.refund_key, r.intent_id, r.amount_fen FROM provider_refunds r JOIN "
        "payment_intents i "
        "ON i.id = r.intent_id WHERE r.status = 'requested' AND i.provider = ? ORDER BY r.id LIMIT "
        "100",
        {provider.name()});
  }));
  int sent = 0;
  for (const auto& r : due) {
    if (still_leading && !still_leading()) break;  // another process sends the rest
    auto ref = provider.refund(r.i64(2), Money::fen(r.i64(3)), r.str(1));
    if (!ref.ok()) {
      spdlog::warn("refund {} not sent to the provider: {}", r.str(1), ref.error().message);
      continue;
    }
    // Still processing: `sent`, awaiting the provider's outcome.
    const std::string status(ref->state == RefundState::processing ? "sent"
                                                                   : to_string(ref->state));
    const bool undelivered =
        ref->state == RefundState::abnormal || ref->state == RefundState::closed;
    // Only a refund still `requested`: an outcome a notification (or another process that
    // took the lease over) recorded meanwhile stands, and is not set back to `sent`.
    CUNHUO_CHECK(db.write([&](db::Session& tx) -> Status {
      auto updated = CUNHUO_TRY(
          tx.exec("UPDATE provider_refunds SET status = ?, provider_ref = ?, sent_at = ? WHERE id "
                  "= ? AND status = 'requested'",
                  {status, ref->provider_ref, clock.now_ms(), r.i64(0)}));
      if (undelivered && updated.affected_rows == 1)
        CUNHUO_CHECK(take_back_undelivered(tx, provider.name(), r.str(1), Money::fen(r.i64(3)),
                                           ref->state, clock));
      return {};
    }));
    if (undelivered)
      spdlog::error("refund {} is {} at the provider: it needs staff", r.str(1), status);
    ++sent;
  }
  return sent;
}

Result<RefundOutcome> decode_refund_notice(std::string_view body) {
  auto bad = [] {
    return make_error(ErrorKind::unprocessable, "bad_notification", "not a refund's outcome");
  };
  auto doc = Json::parse(body);
  if (!doc.ok()) return bad();
  auto text = [&](const Json& j, const char* key) {
    const Json* v = j.find(key);
    return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
  };
  const Json* amount = doc->find("amount");
  const Json* refund = amount != nullptr ? amount->find("refund") : nullptr;
  const std::string intent = text(*doc, "out_trade_no"), status = text(*doc, "status");
  std::int64_t intent_id = 0;
  auto [end, ec] = std::from_chars(intent.data(), intent.data() + intent.size(), intent_id);
  if (ec != std::errc{} || end != intent.data() + intent.size() || refund == nullptr ||
      refund->type() != Json::Type::integer)
    return bad();
  RefundOutcome o{.intent_id = intent_id,
                  .refund_no = text(*doc, "out_refund_no"),
                  .provider_ref = text(*doc, "refund_id"),
                  .amount = Money::fen(refund->as_integer()),
                  .state = RefundState::processing};
  if (status == "SUCCESS")
    o.state = RefundState::succeeded;
  else if (status == "ABNORMAL")
    o.state = RefundState::abnormal;
  else if (status == "CLOSED")
    o.state = RefundState::closed;
  else
    return bad();
  return o;
}

Status apply_refund_outcome(db::Session& tx, const PaymentProvider& provider,
                            const RefundOutcome& outcome, const Clock& clock) {
  auto rows =
      CUNHUO_TRY(tx.query("SELECT id, refund_key, amount_fen, status FROM provider_refunds "
                          "WHERE intent_id = ? ORDER BY id",
                          {outcome.intent_id}));
  const db::Row* row = nullptr;
  for (const auto& r : rows)
    if (!outcome.refund_no.empty() && provider.refund_no(r.str(1)) == outcome.refund_no) row = &r;
  if (row == nullptr || row->i64(2) != outcome.amount.fen())
    return make_error(ErrorKind::unprocessable, std::string(kUnknownRefund),
                      "no refund of this intent and amount was sent", "out_refund_no");
  const std::string status(to_string(outcome.state));
  if (row->str(3) != "sent" && row->str(3) != "requested") {
    if (row->str(3) != status)  // settled already: the first word stands
      spdlog::warn("refund {} is {}, the provider now says {}", row->str(1), row->str(3), status);
    return {};
  }
  auto updated =
      CUNHUO_TRY(tx.exec("UPDATE provider_refunds SET status = ?, provider_ref = ?, "
                         "sent_at = COALESCE(sent_at, ?) WHERE id = ? AND status = ?",
                         {status, outcome.provider_ref, clock.now_ms(), row->i64(0), row->str(3)}));
  if (outcome.state != RefundState::succeeded && updated.affected_rows == 1) {
    CUNHUO_CHECK(take_back_undelivered(tx, provider.name(), row->str(1), outcome.amount,
                                       outcome.state, clock));
    spdlog::error("refund {} is {} at the provider: the money is not back, it needs staff",
                  row->str(1), status);
  }
  return {};
}

namespace {

bool undelivered(std::string_view status) { return status == "abnormal" || status == "closed"; }

// The first eight columns of an undelivered refund's row, in the lists' order.
UndeliveredRefund undelivered_refund_row(const db::Row& r) {
  return UndeliveredRefund{.id = r.i64(0),
                           .order_id = r.i64(1),
                           .intent_id = r.i64(2),
                           .amount_fen = r.i64(3),
                           .status = r.str(4),
                           .reason = r.str(5),
                           .region_code = r.str(6),
                           .sent_at_ms = r.i64(7)};
}

ProviderRefundRecord provider_refund_row(const db::Row& r) {
  ProviderRefundRecord out{.refund = undelivered_refund_row(r), .settlement = std::nullopt};
  if (!r.is_null(8))
    out.settlement = RefundSettlement{
        .refund_id = r.i64(0),
        .method = value_of(kMethodNames, r.str(8)).value_or(OfflineRefundMethod::bank_transfer),
        .reference = r.str(9),
        .amount_fen = r.i64(10),
        .settled_by = r.i64(11),
        .settled_at_ms = r.i64(12)};
  return out;
}

Error invalid_settlement(std::string_view code, std::string message, const char* field) {
  return make_error(ErrorKind::invalid, std::string(code), std::move(message), field);
}

// The fields, once the refund is known to be owed: a named method, a reference, the amount.
Result<OfflineRefundMethod> checked_settlement(const SettlementRequest& request,
                                               std::int64_t owed_fen) {
  const auto method = value_of(kMethodNames, request.method);
  if (!method)
    return invalid_settlement("invalid_method", "how the buyer was paid: bank_transfer or cash",
                              "method");
  if (request.reference.empty() || request.reference.size() > kMaxSettlementReferenceBytes)
    return invalid_settlement("invalid_length",
                              "the transfer's reference or who paid the cash where, in up to " +
                                  std::to_string(kMaxSettlementReferenceBytes) + " bytes",
                              "reference");
  if (request.amount_fen != owed_fen)
    return invalid_settlement(kSettlementAmountMismatch,
                              "the buyer is owed " + std::to_string(owed_fen) + " fen",
                              "amount_fen");
  return *method;
}

}  // namespace

Result<std::vector<UndeliveredRefund>> undelivered_refunds(db::Session& s,
                                                           std::string_view region_code,
                                                           std::optional<std::int64_t> before_id,
                                                           int limit) {
  std::string sql =
      "SELECT r.id, r.order_id, r.intent_id, r.amount_fen, r.status, r.reason, "
      "COALESCE(o.region_code, ''), COALESCE(r.sent_at, r.created_at) FROM provider_refunds r "
      "LEFT JOIN payment_orders o ON o.order_id = r.order_id "
      "WHERE r.status IN ('abnormal', 'closed') "
      "AND NOT EXISTS (SELECT 1 FROM refund_settlements s WHERE s.refund_id = r.id)";
  std::vector<db::Value> args;
  if (!region_code.empty()) {  // an area is a prefix of the shop's village code
    sql += " AND o.region_code LIKE ?";
    args.emplace_back(std::string(region_code) + "%");
  }
  if (before_id) {
    sql += " AND r.id < ?";
    args.emplace_back(*before_id);
  }
  sql += " ORDER BY r.id DESC LIMIT " + std::to_string(limit);
  std::vector<UndeliveredRefund> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, args)))
    out.push_back(undelivered_refund_row(r));
  return out;
}

Result<std::int64_t> count_undelivered_refunds(db::Session& s) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT COUNT(*) FROM provider_refunds r WHERE r.status IN ('abnormal', "
                  "'closed') AND NOT EXISTS (SELECT 1 FROM refund_settlements s WHERE "
                  "s.refund_id = r.id)"));
  return row ? row->i64(0) : 0;
}

std::string_view to_string(OfflineRefundMethod method) { return name_of(kMethodNames, method); }

std::vector<std::string> offline_refund_method_names() {
  std::vector<std::string> out;
  for (const auto& [method, name] : kMethodNames) out.emplace_back(name);
  return out;
}

Result<std::optional<ProviderRefundRecord>> find_provider_refund(db::Session& s,
                                                                 std::int64_t refund_id) {
  auto row =
      CUNHUO_TRY(s.query_one(std::string(kRefundRecordSelect) + "WHERE r.id = ?", {refund_id}));
  if (!row) return std::optional<ProviderRefundRecord>();
  return std::optional<ProviderRefundRecord>(provider_refund_row(*row));
}

Result<ProviderRefundRecord> settle_undelivered_refund(db::Session& tx,
                                                       const SettlementRequest& request,
                                                       const Clock& clock) {
  auto found = CUNHUO_TRY(find_provider_refund(tx, request.refund_id));
  if (!found) return make_error(ErrorKind::not_found, "not_found", "no such refund", "id");
  if (!undelivered(found->refund.status))
    return make_error(ErrorKind::conflict, std::string(kNotUndelivered),
                      "this refund is " + found->refund.status + ": nothing is owed", "id");
  auto settled_before = [] {
    return make_error(ErrorKind::conflict, std::string(kRefundAlreadySettled),
                      "this refund was paid to the buyer already", "id");
  };
  if (found->settlement) return settled_before();
  const auto method = CUNHUO_TRY(checked_settlement(request, found->refund.amount_fen));
  const auto now = clock.now_ms();
  // The row is the once: of two settlements at once only one inserts it (MariaDB reads a
  // snapshot, so the check above may miss the other).
  auto inserted = CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) +
                  " INTO refund_settlements (refund_id, method, reference, amount_fen, settled_by, "
                  "settled_at) VALUES (?, ?, ?, ?, ?, ?)",
              {request.refund_id, std::string(to_string(method)), request.reference,
               found->refund.amount_fen, request.settled_by, now}));
  if (inserted.affected_rows != 1) return settled_before();
  auto key = CUNHUO_TRY(
      tx.query_one("SELECT refund_key FROM provider_refunds WHERE id = ?", {request.refund_id}));
  CUNHUO_ASSERT(key);
  const AccountSpec paid_offline{accounts::kRefundsPaidOffline, false};
  CUNHUO_CHECK(open_accounts(tx, std::span(&paid_offline, 1), clock));
  const Transfer paid{.key = "settled:" + key->str(0),
                      .debit = accounts::kRefundsOwed,
                      .credit = accounts::kRefundsPaidOffline,
                      .amount = Money::fen(found->refund.amount_fen),
                      .kind = TransferKind::posted,
                      .pending_key = "",
                      .reference = "refund:" + key->str(0).substr(0, 90),
                      .memo = "owed refund paid to the buyer by " + std::string(to_string(method))};
  CUNHUO_TRY(transfer(tx, std::span(&paid, 1), clock));
  found->settlement = RefundSettlement{.refund_id = request.refund_id,
                                       .method = method,
                                       .reference = request.reference,
                                       .amount_fen = found->refund.amount_fen,
                                       .settled_by = request.settled_by,
                                       .settled_at_ms = now};
  return std::move(*found);
}

Result<int> settle_provider_refunds(db::Database& db, PaymentProvider& provider, const Clock& clock,
                                    const std::function<bool()>& still_leading) {
  auto due = CUNHUO_TRY(db.read([&](db::Session& s) {
    return s.query(
        "SELECT r.refund_key, r.intent_id, r.amount_fen FROM provider_refunds r JOIN "
        "payment_intents i ON i.id = r.intent_id WHERE r.status = 'sent' AND r.sent_at <= ? "
        "AND i.provider = ? ORDER BY r.id LIMIT 100",
        {clock.now_ms() - kRefundQueryAfterMs, provider.name()});
  }));
  int settled = 0;
  for (const auto& r : due) {
    if (still_leading && !still_leading()) break;  // another process asks after the rest
    auto state = provider.query_refund_state(r.str(0));
    if (!state.ok()) {
      spdlog::warn("refund {} not asked after: {}", r.str(0), state.error().message);
      continue;
    }
    if (state->state == RefundState::processing) continue;
    const RefundOutcome outcome{.intent_id = r.i64(1),
                                .refund_no = provider.refund_no(r.str(0)),
                                .provider_ref = state->provider_ref,
                                .amount = Money::fen(r.i64(2)),
                                .state = state->state};
    CUNHUO_CHECK(db.write(
        [&](db::Session& tx) { return apply_refund_outcome(tx, provider, outcome, clock); }));
    ++settled;
  }
  return settled;
}

}  // namespace cunhuo::payments
