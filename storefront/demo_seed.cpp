// The demo county "minqin", loaded through the service's own pieces: accounts through
// auth, payments through the sandbox and the notification path, everything after through
// the flows of the outbox. It runs on a manual clock of its own, moved through 90 days;
// the service's own threads have not started yet.
#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/net/http_client.hpp"
#include "marketplace/orders.hpp"
#include "payments/intents.hpp"
#include "seeds/demo.hpp"
#include "seeds/loader.hpp"
#include "storefront/app.hpp"
#include "storefront/flows.hpp"
#include "storefront/payments_routes.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kHistoryEndHourMs = 15 * 3'600'000;  // the history ends at 15:00

// The latest 15:00 in Shanghai at or before `now_ms`: the demo's "now", when parcels wait
// in the cold stores for the evening trunk.
std::int64_t history_end(std::int64_t now_ms) {
  const std::int64_t today = shanghai_midnight_ms(shanghai_date(now_ms)) + kHistoryEndHourMs;
  return today <= now_ms ? today : today - kDayMs;
}

// The demo's store, its statements counted. Fault injection for the tests of a resumed
// load (tests/process): with the environment variable CUNHUO_DEMO_KILL_AT=N the process
// kills itself with SIGKILL at the load's Nth statement, inside that statement's
// transaction: a crash at a point the test chooses.
constexpr const char* kKillAtVariable = "CUNHUO_DEMO_KILL_AT";

class KillingStore final : public db::Database {
 public:
  KillingStore(db::Database& inner, std::int64_t kill_at) : inner_(inner), kill_at_(kill_at) {}
  db::Dialect dialect() const override { return inner_.dialect(); }
  std::string describe() const override { return inner_.describe(); }
  Status ping() override { return inner_.ping(); }
  Status flush() override { return inner_.flush(); }
  std::int64_t statements() const { return seen_; }
  void count() {
    if (++seen_ == kill_at_) ::raise(SIGKILL);
  }

 protected:
  Status run(db::TxMode mode, const std::function<Status(db::Session&)>& body) override;

 private:
  db::Database& inner_;
  const std::int64_t kill_at_;
  std::atomic<std::int64_t> seen_ = 0;
};

class KillingSession final : public db::Session {
 public:
  KillingSession(db::Session& inner, KillingStore& store) : inner_(inner), store_(store) {}
  db::Dialect dialect() const override { return inner_.dialect(); }
  Result<db::Exec> exec_with(std::string_view sql, std::span<const db::Value> params) override {
    store_.count();
    return inner_.exec_with(sql, params);
  }
  Result<std::vector<db::Row>> query_with(std::string_view sql,
                                          std::span<const db::Value> params) override {
    store_.count();
    return inner_.query_with(sql, params);
  }
  Result<std::int64_t> last_insert_id() override { return inner_.last_insert_id(); }
  Status exec_script(std::string_view sql) override {
    store_.count();
    return inner_.exec_script(sql);
  }

 private:
  db::Session& inner_;
  KillingStore& store_;
};

Status KillingStore::run(db::TxMode mode, const std::function<Status(db::Session&)>& body) {
  auto counted = [&](db::Session& s) -> Status {
    KillingSession killing(s, *this);
    return body(killing);
  };
  return mode == db::TxMode::write ? inner_.write(counted) : inner_.read(counted);
}

std::int64_t kill_at_from_environment() {
  const char* text = std::getenv(kKillAtVariable);
  return text ? std::atoll(text) : 0;
}

}  // namespace

// A load cut short between a step and the drain that follows it left that step's events
// waiting: they are handed out first, on a clock at the moment they were published, as
// the load would have done at once (its clock stands still between a step and its drain).
Status App::catch_up_outbox(db::Database& store) {
  const auto waiting =
      CUNHUO_TRY(store.read([](db::Session& s) { return outbox::newest_waiting_at(s); }));
  if (!waiting) return {};
  ManualClock then(*waiting);
  outbox::Dispatcher dispatcher(store, then, outbox::DispatcherOptions{});
  subscribe_flows(dispatcher, FlowContext{.clock = then, .fees = fees(), .planner = *planner_});
  CUNHUO_TRY(dispatcher.drain());
  return {};
}

