// The demo county "minqin", loaded through the service's own pieces: accounts through
// auth, payments through the sandbox and the notification path, everything after through
// the flows of the outbox. It runs on a manual clock of its own, moved through 90 days;
// the service's own threads have not started yet.
#include <spdlog/spdlog.h>

#include <chrono>

#include "core/assert.hpp"
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

}  // namespace

Status App::load_demo() {
  if (!simulator_)
    return make_error(ErrorKind::invalid, "demo_needs_sandbox",
                      "the demo county pays its orders in the payment sandbox: run it with "
                      "--payment-simulator on, or choose --seed fixture or none",
                      "seed");
  const auto started = std::chrono::steady_clock::now();
  // Tens of thousands of small transactions: committed without waiting for the disk one
  // by one, made durable together at the end (a crash before that resumes, see build()).
  auto bulk = CUNHUO_TRY(db::open_database(
      config_.db_url, db::DatabaseOptions{.pool_size = 2, .durable_commits = false}));
  db::Database& store = *bulk;
  const std::int64_t end_ms = history_end(clock_.now_ms());
  ManualClock clock(end_ms - (seeds::demo::kHistoryDays + 1) * kDayMs);
  std::vector<std::int64_t> buyers;
  auto create = [&](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
    NewAccount account{
        a.phone,       a.password,     a.display_name, CUNHUO_TRY(parse_role(a.role)),
        a.region_code, a.household_id, a.shop_id,      a.node_id};
    const auto id = CUNHUO_TRY(auth_.create_account(tx, account));
    if (account.role == Role::consumer) buyers.push_back(id);
    return id;
  };
  CUNHUO_CHECK(seeds::demo::check_no_other_seed(store));
  const auto loaded = CUNHUO_TRY(seeds::load(store, seeds::demo::county_json(), clock, create));
  if (!loaded.loaded) {  // loaded before, maybe not to the end: its buyers are read back
    auto rows = CUNHUO_TRY(store.read([](db::Session& s) {
      return s.query("SELECT id FROM accounts WHERE role = 'consumer' ORDER BY id");
    }));
    for (const auto& r : rows) buyers.push_back(r.i64(0));
  }
  planner_->invalidate();  // the network the loader made
  payments::Simulator sandbox(store, clock, keys_.provider, payments::SimulatorOptions{});
  outbox::Dispatcher dispatcher(store, clock, outbox::DispatcherOptions{});
  subscribe_flows(dispatcher, FlowContext{.clock = clock, .fees = fees(), .planner = *planner_});
  // Paying as the buyer does: an intent, the sandbox's payment, the payer's confirmation,
  // and its signed notification verified and applied as the callback applies it.
  auto pay = [&](std::int64_t checkout_id) -> Status {
    auto intent = CUNHUO_TRY(store.write([&](db::Session& tx) -> Result<payments::Intent> {
      auto checkout =
          CUNHUO_TRY(marketplace::find_checkout(tx, marketplace::CheckoutId{checkout_id}));
      CUNHUO_ASSERT(checkout.has_value());
      return payments::open_intent(tx, CUNHUO_TRY(payable_of(tx, *checkout)), sandbox.name(),
                                   clock);
    }));
    auto made = CUNHUO_TRY(sandbox.create_payment(
        payments::PaymentRequest{intent.id, intent.amount, intent.currency,
                                 "Cunhuo checkout " + std::to_string(checkout_id)}));
    CUNHUO_CHECK(store.write(
        [&](db::Session& tx) { return payments::attach_provider_payment(tx, intent.id, made); }));
    const auto payment = std::stoll(made.pay_url.substr(made.pay_url.rfind('/') + 1));
    const auto notice = CUNHUO_TRY(sandbox.confirm_in_hand(payment));
    CUNHUO_CHECK(verifier_.verify(notice, clock.now_ms()));
    const auto outcome = CUNHUO_TRY(store.write([&](db::Session& tx) {
      return payments::apply_notification(tx, notice, sandbox.name(), clock);
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
      .auto_confirm = std::chrono::milliseconds(config_.auto_confirm_ms)};
  const auto report = CUNHUO_TRY(
      seeds::demo::build(store, clock, end_ms, *planner_, config_.data_dir + "/photos", hooks));
  CUNHUO_CHECK(store.flush());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (report.orders > 0)
    spdlog::info("loaded the demo county in {} ms: {} orders over {} days", took.count(),
                 report.orders, report.days);
  return {};
}

}  // namespace cunhuo::storefront
