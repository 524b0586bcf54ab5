#include "payments/simulator.hpp"

#include <sodium.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/json.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 3, "the provider simulator's own books",
     "CREATE TABLE IF NOT EXISTS sim_payments (\n"
     "  id {{ID}},\n"
     "  intent_id BIGINT NOT NULL UNIQUE,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  currency VARCHAR(3) NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  paid_at BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS sim_notifications (\n"
     "  id {{ID}},\n"
     "  payment_id BIGINT NOT NULL,\n"
     "  body TEXT NOT NULL,\n"
     "  attempts INT NOT NULL DEFAULT 0,\n"
     "  next_attempt_at BIGINT NOT NULL,\n"
     "  acknowledged INT NOT NULL DEFAULT 0,\n"
     "  last_status INT NOT NULL DEFAULT 0\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sim_notifications_due ON sim_notifications (acknowledged, "
     "next_attempt_at);\n"
     "CREATE TABLE IF NOT EXISTS sim_refunds (\n"
     "  id {{ID}},\n"
     "  refund_key VARCHAR(100) NOT NULL UNIQUE,\n"
     "  intent_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"},
};

std::string provider_ref(std::int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "SIM%012lld", static_cast<long long>(id));
  return buf;
}

std::string notification_body(const SimPayment& p, bool success, std::int64_t paid_at_ms) {
  JsonWriter w;
  w.begin_object()
      .field("id", "EVT-" + provider_ref(p.id) + (success ? "-SUCCESS" : "-FAIL"))
      .field("event_type", success ? "TRANSACTION.SUCCESS" : "TRANSACTION.FAIL")
      .field("out_trade_no", std::to_string(p.intent_id))
      .field("transaction_id", provider_ref(p.id))
      .key("amount")
      .begin_object()
      .field("total", p.amount.fen())
      .field("currency", "CNY")
      .end_object()
      .field("paid_at_ms", paid_at_ms)
      .end_object();
  return w.take();
}

}  // namespace

Simulator::Simulator(db::Database& db, const Clock& clock, SigningKey key, SimulatorOptions options)
    : db_(db),
      clock_(clock),
      key_(std::move(key)),
      options_(std::move(options)),
      notifier_(net::HttpClientOptions{.timeout_ms = kNotifyTimeoutMs}) {}

Simulator::~Simulator() { stop(); }

std::span<const db::Migration> Simulator::migrations() { return kMigrations; }

Result<ProviderPayment> Simulator::create_payment(const PaymentRequest& request) {
  if (request.amount.fen() <= 0 || request.currency != "CNY")
    return make_error(ErrorKind::invalid, "bad_request", "the sandbox takes positive CNY amounts");
  auto id = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::int64_t> {
    CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                           " INTO sim_payments (intent_id, amount_fen, currency, "
                           "status, created_at) VALUES (?, ?, 'CNY', 'created', ?)",
                       {request.intent_id, request.amount.fen(), clock_.now_ms()}));
    auto row = CUNHUO_TRY(tx.query_one(
        "SELECT id, amount_fen FROM sim_payments WHERE intent_id = ?", {request.intent_id}));
    if (row->i64(1) != request.amount.fen())
      return make_error(ErrorKind::conflict, "amount_changed",
                        "this order was requested before with another amount");
    return row->i64(0);
  }));
  return ProviderPayment{provider_ref(id),
                         "/sim/pay/" + std::to_string(id) + "/" + payer_token(id)};
}

std::string Simulator::payer_token(std::int64_t payment_id) const {
  // An Ed25519 signature is deterministic and unforgeable without the key.
  return sha256_hex(key_.sign("sandbox payer:" + std::to_string(payment_id)))
      .substr(0, kPayerTokenChars);
}

