#include "payments/intents.hpp"

#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "payments/accounts.hpp"
#include "payments/closes.hpp"
#include "payments/ledger.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 2, "payment intents and what each order sold",
     "CREATE TABLE IF NOT EXISTS payment_intents (\n"
     "  id {{ID}},\n"
     "  checkout_id BIGINT NOT NULL,\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  currency VARCHAR(3) NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  provider VARCHAR(20) NOT NULL,\n"
     "  provider_ref VARCHAR(64),\n"
     "  pay_url VARCHAR(200),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  paid_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS payment_intents_checkout ON payment_intents (checkout_id);\n"
     "CREATE TABLE IF NOT EXISTS payment_orders (\n"
     "  order_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  checkout_id BIGINT NOT NULL,\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  cooperative INT NOT NULL,\n"
     "  total_fen BIGINT NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  completed INT NOT NULL DEFAULT 0,\n"
     "  refunded_fen BIGINT NOT NULL DEFAULT 0,\n"
     "  paid_at BIGINT,\n"
     "  settled_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS payment_orders_checkout ON payment_orders (checkout_id);\n"
     "CREATE TABLE IF NOT EXISTS payment_lines (\n"
     "  order_id BIGINT NOT NULL,\n"
     "  line_no INT NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  title VARCHAR(200) NOT NULL,\n"
     "  quantity BIGINT NOT NULL,\n"
     "  line_total_fen BIGINT NOT NULL,\n"
     "  campaign_id BIGINT,\n"
     "  campaign_kind VARCHAR(20) NOT NULL,\n"
     "  alleviation INT NOT NULL,\n"
     "  producers TEXT NOT NULL,\n"
     "  PRIMARY KEY (order_id, line_no)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS provider_nonces (\n"
     "  nonce VARCHAR(64) NOT NULL PRIMARY KEY,\n"
     "  seen_at BIGINT NOT NULL\n"
     ");\n"},
    {"payments", 8, "provider nonces pruned by age",
     "CREATE INDEX IF NOT EXISTS provider_nonces_age ON provider_nonces (seen_at);\n"},
    // One row per checkout that every open_intent writes first: two processes (or two Galera
    // nodes) opening a payment for one checkout conflict on it, so one waits (or is retried)
    // and then finds the other's intent instead of opening a second provider order.
    {"payments", 19, "one payment opened at a time per checkout",
     "CREATE TABLE IF NOT EXISTS payment_checkout_turns (\n"
     "  checkout_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  turns BIGINT NOT NULL\n"
     ");\n"},
};

constexpr std::array<std::pair<IntentStatus, std::string_view>, 4> kStatusNames = {{
    {IntentStatus::open, "open"},
    {IntentStatus::succeeded, "succeeded"},
    {IntentStatus::failed, "failed"},
    {IntentStatus::returned, "returned"},
}};

constexpr const char* kIntentColumns =
    "id, checkout_id, buyer_id, amount_fen, currency, status, provider, COALESCE(provider_ref, "
    "''), COALESCE(pay_url, ''), "
    "created_at, paid_at";

Result<Intent> intent_from(const db::Row& r) {
  Intent i;
  i.id = r.i64(0);
  i.checkout_id = r.i64(1);
  i.buyer_id = r.i64(2);
  i.amount = Money::fen(r.i64(3));
  i.currency = r.str(4);
  auto status = value_of(kStatusNames, r.str(5));
  if (!status)
    return make_error(ErrorKind::internal, "corrupt_intent", "unknown intent status " + r.str(5));
  i.status = *status;
  i.provider = r.str(6);
  i.provider_ref = r.str(7);
  i.pay_url = r.str(8);
  i.created_at_ms = r.i64(9);
  i.paid_at_ms = r.opt_i64(10);
  return i;
}

std::string producers_json(const std::vector<ProducerPart>& producers) {
  JsonWriter w;
  w.begin_array();
  for (const auto& p : producers)
    w.begin_object()
        .field("household_id", p.household_id)
        .field("share_bps", p.share_bps)
        .end_object();
  w.end_array();
  return w.take();
}

