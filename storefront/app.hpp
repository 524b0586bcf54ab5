// The composition root: opens the store, applies every module's migrations, loads the
// seed set, wires routes and outbox handlers, and runs the HTTP server and dispatcher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/outbox/outbox.hpp"
#include "messaging/dispatcher.hpp"
#include "messaging/sandbox.hpp"
#include "logistics/planner.hpp"
#include "logistics/telemetry.hpp"
#include "payments/provider.hpp"
#include "payments/settlement.hpp"
#include "payments/signing.hpp"
#include "payments/wechatpay/provider.hpp"
#include "paysandbox/sandbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/phone_sign_in.hpp"
#include "storefront/web/page_table.hpp"
#include "core/db/store_lock.hpp"
#include "storefront/http.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/live/feed.hpp"
#include "storefront/metrics.hpp"
#include "storefront/operations_gauges.hpp"
#include "storefront/route_table.hpp"
#include "storefront/server.hpp"
#include "storefront/work_pool.hpp"

namespace cunhuo::storefront {

// Every module's migrations, in dependency order.
std::vector<db::Migration> all_migrations();

// Whether the in-process payment sandbox runs (without a wechatpay-config): as configured,
// else only for a demonstration (--demo) or a sample store (the fixture or the demo county).
bool payment_simulator_on(const Config& config);

// How text messages go out: "sandbox", "gateway" or "off". As configured, else the sandbox
// only for a demonstration or a sample store, like the payment sandbox; a deployment that
// says nothing sends none (its code requests answer 503 sms_unavailable).
std::string sms_mode(const Config& config);

class App {
 public:
  // Opens the store, migrates and seeds. Nothing listens yet.
  static Result<std::unique_ptr<App>> open(const Config& config, const Clock& clock);
  ~App();

  Status start();                              // HTTP server and outbox dispatcher
  void stop(std::chrono::milliseconds grace);  // graceful: drain, stop, flush the store
  // Runs one housekeeping pass on its thread, reading the clock as it is now, and returns
  // once the pass is done: a test that moves a manual clock sees what the time it moved
  // to does (unpaid stock released, deliveries confirmed) without waiting for the tick.
  void housekeep_now();
  std::uint16_t port() const { return server_->port(); }

  db::Database& db() { return *db_; }
  outbox::Dispatcher& dispatcher() { return *dispatcher_; }
  live::Feed& live() { return *live_; }  // the WebSocket feed at /live
  Router& router() { return router_; }
  const RouteTable& routes() const { return table_; }
  // The payment sandbox listening in-process (no wechatpay-config, payment-simulator on):
  // tests pay as the payer and deliver its notifications through it. Null otherwise.
  paysandbox::Sandbox* payment_sandbox() { return sandbox_.get(); }
  // The sender of queued text messages (a test runs a pass with run_once()); null when
  // sms_mode is "off". The sandbox sender only when it is "sandbox".
  messaging::SmsDispatcher* sms() { return sms_.get(); }
  messaging::SandboxSms* sms_sandbox() { return sms_sandbox_; }
  // The WeChat Pay adapter (to WeChat Pay or the sandbox), or a stand-in that takes none.
  payments::PaymentProvider& provider();
  const payments::SigningKey& statement_key() const { return keys_.statement; }
  payments::FeeRules fees() const;
  const CursorSeal& cursors() const { return keys_.cursors; }
  std::string photo_folder() const { return config_.data_dir + "/photos"; }

 private:
  struct Keys {
    payments::SigningKey statement;  // signs household income statements
    CursorSeal cursors;              // seals the cursors of paged lists
    web::FormSeal forms;             // seals the pages' form tokens (CSRF)
  };
  struct Payments {
    std::unique_ptr<paysandbox::Sandbox> sandbox;  // in-process, when no provider is configured
    std::unique_ptr<payments::wechatpay::WechatPayProvider> adapter;
  };
  static Result<Payments> open_payments(const Config& config, const Clock& clock);
  App(const Config& config, const Clock& clock, std::unique_ptr<db::Database> db, Keys keys,
      Payments payments);
  void add_routes();
  void add_pages();  // the server-rendered pages (storefront/web)
  AccountContext account_context();
  Status load_demo();  // the demo county "minqin" (storefront/demo_seed.cpp)
  Status catch_up_outbox(db::Database& store);  // before a resumed demo load
  void housekeeping();                          // the periodic work of the background thread
  void frequent_passes();                       // under the housekeeping lease
  bool still_leading();            // between a long batch's steps: the lease renewed, or lost
  void start_monitoring_if_due();  // the daily monitoring pass, claimed per day
  void reconcile_yesterday();      // yesterday's bill, claimed per bill date
  bool run_once_for(std::string_view job, const std::string& period,
                    const std::function<Status()>& pass);

  Config config_;
  std::string instance_;  // this process in the shared job records (core/jobs)
  const Clock& clock_;
  // Held shared while the store is served (an SQLite file): `cunhuo restore` is refused
  // meanwhile. Declared before db_, so it is let go after the store is closed.
  db::StoreLock store_lock_;
  std::unique_ptr<db::Database> db_;
  Auth auth_;
  Idempotency idempotency_;
  RateLimiter code_requests_;  // requests for one-time codes, per client address
  Router router_;
  RouteTable table_{router_, auth_};  // every API operation, declared once
  Metrics metrics_;
  OperationsGauges gauges_{*db_, clock_};  // the outbox, ledger, payments and cold chain
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<outbox::Dispatcher> dispatcher_;
  std::unique_ptr<live::Feed> live_;
  Keys keys_;
  std::unique_ptr<web::PageTable> pages_;  // every page, declared once
  std::unique_ptr<paysandbox::Sandbox> sandbox_;
  std::unique_ptr<payments::wechatpay::WechatPayProvider> wechatpay_;
  std::unique_ptr<messaging::SmsSender> sms_sender_;
  messaging::SandboxSms* sms_sandbox_ = nullptr;  // sms_sender_, when it is the sandbox
  std::unique_ptr<messaging::SmsDispatcher> sms_;
  payments::NoProvider no_provider_;
  std::unique_ptr<logistics::Planner> planner_;
  logistics::ExcursionRules excursion_rules_;
  std::int64_t silence_checked_ms_ = 0;
  std::int64_t pruned_ms_ = 0;      // when expired sessions, keys and nonces were last pruned
  std::string reconciled_through_;  // the last bill date reconciled by this process
  std::int64_t next_reconciliation_ms_ = 0;
  std::int64_t lease_renewed_ms_ = 0;  // the housekeeping lease, last taken or renewed  // after a
                                       // run held elsewhere: when to ask again
  std::int64_t next_monitoring_ms_ =
      0;                          // the daily return-to-poverty pass, first an hour after start
  std::future<bool> monitoring_;  // that pass, running off the housekeeping thread: done?
  std::thread expiry_;  // stock of unpaid orders, auto-confirmation, refunds, reconciliation
  std::mutex expiry_mu_;
  std::condition_variable expiry_cv_;
  std::condition_variable pass_done_cv_;  // a housekeeping pass has finished
  bool housekeeping_asked_ = false;       // by housekeep_now, before the next tick
  std::uint64_t passes_started_ = 0, passes_done_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  // Password hashing and photo decoding; last, so its jobs finish before the rest goes.
  WorkPool work_pool_;
};

// Runs the service until SIGTERM or SIGINT; returns the process exit code.
int serve(const Config& config);

}  // namespace cunhuo::storefront