std::optional<std::int64_t> Simulator::payment_of_url(std::string_view pay_url) {
  constexpr std::string_view kPrefix = "/sim/pay/";
  if (!pay_url.starts_with(kPrefix)) return std::nullopt;
  pay_url.remove_prefix(kPrefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(pay_url.data(), pay_url.data() + pay_url.size(), id);
  if (ec != std::errc() || id < 1 || end == pay_url.data() + pay_url.size() || *end != '/')
    return std::nullopt;
  return id;
}

bool Simulator::payer_token_valid(std::int64_t payment_id, std::string_view token) const {
  const std::string expected = payer_token(payment_id);
  return token.size() == expected.size() &&
         sodium_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

Result<std::optional<SimPayment>> Simulator::find(std::int64_t payment_id) {
  return db_.read([&](db::Session& s) -> Result<std::optional<SimPayment>> {
    auto row = CUNHUO_TRY(s.query_one(
        "SELECT id, intent_id, amount_fen, status FROM sim_payments WHERE id = ?", {payment_id}));
    if (!row) return std::optional<SimPayment>();
    return std::optional<SimPayment>(
        SimPayment{row->i64(0), row->i64(1), Money::fen(row->i64(2)), row->str(3)});
  });
}

// Records the payer's choice; returns the notification's body.
Result<std::string> Simulator::record_decision(db::Session& tx, std::int64_t payment_id,
                                               bool success) {
  auto row = CUNHUO_TRY(tx.query_one(
      "SELECT id, intent_id, amount_fen, status FROM sim_payments WHERE id = ?", {payment_id}));
  if (!row) return make_error(ErrorKind::not_found, "not_found", "no such payment");
  if (row->str(3) != "created")
    return make_error(ErrorKind::conflict, "already_decided",
                      "this payment was already " + row->str(3));
  const auto now = clock_.now_ms();
  CUNHUO_TRY(tx.exec(
      "UPDATE sim_payments SET status = ?, paid_at = ? WHERE id = ?",
      {success ? "succeeded" : "failed", success ? db::Value(now) : db::Value(), payment_id}));
  const SimPayment p{row->i64(0), row->i64(1), Money::fen(row->i64(2)), ""};
  return notification_body(p, success, now);
}

Status Simulator::decide(std::int64_t payment_id, bool success) {
  CUNHUO_CHECK(db_.write([&](db::Session& tx) -> Status {
    const std::string body = CUNHUO_TRY(record_decision(tx, payment_id, success));
    for (int copy = 0; copy < (options_.send_twice ? 2 : 1); ++copy)
      CUNHUO_TRY(tx.exec(
          "INSERT INTO sim_notifications (payment_id, body, next_attempt_at) VALUES (?, ?, ?)",
          {payment_id, body, clock_.now_ms()}));
    return {};
  }));
  wake();
  return {};
}

Result<Notification> Simulator::confirm_in_hand(std::int64_t payment_id) {
  auto body = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::string> {
    auto row = CUNHUO_TRY(tx.query_one(
        "SELECT id, intent_id, amount_fen, status, paid_at FROM sim_payments WHERE id = ?",
        {payment_id}));
    if (row && row->str(3) == "succeeded")
      return notification_body(SimPayment{row->i64(0), row->i64(1), Money::fen(row->i64(2)), ""},
                               true, row->i64(4));
    return record_decision(tx, payment_id, true);
  }));
  return sign(body);
}

Status Simulator::confirm(std::int64_t payment_id) { return decide(payment_id, true); }
Status Simulator::fail(std::int64_t payment_id) { return decide(payment_id, false); }

Notification Simulator::sign(const std::string& body) const {
  Notification n;
  n.serial = key_.serial();
  n.timestamp = std::to_string(clock_.now_ms() / 1000);
  n.nonce = random_hex(16);
  n.body = body;
  n.signature = key_.sign(notification_message(n));
  return n;
}

void Simulator::notify_to(std::string url) {
  std::lock_guard lock(mu_);
  options_.notify_url = std::move(url);
}

Result<int> Simulator::post(const Notification& n) {
  std::string url;
  {
    std::lock_guard lock(mu_);
    url = options_.notify_url;
  }
  const auto answer =
      CUNHUO_TRY(notifier_.send(net::HttpRequest{.method = "POST",
                                                 .url = url,
                                                 .headers = {{"Content-Type", "application/json"},
                                                             {kSerialHeader, n.serial},
                                                             {kTimestampHeader, n.timestamp},
                                                             {kNonceHeader, n.nonce},
                                                             {kSignatureHeader, n.signature}},
                                                 .body = n.body}));
  return answer.status;
}

Result<int> Simulator::deliver_due() {
  auto due = CUNHUO_TRY(db_.read([&](db::Session& s) {
    return s.query(
        "SELECT id, body, attempts FROM sim_notifications WHERE acknowledged = 0 AND "
        "next_attempt_at <= ? "
        "AND attempts < ? ORDER BY next_attempt_at, id LIMIT 100",
        {clock_.now_ms(), options_.max_attempts});
  }));
  int acknowledged = 0;
  for (const auto& row : due) {
    auto status = post(sign(row.str(1)));
    const bool ok = status.ok() && *status >= 200 && *status < 300;
    const int attempts = static_cast<int>(row.i64(2)) + 1;
    const std::int64_t wait =
        std::min(options_.retry_cap_ms, options_.retry_base_ms << std::min(attempts, 20));
    CUNHUO_CHECK(db_.write([&](db::Session& tx) -> Status {
      CUNHUO_TRY(tx.exec(
          "UPDATE sim_notifications SET attempts = ?, acknowledged = ?, last_status = ?, "
          "next_attempt_at = ? WHERE id = ?",
          {attempts, ok ? 1 : 0, status.ok() ? *status : 0, clock_.now_ms() + wait, row.i64(0)}));
      return {};
    }));
    if (ok)
      ++acknowledged;
    else
      spdlog::info("sandbox: notification {} not acknowledged (attempt {}), retrying in {} ms",
                   row.i64(0), attempts, wait);
  }
  return acknowledged;
}