Status check_payable(const Payable& p) {
  Money sum;
  for (const auto& o : p.orders) {
    Money lines;
    for (const auto& l : o.lines) {
      int bps = 0;
      for (const auto& part : l.producers) bps += part.share_bps;
      if (bps != 10000)
        return make_error(ErrorKind::internal, "bad_payable",
                          "producer shares of a line do not sum to 10000");
      lines = CUNHUO_TRY(lines.plus(l.line_total));
    }
    if (lines != o.total)
      return make_error(ErrorKind::internal, "bad_payable",
                        "an order's lines do not add up to its total");
    sum = CUNHUO_TRY(sum.plus(o.total));
  }
  if (sum != p.total || p.total.fen() <= 0)
    return make_error(ErrorKind::internal, "bad_payable", "orders do not add up to the checkout");
  return {};
}

Status record_payable(db::Session& tx, const Payable& p) {
  for (const auto& o : p.orders) {
    CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                           " INTO payment_orders (order_id, checkout_id, buyer_id, "
                           "shop_id, cooperative, total_fen, status, "
                           "region_code) VALUES (?, ?, ?, ?, ?, ?, 'unpaid', ?)",
                       {o.order_id, p.checkout_id, p.buyer_id, o.shop_id, o.cooperative ? 1 : 0,
                        o.total.fen(), o.region_code}));
    for (std::size_t n = 0; n < o.lines.size(); ++n) {
      const auto& l = o.lines[n];
      CUNHUO_TRY(tx.exec(
          std::string(tx.insert_ignore()) +
              " INTO payment_lines (order_id, line_no, product_id, title, quantity, "
              "line_total_fen, campaign_id, "
              "campaign_kind, alleviation, producers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {o.order_id, static_cast<std::int64_t>(n), l.product_id, l.title, l.quantity,
           l.line_total.fen(), l.campaign_id, l.campaign_kind, l.alleviation_campaign ? 1 : 0,
           producers_json(l.producers)}));
    }
  }
  return {};
}

constexpr std::string_view kTransactionSuccess = "TRANSACTION.SUCCESS";

struct Notice {
  std::string event_id, event_type, provider_ref, currency;
  std::int64_t intent_id = 0, amount_fen = 0, paid_at_ms = 0;
};

Result<Notice> parse_notice(const std::string& body) {
  auto bad = [](std::string what) {
    return make_error(ErrorKind::invalid, "bad_notification", std::move(what), "body");
  };
  auto doc = Json::parse(body);
  if (!doc.ok()) return bad("the notification is not JSON");
  auto reader = FieldReader::root(*doc);
  if (!reader.ok()) return bad("the notification is not a JSON object");
  Notice n;
  n.event_id = CUNHUO_TRY(reader->string("id", 64));
  n.event_type = CUNHUO_TRY(reader->string("event_type", 40));
  n.intent_id = std::atoll(CUNHUO_TRY(reader->string("out_trade_no", 32)).c_str());
  n.provider_ref = CUNHUO_TRY(reader->string("transaction_id", 64));
  auto amount = CUNHUO_TRY(reader->object("amount"));
  n.amount_fen = CUNHUO_TRY(amount.integer("total", 0, INT64_MAX / 4));
  n.currency = CUNHUO_TRY(amount.string("currency", 3));
  n.paid_at_ms = CUNHUO_TRY(reader->optional_integer("paid_at_ms", 0, INT64_MAX)).value_or(0);
  if (n.event_type != kTransactionSuccess && n.event_type != "TRANSACTION.FAIL")
    return bad("unknown event type " + n.event_type);
  return n;
}

Error refuse(std::string code, std::string message) {
  spdlog::warn("payment notification refused: {}", message);
  return make_error(ErrorKind::unprocessable, std::move(code), std::move(message), "body");
}