Status App::load_demo() {
  if (!wechatpay_ || wechatpay_->name() != payments::kSandboxProvider)
    return make_error(ErrorKind::invalid, "demo_needs_sandbox",
                      "the demo county pays its orders in the payment sandbox: run it with "
                      "--payment-simulator on (or a sandbox's wechatpay-config), or choose "
                      "--seed fixture or none",
                      "seed");
  const auto started = std::chrono::steady_clock::now();
  // Tens of thousands of small transactions: committed without waiting for the disk one
  // by one, made durable together at the end (a crash before that resumes, see build()).
  auto bulk = CUNHUO_TRY(db::open_database(
      config_.db_url, db::DatabaseOptions{.pool_size = 2, .durable_commits = false}));
  KillingStore store(*bulk, kill_at_from_environment());
  CUNHUO_CHECK(seeds::demo::check_no_other_seed(store));
  const auto span = CUNHUO_TRY(seeds::demo::history_span(
      store, {.end_ms = history_end(clock_.now_ms()), .days = config_.demo_days}));
  const std::int64_t end_ms = span.end_ms;
  ManualClock clock(end_ms - (span.days + 1) * kDayMs);
  std::vector<std::int64_t> buyers;
  auto create = [&](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
    NewAccount account{
        a.phone,       a.password,     a.display_name, CUNHUO_TRY(parse_role(a.role)),
        a.region_code, a.household_id, a.shop_id,      a.node_id};
    const auto id = CUNHUO_TRY(auth_.create_account(tx, account));
    if (account.role == Role::consumer) buyers.push_back(id);
    return id;
  };
  const auto loaded = CUNHUO_TRY(seeds::load(store, seeds::demo::county_json(), clock, create));
  // Its place names came with a later version of the demo: a set of their own, so a store
  // that loaded the county before gets them too.
  CUNHUO_TRY(seeds::load(store, seeds::demo::places_json(), clock, create));
  if (!loaded.loaded) {  // loaded before, maybe not to the end: its buyers are read back
    auto rows = CUNHUO_TRY(store.read([](db::Session& s) {
      return s.query("SELECT id FROM accounts WHERE role = 'consumer' ORDER BY id");
    }));
    for (const auto& r : rows) buyers.push_back(r.i64(0));
  }
  planner_->invalidate();  // the network the loader made
  CUNHUO_CHECK(catch_up_outbox(store));
  outbox::Dispatcher dispatcher(store, clock, outbox::DispatcherOptions{});
  subscribe_flows(dispatcher, FlowContext{.clock = clock, .fees = fees(), .planner = *planner_});
  payments::wechatpay::WechatPayProvider& provider = *wechatpay_;
  const net::HttpClient payer;  // the payer's browser on the sandbox's page
  // Paying as the buyer does: an intent, the order made through the WeChat Pay adapter, the
  // payer's confirmation on the sandbox's page, and its signed, encrypted notification opened
  // and applied as the callback does. The sandbox hands the notification back instead of
  // sending it (nothing listens yet), paid at this moment of the demo's history. Each step
  // finds what a load cut short did before: the checkout paid, the open intent and its
  // order (its pay URL), the payer's confirmation (the sandbox answers it again).
  auto pay = [&](std::int64_t checkout_id) -> Status {
    auto opened =
        CUNHUO_TRY(store.write([&](db::Session& tx) -> Result<std::optional<payments::Intent>> {
          auto checkout =
              CUNHUO_TRY(marketplace::find_checkout(tx, marketplace::CheckoutId{checkout_id}));
          CUNHUO_ASSERT(checkout.has_value());
          const bool paid = std::any_of(
              checkout->orders.begin(), checkout->orders.end(), [](const marketplace::Order& o) {
                return o.status != marketplace::OrderStatus::pending_payment;
              });
          if (paid) return std::optional<payments::Intent>();
          return std::optional<payments::Intent>(CUNHUO_TRY(payments::open_intent(
              tx, CUNHUO_TRY(payable_of(tx, *checkout)), provider.name(), clock)));
        }));
    if (!opened) return {};  // paid before the load was cut short
    const auto& intent = *opened;
    std::string pay_url = intent.pay_url;
    if (pay_url.empty()) {
      auto made = CUNHUO_TRY(provider.create_payment(
          payments::PaymentRequest{intent.id, intent.amount, intent.currency,
                                   "Cunhuo checkout " + std::to_string(checkout_id)}));
      CUNHUO_CHECK(store.write(
          [&](db::Session& tx) { return payments::attach_provider_payment(tx, intent.id, made); }));
      pay_url = made.pay_url;
    }
    CUNHUO_ASSERT(pay_url.find("/pay/") != std::string::npos);  // the sandbox made it
    // The page as the sandbox serves it now: one started in-process listens on another port
    // after a restart, and its pages are on the same listener as its API.
    const std::string page = provider.payer_origin() + pay_url.substr(pay_url.find("/pay/"));
    const auto answer = CUNHUO_TRY(payer.send(net::HttpRequest{
        .method = "POST",
        .url = page + "/confirm",
        .headers = {{"Content-Type", "application/json"}},
        .body = R"({"in_hand":true,"paid_at_ms":)" + std::to_string(clock.now_ms()) + "}"}));
    auto sealed = Json::parse(answer.body);
    auto text = [&](const char* key) {
      const Json* v = sealed.ok() ? sealed->find(key) : nullptr;
      return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
    };
    if (answer.status != 200)
      return make_error(ErrorKind::unavailable, "sandbox_refused",
                        "the sandbox did not take the payment: " + answer.body.substr(0, 200));
    const auto notice = CUNHUO_TRY(provider.open_notification(payments::Notification{
        text("serial"), text("timestamp"), text("nonce"), text("signature"), text("body")}));
    const auto outcome = CUNHUO_TRY(store.write([&](db::Session& tx) {
      return payments::apply_notification(tx, notice, provider.name(), clock);
    }));
    CUNHUO_ASSERT(outcome == payments::NoticeOutcome::captured);
    return {};
  };
  auto drain = [&]() -> Status {
    CUNHUO_TRY(dispatcher.drain());
    return {};
  };
  const seeds::demo::Hooks hooks{
      .buyers = buyers,
      .pay = pay,
      .drain = drain,
      .payment_window = std::chrono::milliseconds(config_.payment_window_ms),
      .auto_confirm = std::chrono::milliseconds(config_.auto_confirm_ms),
      .days = span.days};
  const auto report = CUNHUO_TRY(
      seeds::demo::build(store, clock, end_ms, *planner_, config_.data_dir + "/photos", hooks));
  CUNHUO_CHECK(store.flush());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (report.orders > 0)
    spdlog::info("loaded the demo county in {} ms: {} orders over {} days, {} statements",
                 took.count(), report.orders, report.days, store.statements());
  return {};
}

}  // namespace cunhuo::storefront