Result<bool> Simulator::probe(std::int64_t intent_id, Money amount) {
  const SimPayment p{0, intent_id, amount, "created"};
  Notification n = sign(notification_body(p, true, clock_.now_ms()));
  n.signature =
      SigningKey::from_seed({}).sign(notification_message(n));  // a key the platform does not trust
  auto status = CUNHUO_TRY(post(n));
  return status >= 400 && status < 500;
}

Result<std::string> Simulator::refund(std::int64_t intent_id, Money amount,
                                      const std::string& refund_key) {
  return db_.write([&](db::Session& tx) -> Result<std::string> {
    auto paid = CUNHUO_TRY(tx.query_one(
        "SELECT amount_fen FROM sim_payments WHERE intent_id = ? AND status = 'succeeded'",
        {intent_id}));
    if (!paid)
      return make_error(ErrorKind::conflict, "not_paid", "the sandbox has no payment to refund");
    auto before = CUNHUO_TRY(
        tx.query_one("SELECT id, amount_fen FROM sim_refunds WHERE refund_key = ?", {refund_key}));
    if (before) return "SIMR" + provider_ref(before->i64(0)).substr(3);
    auto refunded = CUNHUO_TRY(tx.query_one(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM sim_refunds WHERE intent_id = ?", {intent_id}));
    if (refunded->i64(0) + amount.fen() > paid->i64(0))
      return make_error(ErrorKind::conflict, "over_refund", "refunds would exceed the payment");
    CUNHUO_TRY(
        tx.exec("INSERT INTO sim_refunds (refund_key, intent_id, amount_fen, created_at) VALUES "
                "(?, ?, ?, ?)",
                {refund_key, intent_id, amount.fen(), clock_.now_ms()}));
    return "SIMR" + provider_ref(CUNHUO_TRY(tx.last_insert_id())).substr(3);
  });
}

Result<std::vector<BillLine>> Simulator::bill(const std::string& date) {
  auto day = parse_date(date);
  if (!day) return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  const std::int64_t from = shanghai_midnight_ms(*day), to = from + 86'400'000;
  return db_.read([&](db::Session& s) -> Result<std::vector<BillLine>> {
    std::vector<BillLine> out;
    for (const auto& r : CUNHUO_TRY(s.query(
             "SELECT id, intent_id, amount_fen FROM sim_payments WHERE status = 'succeeded' "
             "AND paid_at >= ? AND paid_at < ? ORDER BY id",
             {from, to})))
      out.push_back(BillLine{"payment", provider_ref(r.i64(0)), r.i64(1), r.i64(2)});
    for (const auto& r : CUNHUO_TRY(
             s.query("SELECT id, intent_id, amount_fen FROM sim_refunds WHERE created_at >= ? "
                     "AND created_at < ? ORDER BY id",
                     {from, to})))
      out.push_back(
          BillLine{"refund", "SIMR" + provider_ref(r.i64(0)).substr(3), r.i64(1), r.i64(2)});
    return out;
  });
}

Result<std::string> Simulator::bill_csv(const std::string& date) {
  auto lines = CUNHUO_TRY(bill(date));
  std::string csv = "type,provider_ref,out_trade_no,amount_fen,currency\n";
  for (const auto& l : lines)
    csv += l.type + "," + l.provider_ref + "," + std::to_string(l.intent_id) + "," +
           std::to_string(l.amount_fen) + ",CNY\n";
  return csv;
}

void Simulator::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock held(mu_);
    while (!stopping_) {
      held.unlock();
      auto sent = deliver_due();
      if (!sent.ok())
        spdlog::warn("sandbox: delivering notifications failed: {}", sent.error().message);
      held.lock();
      cv_.wait_for(held, std::chrono::milliseconds(options_.poll_ms), [&] { return stopping_; });
    }
  });
}

void Simulator::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cunhuo::payments