// The money of an intent that succeeded after another one had paid its checkout: it is
// kept apart from any escrow and sent back through the outbox.
Status set_aside(db::Session& tx, const Intent& intent, const std::string& provider,
                 const Clock& clock) {
  CUNHUO_TRY(tx.exec("UPDATE payment_intents SET status = 'returned' WHERE id = ?", {intent.id}));
  const AccountSpec specs[] = {{accounts::provider(provider), true}, {accounts::kReturns, false}};
  CUNHUO_CHECK(open_accounts(tx, specs, clock));
  const Transfer in{.key = "pay:" + std::to_string(intent.id) + ":returned",
                    .debit = accounts::provider(provider),
                    .credit = accounts::kReturns,
                    .amount = intent.amount,
                    .kind = TransferKind::posted,
                    .pending_key = "",
                    .reference = "intent:" + std::to_string(intent.id),
                    .memo = "paid after the checkout was paid: goes back"};
  CUNHUO_TRY(transfer(tx, std::span(&in, 1), clock));
  const PaymentReturned returned{.intent_id = intent.id, .checkout_id = intent.checkout_id};
  CUNHUO_TRY(outbox::publish(tx, kPaymentReturned, returned.encode(), clock));
  spdlog::warn("intent {} paid checkout {} a second time: the money goes back", intent.id,
               intent.checkout_id);
  return {};
}

// Money arrives: provider → the escrow of each order in the checkout. The checkout's
// orders are claimed first by a conditional update: of two intents succeeding at once,
// only one finds them unpaid; the other's money is set aside and sent back.
Result<NoticeOutcome> capture(db::Session& tx, const Intent& intent, const std::string& provider,
                              const Clock& clock) {
  auto claimed = CUNHUO_TRY(
      tx.exec("UPDATE payment_orders SET status = 'paid', paid_at = ? WHERE checkout_id = ? "
              "AND status = 'unpaid'",
              {clock.now_ms(), intent.checkout_id}));
  if (claimed.affected_rows == 0) {
    CUNHUO_CHECK(set_aside(tx, intent, provider, clock));
    return NoticeOutcome::returned;
  }
  auto orders = CUNHUO_TRY(tx.query(
      "SELECT order_id, total_fen FROM payment_orders WHERE checkout_id = ? ORDER BY order_id",
      {intent.checkout_id}));
  std::vector<AccountSpec> specs{{accounts::provider(provider), true}};
  std::vector<Transfer> moves;
  std::int64_t sum = 0;
  PaymentCaptured captured{.checkout_id = intent.checkout_id, .intent_id = intent.id};
  for (const auto& o : orders) {
    specs.push_back({accounts::escrow(o.i64(0)), false});
    moves.push_back(Transfer{
        "pay:" + std::to_string(intent.id) + ":order:" + std::to_string(o.i64(0)),
        accounts::provider(provider), accounts::escrow(o.i64(0)), Money::fen(o.i64(1)),
        TransferKind::posted, "", "order:" + std::to_string(o.i64(0)), "payment captured"});
    sum += o.i64(1);
    captured.order_ids.push_back(o.i64(0));
  }
  // An intent is for exactly its checkout's orders, which move from unpaid together.
  CUNHUO_ASSERT(sum == intent.amount.fen());
  CUNHUO_ASSERT(claimed.affected_rows == static_cast<std::int64_t>(orders.size()));
  CUNHUO_CHECK(open_accounts(tx, specs, clock));
  CUNHUO_TRY(transfer(tx, moves, clock));
  CUNHUO_TRY(outbox::publish(tx, kPaymentCaptured, captured.encode(), clock));
  return NoticeOutcome::captured;
}

// A payment's outcome, from its notification or a query of its order: refuses an unknown
// intent, a wrong amount or currency; a repeat of an outcome already recorded is a no-op.
Result<NoticeOutcome> apply_notice(db::Session& tx, const Notice& n, const std::string& provider,
                                   const Clock& clock) {
  auto intent = CUNHUO_TRY(find_intent(tx, n.intent_id));
  if (!intent || intent->provider != provider)
    return refuse("unknown_intent", "no intent " + std::to_string(n.intent_id));
  if (n.amount_fen != intent->amount.fen() || n.currency != intent->currency)
    return refuse("amount_mismatch", "intent " + std::to_string(intent->id) + " is for " +
                                         std::to_string(intent->amount.fen()) + " " +
                                         intent->currency + ", the provider says " +
                                         std::to_string(n.amount_fen) + " " + n.currency);
  const bool success = n.event_type == kTransactionSuccess;
  if (intent->status == IntentStatus::succeeded || intent->status == IntentStatus::returned)
    return NoticeOutcome::duplicate;  // paid is final
  if (!success) {
    if (intent->status == IntentStatus::failed) return NoticeOutcome::duplicate;
    CUNHUO_TRY(
        tx.exec("UPDATE payment_intents SET status = 'failed', updated_at = ? WHERE id = ? AND "
                "status = 'open'",
                {clock.now_ms(), intent->id}));
    return NoticeOutcome::failed;
  }
  // A success after a failure still means the money arrived: it is captured, never lost.
  auto moved =
      CUNHUO_TRY(tx.exec("UPDATE payment_intents SET status = 'succeeded', provider_ref = ?, "
                         "paid_at = ?, updated_at = ? WHERE id = ? "
                         "AND status IN ('open', 'failed')",
                         {n.provider_ref, n.paid_at_ms > 0 ? n.paid_at_ms : clock.now_ms(),
                          clock.now_ms(), intent->id}));
  if (moved.affected_rows != 1)  // the same success applied meanwhile by another transaction
    return make_error(ErrorKind::conflict, "concurrent_update", "the intent changed meanwhile",
                      "body");
  intent->status = IntentStatus::succeeded;
  return capture(tx, *intent, provider, clock);
}

}  // namespace

std::span<const db::Migration> intent_migrations() { return kMigrations; }

std::string PaymentCaptured::encode() const {
  JsonWriter w;
  w.begin_object().field("checkout_id", checkout_id).field("intent_id", intent_id);
  w.key("order_ids").begin_array();
  for (std::int64_t id : order_ids) w.value(id);
  w.end_array().end_object();
  return w.take();
}

Result<PaymentCaptured> PaymentCaptured::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("PaymentCaptured", payload));
  return PaymentCaptured{.checkout_id = CUNHUO_TRY(p.integer("checkout_id")),
                         .intent_id = CUNHUO_TRY(p.integer("intent_id")),
                         .order_ids = CUNHUO_TRY(p.integers("order_ids"))};
}

std::string PaymentReturned::encode() const {
  JsonWriter w;
  w.begin_object().field("intent_id", intent_id).field("checkout_id", checkout_id).end_object();
  return w.take();
}

Result<PaymentReturned> PaymentReturned::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("PaymentReturned", payload));
  return PaymentReturned{.intent_id = CUNHUO_TRY(p.integer("intent_id")),
                         .checkout_id = CUNHUO_TRY(p.integer("checkout_id"))};
}

std::string_view to_string(IntentStatus status) { return name_of(kStatusNames, status); }

Result<std::optional<Intent>> find_intent(db::Session& s, std::int64_t intent_id) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kIntentColumns + " FROM payment_intents WHERE id = ?", {intent_id}));
  if (!row) return std::optional<Intent>();
  return std::optional<Intent>(CUNHUO_TRY(intent_from(*row)));
}

static_assert(kNonceRetentionMs > 2 * kNotificationSkewMs,
              "a nonce outlives its timestamp's window");

Result<std::int64_t> prune_nonces(db::Session& tx, std::int64_t now_ms) {
  return db::prune_older(tx, "provider_nonces", "seen_at", now_ms - kNonceRetentionMs,
                         kNoncePruneBatch);
}

namespace {

// Takes the checkout's turn: a write both of two concurrent openers make, so the store
// serialises them (a row lock on one server, a certification conflict on Galera).
Status take_checkout_turn(db::Session& tx, std::int64_t checkout_id) {
  CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                         " INTO payment_checkout_turns (checkout_id, turns) VALUES (?, 0)",
                     {checkout_id}));
  CUNHUO_TRY(tx.exec("UPDATE payment_checkout_turns SET turns = turns + 1 WHERE checkout_id = ?",
                     {checkout_id}));
  return {};
}

}  // namespace

Result<Intent> open_intent(db::Session& tx, const Payable& payable, const std::string& provider,
                           const Clock& clock) {
  CUNHUO_CHECK(check_payable(payable));
  std::vector<std::int64_t> replaced;  // failed ones: their provider orders are closed
  CUNHUO_CHECK(take_checkout_turn(tx, payable.checkout_id));
  // A locking read sees an intent the turn's previous holder committed after this
  // transaction's snapshot began (MariaDB's REPEATABLE READ); SQLite has one writer anyway.
  const std::string latest = tx.dialect() == db::Dialect::mysql ? " FOR UPDATE" : "";
  for (const auto& row : CUNHUO_TRY(
           tx.query(std::string("SELECT ") + kIntentColumns +
                        " FROM payment_intents WHERE checkout_id = ? ORDER BY id DESC" + latest,
                    {payable.checkout_id}))) {
    auto intent = CUNHUO_TRY(intent_from(row));
    if (intent.status == IntentStatus::succeeded)
      return make_error(ErrorKind::conflict, "already_paid", "this checkout is already paid",
                        "checkout_id");
    if (intent.status == IntentStatus::open) return intent;  // one payment in progress per checkout
    if (intent.status == IntentStatus::failed) replaced.push_back(intent.id);
  }
  CUNHUO_CHECK(record_payable(tx, payable));
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO payment_intents (checkout_id, buyer_id, amount_fen, currency, status, "
              "provider, created_at, "
              "updated_at) VALUES (?, ?, ?, 'CNY', 'open', ?, ?, ?)",
              {payable.checkout_id, payable.buyer_id, payable.total.fen(), provider, now, now}));
  Intent intent;
  intent.id = CUNHUO_TRY(tx.last_insert_id());
  for (std::int64_t old : replaced) CUNHUO_CHECK(request_close(tx, old, kCloseReplaced, clock));
  intent.checkout_id = payable.checkout_id;
  intent.buyer_id = payable.buyer_id;
  intent.amount = payable.total;
  intent.provider = provider;
  intent.created_at_ms = now;
  return intent;
}

Status attach_provider_payment(db::Session& tx, std::int64_t intent_id,
                               const ProviderPayment& payment) {
  CUNHUO_TRY(tx.exec("UPDATE payment_intents SET provider_ref = ?, pay_url = ? WHERE id = ?",
                     {payment.provider_ref, payment.pay_url, intent_id}));
  return {};
}

Result<NoticeOutcome> apply_notification(db::Session& tx, const Notification& notification,
                                         const std::string& provider, const Clock& clock) {
  if (notification.nonce.empty() || notification.nonce.size() > 64)
    return refuse("bad_nonce", "a nonce is 1 to 64 bytes");
  auto fresh = CUNHUO_TRY(tx.exec(
      std::string(tx.insert_ignore()) + " INTO provider_nonces (nonce, seen_at) VALUES (?, ?)",
      {notification.nonce, clock.now_ms()}));
  if (fresh.affected_rows != 1)
    return refuse("replayed", "nonce " + notification.nonce + " was used before");
  return apply_notice(tx, CUNHUO_TRY(parse_notice(notification.body)), provider, clock);
}

Result<NoticeOutcome> apply_queried_payment(db::Session& tx, std::int64_t intent_id,
                                            const ProviderPaid& paid, const std::string& provider,
                                            const Clock& clock) {
  const Notice n{.event_id = "",
                 .event_type = std::string(kTransactionSuccess),
                 .provider_ref = paid.provider_ref,
                 .currency = paid.currency,
                 .intent_id = intent_id,
                 .amount_fen = paid.amount.fen(),
                 .paid_at_ms = paid.paid_at_ms};
  return apply_notice(tx, n, provider, clock);
}

}  // namespace cunhuo::payments
