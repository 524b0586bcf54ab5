#include "storefront/app.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>

#include "alleviation/module.hpp"
#include "alleviation/monitoring.hpp"
#include "payments/statement_keys.hpp"
#include "storefront/trace_pages.hpp"
#include "core/assert.hpp"
#include "core/jobs/jobs.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/one_time_code.hpp"
#include "core/net/http_client.hpp"
#include "logistics/module.hpp"
#include "logistics/network.hpp"
#include "marketplace/registry.hpp"
#include "messaging/gateway.hpp"
#include "messaging/phone_codes.hpp"
#include "messaging/sms.hpp"
#include "storefront/area_copies.hpp"
#include "storefront/account_routes.hpp"
#include "payments/closes.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/module.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "paysandbox/merchant.hpp"
#include "storefront/alleviation_routes.hpp"
#include "storefront/flows.hpp"
#include "storefront/logistics_routes.hpp"
#include "storefront/office_routes.hpp"
#include "storefront/payments_routes.hpp"
#include "storefront/refund_evidence.hpp"
#include "seeds/demo.hpp"
#include "seeds/loader.hpp"
#include "storefront/list_routes.hpp"
#include "storefront/marketplace_routes.hpp"
#include "storefront/notification_flows.hpp"
#include "storefront/notification_routes.hpp"
#include "storefront/notifications.hpp"
#include "storefront/registry_routes.hpp"
#include "storefront/shop_routes.hpp"
#include "marketplace/orders.hpp"
#include "storefront/routes.hpp"
#include "storefront/secret_file.hpp"
#include "storefront/shop_pages.hpp"
#include "storefront/station_pages.hpp"
#include "storefront/account_pages.hpp"
#include "storefront/centre_pages.hpp"
#include "storefront/coop_pages.hpp"
#include "storefront/helper_pages.hpp"
#include "storefront/office_pages.hpp"
#include "storefront/farm_pages.hpp"
#include "storefront/buyer_pages.hpp"
#include "storefront/org_pages.hpp"
#include "storefront/cart.hpp"
#include "storefront/catalog_pages.hpp"
#include "storefront/proxy_selling.hpp"
#include "storefront/staff_accounts.hpp"
#include "marketplace/proxy.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::int64_t kFirstMonitoringDelayMs = 3600LL * 1000;
constexpr std::int64_t kMonitoringIntervalMs = 24 * 3600LL * 1000;
constexpr std::int64_t kPruneIntervalMs = 3600LL * 1000;  // expired sessions, old keys and nonces
// The frequent passes' lease: renewed every pass (a second), so a process that dies hands
// them over within this.
constexpr std::string_view kHousekeepingLease = "storefront.housekeeping";
constexpr std::int64_t kHousekeepingLeaseMs = 10'000;
constexpr std::string_view kMonitoringJob = "alleviation.monitoring";
// A daily run not finished in this long (its process died) may be taken over by another.
constexpr std::int64_t kDailyRunDeadlineMs = 3600LL * 1000;
// A daily run another process holds (or one that failed) is asked for again this much later,
// so a claim whose process died is taken over soon after its deadline.
constexpr std::int64_t kDailyRunRetryMs = 60'000;

// One batch of each kind a pass, each in its own short transaction.
void prune_expired(db::Database& db, const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  auto sessions = db.write([&](db::Session& tx) { return Auth::prune_sessions(tx, now); });
  auto keys = db.write([&](db::Session& tx) { return Idempotency::prune(tx, now); });
  auto nonces = db.write([&](db::Session& tx) { return payments::prune_nonces(tx, now); });
  // Expired codes and old sends: their own pass, so a failure here holds up nothing else.
  auto codes = db.write([&](db::Session& tx) { return messaging::prune_phone_codes(tx, now); });
  if (!codes.ok()) spdlog::warn("pruning expired one-time codes failed");
  auto carts = db.write([&](db::Session& tx) { return prune_carts(tx, now); });
  if (!carts.ok()) spdlog::warn("pruning forgotten carts failed");
  auto revoked = db.write([&](db::Session& tx) { return SessionRevocations::prune(tx, now); });
  if (!revoked.ok()) spdlog::warn("pruning old session revocations failed");
  auto windows = db.write([&](db::Session& tx) { return RateLimiter::prune(tx, now); });
  if (!windows.ok()) spdlog::warn("pruning ended rate limit windows failed");
  if (!sessions.ok() || !keys.ok() || !nonces.ok()) {
    spdlog::warn("pruning expired sessions, idempotency keys or nonces failed");
    return;
  }
  if (*sessions + *keys + *nonces > 0)
    spdlog::info("pruned {} expired sessions, {} idempotency keys, {} nonces", *sessions, *keys,
                 *nonces);
}

Result<std::string> seed_text(const std::string& seed) {
  if (auto text = seeds::builtin(seed)) return std::string(*text);
  std::FILE* f = std::fopen(seed.c_str(), "rb");
  if (f == nullptr)
    return make_error(ErrorKind::invalid, "unknown_seed", "no built-in seed or file named " + seed,
                      "seed");
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

Status load_seed(db::Database& db, const Config& config, const Clock& clock, Auth& auth) {
  if (config.seed == "none" || config.seed.empty()) return {};
  auto text = CUNHUO_TRY(seed_text(config.seed));
  auto create = [&](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
    NewAccount account{
        a.phone,       a.password,     a.display_name, CUNHUO_TRY(parse_role(a.role)),
        a.region_code, a.household_id, a.shop_id,      a.node_id};
    return auth.create_account(tx, account);
  };
  CUNHUO_TRY(seeds::load(db, text, clock, create));
  for (auto update : seeds::updates_of(config.seed))  // each once, also into an older store
    CUNHUO_TRY(seeds::load(db, update, clock, create));
  return {};
}

LoginLimits login_limits(const Config& config) {
  LoginLimits limits;
  limits.attempts_per_address.max_events = config.login_attempts_per_address;
  return limits;
}

// Whether people beyond this machine reach the service: it listens beyond loopback, or a
// reverse proxy (nginx) forwards to it, which trusted-proxy or secure-cookies tell. The
// shipped unit listens on 127.0.0.1 behind nginx, so loopback alone proves nothing.
bool reached_from_outside(const Config& config) {
  return !net::is_loopback_host(config.listen_host) || !config.trusted_proxies.empty() ||
         config.secure_cookies;
}

// What the sandboxes are on for when nothing says: a demonstration, or a sample store (the
// fixture or the demo county), whose accounts' password the README publishes anyway.
bool demonstration(const Config& config) {
  return config.demo || config.seed == seeds::demo::kName || config.seed == seeds::kFixtureName;
}

std::string exposure_of(const Config& config) {
  if (!net::is_loopback_host(config.listen_host))
    return "listens on " + config.listen_host + ", beyond loopback";
  return config.trusted_proxies.empty() ? "is served over TLS (secure-cookies)"
                                        : "is served through a proxy (trusted-proxy)";
}

// A sandbox shows what only its owner may see or do: a demonstration may show it beyond
// this machine, a deployment may not. `what` names the sandbox, `instead` what to pass.
Status check_exposure(const Config& config, const std::string& what, const std::string& instead,
                      const std::string& field) {
  if (config.demo || !reached_from_outside(config)) return {};
  return make_error(ErrorKind::invalid, "sandbox_exposed",
                    "the " + what + " " + exposure_of(config) +
                        ": pass --demo for a demonstration, or " + instead,
                    field);
}

// The payment sandbox lets anyone with an account "pay" without money, whoever started it
// (in-process, or a wechatpay-config saying "sandbox yes").
Status check_sandbox_exposure(const Config& config, bool sandbox_provider) {
  if (!sandbox_provider) return {};
  const bool in_process = config.wechatpay_config.empty();
  return check_exposure(
      config, "payment sandbox",
      in_process ? "--payment-simulator off" : "a wechatpay-config of a real merchant",
      in_process ? "payment-simulator" : "wechatpay-config");
}

// The fixture's and the demo's accounts, admin included, have a password the README
// publishes: such a store is for trying the software, not for a site served over TLS.
Status check_published_accounts(const Config& config, db::Database& db) {
  if (config.demo || !config.secure_cookies) return {};
  if (!CUNHUO_TRY(db.read([](db::Session& s) { return seeds::holds_published_accounts(s); })))
    return {};
  return make_error(ErrorKind::invalid, "sample_accounts_exposed",
                    "the store holds the sample seed's accounts, whose password is published, "
                    "and is served over TLS (secure-cookies): load the county's own seed into a "
                    "new store, or pass --demo for a demonstration",
                    "seed");
}

messaging::GatewaySmsOptions gateway_options(const Config& config) {
  return messaging::GatewaySmsOptions{.endpoint = config.sms_gateway_url,
                                      .access_key_id = config.sms_access_key_id,
                                      .access_key_secret = config.sms_access_key_secret,
                                      .sign_name = config.sms_sign_name,
                                      .template_codes = {},
                                      .ca_file = config.sms_gateway_ca};
}

// The text message sandbox shows anyone's sign-in and pickup codes: the payment sandbox's
// rule. A real gateway is reached over TLS (plain http only on loopback), with CAs that load.
Status check_sms_config(const Config& config) {
  const std::string mode = sms_mode(config);
  if (mode == "sandbox")
    return check_exposure(config, "text message sandbox",
                          "--sms gateway with the gateway's keys (or --sms off)", "sms");
  if (mode != "gateway") return {};
  auto usable = messaging::check_gateway_options(gateway_options(config));
  if (usable.ok()) return {};
  Error refused = usable.error();
  refused.kind = ErrorKind::invalid;
  refused.field = refused.code == net::kTlsFailed ? "sms-gateway-ca" : "sms-gateway-url";
  return refused;
}

// The store file's folder must exist before SQLite can create the file.
void ensure_sqlite_folder(const std::string& url) {
  if (url.rfind("sqlite:", 0) != 0) return;
  std::filesystem::path path(url.substr(url.rfind("sqlite://", 0) == 0 ? 9 : 7));
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
}

}  // namespace

bool payment_simulator_on(const Config& config) {
  return config.payment_simulator.value_or(demonstration(config));
}

std::string sms_mode(const Config& config) {
  return config.sms.value_or(demonstration(config) ? "sandbox" : "off");
}

std::vector<db::Migration> all_migrations() {
  std::vector<db::Migration> out;
  const auto marketplace = marketplace::migrations();
  const auto payments = payments::migrations();
  const auto logistics = logistics::migrations();
  const auto alleviation = alleviation::migrations();
  for (auto list :
       {outbox::migrations(), jobs::migrations(), messaging::migrations(), seeds::migrations(),
        std::span<const db::Migration>(marketplace), std::span<const db::Migration>(logistics),
        std::span<const db::Migration>(payments), std::span<const db::Migration>(alleviation),
        marketplace::proxy_migrations(), Auth::migrations(), SessionRevocations::migrations(),
        Idempotency::migrations(), staff_account_migrations(), proxy_selling_migrations(),
        notification_migrations(), cart_migrations(), refund_evidence_migrations(),
        RateLimiter::migrations()})
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

// The payment provider: the WeChat Pay adapter configured by wechatpay-config (WeChat Pay,
// or a sandbox process), else, with payment-simulator on, the same adapter over a sandbox
// listening in-process on loopback, its merchant made at first start under data-dir.
Result<App::Payments> App::open_payments(const Config& config, const Clock& clock) {
  namespace wx = payments::wechatpay;
  Payments p;
  std::string file = config.wechatpay_config;
  if (file.empty()) {
    if (!payment_simulator_on(config)) return p;
    const auto merchant =
        CUNHUO_TRY(paysandbox::ensure_merchant(config.data_dir + "/keys/wechatpay"));
    p.sandbox = CUNHUO_TRY(paysandbox::Sandbox::open(
        // Every notification also comes a second time, as providers promise at least once.
        // Back-dated payments only for the demo loader (App::load_demo), which pays the
        // county's history at its moments.
        paysandbox::options_for(
            merchant,
            paysandbox::Options{.data_dir = config.data_dir + "/paysandbox",
                                .duplicates = 1,
                                .back_dated_payments = config.seed == seeds::demo::kName}),
        clock));
    CUNHUO_CHECK(p.sandbox->start());
    file = config.data_dir + "/keys/wechatpay.conf";  // the port is known now, not the notify URL
    CUNHUO_CHECK(wx::write_config(
        file, paysandbox::adapter_config(merchant, *p.sandbox, "http://127.0.0.1/notify")));
  }
  auto wechat = CUNHUO_TRY(wx::load_config(file));
  CUNHUO_CHECK(check_sandbox_exposure(config, wechat.sandbox));
  p.adapter = CUNHUO_TRY(wx::WechatPayProvider::open(
      std::move(wechat), clock,
      wx::AdapterOptions{.trusted_file = config.data_dir + "/keys/wechatpay-platform.pem"}));
  spdlog::info("payments: {} at {}", p.adapter->name(), p.adapter->config().api_base);
  return p;
}

App::App(const Config& config, const Clock& clock, std::unique_ptr<db::Database> db, Keys keys,
         Payments payments)
    : config_(config),
      instance_(jobs::process_name()),
      clock_(clock),
      db_(std::move(db)),
      auth_(*db_, clock, login_limits(config)),
      idempotency_(*db_, clock),
      code_requests_(RateLimit{config.code_requests_per_address, kCodeRequestWindowMs}, clock,
                     InStore{.db = *db_, .name = "code_requests"}),
      keys_(std::move(keys)) {
  planner_ = std::make_unique<logistics::Planner>(*db_, logistics::ColdChainRules{});
  sandbox_ = std::move(payments.sandbox);
  wechatpay_ = std::move(payments.adapter);
  const std::string sms = sms_mode(config_);
  if (sms == "sandbox") {
    auto sandbox = std::make_unique<messaging::SandboxSms>(*db_, clock_);
    sms_sandbox_ = sandbox.get();
    sms_sender_ = std::move(sandbox);
  } else if (sms == "gateway") {
    sms_sender_ = std::make_unique<messaging::GatewaySms>(gateway_options(config_), clock_);
  }
  if (sms_sender_ == nullptr)
    spdlog::warn(
        "sms: off, no text is sent: code requests answer 503 sms_unavailable, "
        "notices stay queued (--sms gateway sends them)");
  else
    spdlog::info("sms: {}", sms);
  if (sms_sender_) sms_ = std::make_unique<messaging::SmsDispatcher>(*db_, clock_, *sms_sender_);
  outbox::DispatcherOptions options;
  options.poll_ms = config_.outbox_poll_ms;
  dispatcher_ = std::make_unique<outbox::Dispatcher>(*db_, clock_, options);
  ServerOptions server;
  server.host = config_.listen_host;
  server.port = config_.listen_port;
  server.threads = config_.threads;
  server.max_json_body = config_.max_json_body;
  server.max_upload_body = config_.max_upload_body;
  server.header_timeout_ms = config_.header_timeout_ms;
  server.body_timeout_ms = config_.body_timeout_ms;
  server.max_connections = config_.max_connections;
  server.max_connections_per_address = config_.max_connections_per_address;
  if (wechatpay_) server.form_action_origins = wechatpay_->payer_origin();
  auto proxies = ProxyTrust::parse(config_.trusted_proxies);
  CUNHUO_ASSERT(proxies.ok());  // App::open refuses a bad range first
  server.proxies = std::move(*proxies);
  server.authenticate_head = [this](const Request& r) -> std::optional<Response> {
    auto account = auth_.authenticate(r);
    if (account.ok()) return std::nullopt;
    return error_response(account.error());
  };
  metrics_.set_access(
      MetricsAccess{.allow = config_.metrics_allow, .is_admin = [this](const Request& r) {
                      auto account = auth_.authenticate(r);
                      return account.ok() && account->role == Role::admin;
                    }});
  live_ = std::make_unique<live::Feed>(*db_, auth_, clock_);
  server.upgrades[live::kPath] = [this](const Request& r) { return live_->upgrade(r); };
  server_ = std::make_unique<HttpServer>(server, router_, metrics_);
  if (config_.check_response_schemas) table_.check_responses();
  add_routes();
}

App::~App() { stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<App>> App::open(const Config& config, const Clock& clock) {
  CUNHUO_CHECK(check_sandbox_exposure(
      config, payment_simulator_on(config) && config.wechatpay_config.empty()));
  CUNHUO_CHECK(check_sms_config(config));
  CUNHUO_TRY(ProxyTrust::parse(config.trusted_proxies));  // a bad range refused at startup
  try {
    ensure_sqlite_folder(config.db_url);
  } catch (const std::filesystem::filesystem_error& e) {
    return make_error(ErrorKind::unavailable, "store_unavailable",
                      std::string("cannot create the store folder: ") + e.what());
  }
  auto store_lock = CUNHUO_TRY(db::StoreLock::serving(config.db_url));
  db::DatabaseOptions options;
  options.pool_size = std::max(4, config.threads + 2);
  auto db = CUNHUO_TRY(db::open_database(config.db_url, options));
  spdlog::info("store: {}", db->describe());
  const auto migrations = all_migrations();
  CUNHUO_TRY(db::migrate(*db, migrations));
  CUNHUO_CHECK(fill_area_copies(*db));
  // Balances must sum to zero and equal their transfers before any money moves.
  CUNHUO_CHECK(db->read([](db::Session& s) { return payments::check_ledger(s); }));
  Keys keys{
      CUNHUO_TRY(
          payments::SigningKey::load_or_create(config.data_dir + "/keys/statement-ed25519.key")),
      CUNHUO_TRY(CursorSeal::load_or_create(config.data_dir + "/keys/cursor-hmac.key")),
      web::FormSeal(CUNHUO_TRY(load_or_create_secret(config.data_dir + "/keys/form-hmac.key")))};
  // Outside the store, shared by the processes serving it: see core/one_time_code.hpp.
  install_one_time_code_key(
      CUNHUO_TRY(load_or_create_secret(config.data_dir + "/" + std::string(kOneTimeCodeKeyFile))));
  spdlog::info("statements are signed with key {}", keys.statement.serial());
  // Published, with the keys used before it, so that statements verify without the platform.
  CUNHUO_CHECK(db->write(
      [&](db::Session& tx) { return payments::record_statement_key(tx, keys.statement, clock); }));
  auto payments = CUNHUO_TRY(open_payments(config, clock));
  std::unique_ptr<App> app(
      new App(config, clock, std::move(db), std::move(keys), std::move(payments)));
  app->store_lock_ = std::move(store_lock);
  if (config.seed == seeds::demo::kName)
    CUNHUO_CHECK(app->load_demo());
  else
    CUNHUO_CHECK(load_seed(*app->db_, config, clock, app->auth_));
  CUNHUO_CHECK(check_published_accounts(config, *app->db_));
  app->server_->mark_sample_data(
      CUNHUO_TRY(app->db_->read([](db::Session& s) { return seeds::holds_sample_data(s); })));
  return app;
}

void App::add_routes() {
  // Made first: the pages some API routes render (statistics, statements) wear its frame.
  pages_ =
      std::make_unique<web::PageTable>(router_, auth_, keys_.forms, clock_, work_pool_,
                                       web::PageOptions{.secure_cookies = config_.secure_cookies});
  add_auth_routes(table_, auth_, work_pool_);
  const AccountContext accounts = account_context();
  add_account_routes(table_, accounts);
  if (sms_sandbox_ != nullptr) add_sms_sandbox_routes(table_, accounts);
  add_system_routes(table_, SystemContext{.db = *db_,
                                          .metrics = metrics_,
                                          .server = *server_,
                                          .gauges = gauges_,
                                          .provider = provider()});
  add_asset_routes(table_);
  add_network_routes(table_, *db_);
  add_registry_routes(table_, *db_, clock_, auth_, cursors());
  add_shop_routes(table_, *db_, clock_, auth_, cursors());
  add_staff_account_routes(
      table_,
      StaffAccountsContext{.db = *db_, .clock = clock_, .auth = auth_, .cursors = keys_.cursors});
  add_proxy_selling_routes(
      table_,
      ProxySellingContext{.db = *db_,
                          .clock = clock_,
                          .idempotency = idempotency_,
                          .payment_window = std::chrono::milliseconds(config_.payment_window_ms),
                          .sms = sms_.get()});
  add_marketplace_routes(
      table_,
      MarketplaceContext{*db_, clock_, auth_, idempotency_,
                         std::chrono::milliseconds(config_.payment_window_ms),
                         config_.data_dir + "/photos", config_.max_upload_body, &work_pool_});
  add_list_routes(table_, ListContext{*db_, clock_, keys_.cursors});
  // Every payments route exists whatever the sandbox; its own pages only when it is on.
  PaymentsContext payments{*db_,
                           clock_,
                           auth_,
                           idempotency_,
                           provider(),
                           provider().name() == payments::kSandboxProvider,
                           keys_.statement,
                           fees(),
                           *dispatcher_,
                           config_.data_dir + "/photos",
                           pages_.get(),
                           &cursors()};
  add_payments_routes(table_, payments);
  LogisticsContext logistics{*db_,         clock_,   auth_, *planner_, excursion_rules_,
                             *dispatcher_, cursors()};
  add_logistics_routes(table_, logistics);
  const AlleviationContext alleviation_context{*db_,
                                               clock_,
                                               auth_,
                                               idempotency_,
                                               cursors(),
                                               config_.exit_notice_ms,
                                               config_.fund_idle_ms,
                                               pages_.get()};
  add_alleviation_routes(table_, alleviation_context);
  add_fund_routes(table_, alleviation_context);
  add_statistics_routes(table_, alleviation_context);
  add_office_routes(table_, OfficeContext{*db_, clock_, cursors()});
  subscribe_flows(*dispatcher_, FlowContext{.clock = clock_, .fees = fees(), .planner = *planner_});
  const NotificationContext inbox{*db_, clock_, keys_.cursors, config_.fund_idle_ms};
  add_notification_routes(table_, inbox);
  add_queue_routes(table_, inbox);
  subscribe_notification_flows(*dispatcher_, clock_);
  add_openapi_route(table_);
  add_pages();
}

AccountContext App::account_context() {
  return AccountContext{.db = *db_,
                        .clock = clock_,
                        .auth = auth_,
                        .pool = work_pool_,
                        .code_requests = code_requests_,
                        .sms = sms_.get(),
                        .sandbox = sms_sandbox_,
                        .demo = config_.demo};
}

void App::add_pages() {
  add_shop_pages(*pages_,
                 ShopPageContext{.db = *db_, .clock = clock_, .auth = auth_, .pages = *pages_});
  add_account_pages(*pages_, account_context());
  const FarmPageContext farm{.db = *db_,
                             .clock = clock_,
                             .idempotency = idempotency_,
                             .photo_folder = config_.data_dir + "/photos",
                             .max_upload_body = config_.max_upload_body,
                             .https = pages_->options().secure_cookies};
  add_farm_pages(*pages_, farm);
  add_catalog_pages(*pages_, CatalogPageContext{.db = *db_, .clock = clock_, .fees = fees()});
  add_buyer_pages(
      *pages_,
      BuyerPageContext{.db = *db_,
                       .clock = clock_,
                       .idempotency = idempotency_,
                       .provider = provider(),
                       .payment_window = std::chrono::milliseconds(config_.payment_window_ms),
                       .photo_folder = config_.data_dir + "/photos",
                       .max_upload_body = config_.max_upload_body,
                       .cursors = keys_.cursors});
  add_org_pages(*pages_, OrgPageContext{
                             .db = *db_,
                             .clock = clock_,
                             .idempotency = idempotency_,
                             .payment_window = std::chrono::milliseconds(config_.payment_window_ms),
                             .cursors = keys_.cursors});
  add_trace_pages(*pages_, TracePageContext{.db = *db_, .clock = clock_});
  add_income_pages(*pages_, IncomePageContext{.db = *db_,
                                              .clock = clock_,
                                              .statement_key = keys_.statement,
                                              .https = pages_->options().secure_cookies});
  // The cooperative manager's pages (/coop).
  add_coop_pages(*pages_, CoopPageContext{.farm = farm, .cursors = keys_.cursors});
  // The county centre's board and records (/centre).
  add_centre_pages(
      *pages_,
      CentrePageContext{.db = *db_, .clock = clock_, .dispatcher = *dispatcher_, .fees = fees()});
  // The township station operator's pages (/station).
  add_station_pages(*pages_, StationPageContext{.db = *db_,
                                                .clock = clock_,
                                                .planner = *planner_,
                                                .dispatcher = *dispatcher_,
                                                .max_upload_body = config_.max_upload_body,
                                                .https = pages_->options().secure_cookies});
  // The poverty-alleviation office's and the helper's workbench (/office, /helper).
  add_office_pages(*pages_, OfficePageContext{.db = *db_,
                                              .clock = clock_,
                                              .cursors = keys_.cursors,
                                              .exit_notice_ms = config_.exit_notice_ms,
                                              .fund_idle_ms = config_.fund_idle_ms,
                                              .auth = auth_});
  add_helper_pages(*pages_, HelperPageContext{.db = *db_, .clock = clock_});
}

payments::PaymentProvider& App::provider() {
  if (wechatpay_) return *wechatpay_;
  return no_provider_;
}

payments::FeeRules App::fees() const {
  payments::FeeRules f;
  f.platform_fee_bps = config_.platform_fee_bps;
  f.cooperative_commission_bps = config_.cooperative_commission_bps;
  f.logistics_fee = Money::fen(config_.logistics_fee_fen);
  return f;
}

// Every second: unpaid orders give their stock back, delivered orders the buyer forgot
// complete, refunds go to the provider, once a day yesterday's bill is reconciled, and
// once a day every exited and at-risk household is checked against the monitoring rules.
// With several processes on one store, the frequent passes run in the one holding the
// housekeeping lease, and each daily pass in the one that claims that day's run.
void App::housekeeping() {
  auto lease = jobs::hold_lease(*db_, kHousekeepingLease, instance_, kHousekeepingLeaseMs, clock_);
  if (!lease.ok()) spdlog::warn("taking the housekeeping lease failed: {}", lease.error().message);
  const bool leader = lease.ok() && *lease;
  if (leader) frequent_passes();
  start_monitoring_if_due();
  if (!wechatpay_) return;
  if (leader) {
    // Each provider call may take seconds: the lease is renewed between them, and the batch
    // stops when another process has taken it over.
    lease_renewed_ms_ = clock_.now_ms();
    const auto leading = [this] { return still_leading(); };
    auto refunded = payments::send_provider_refunds(*db_, *wechatpay_, clock_, leading);
    if (!refunded.ok()) spdlog::warn("sending refunds failed: {}", refunded.error().message);
    auto settled = payments::settle_provider_refunds(*db_, *wechatpay_, clock_, leading);
    if (!settled.ok()) spdlog::warn("settling refunds failed: {}", settled.error().message);
    auto closed = payments::close_provider_orders(*db_, *wechatpay_, clock_);
    if (!closed.ok()) spdlog::warn("closing provider orders failed: {}", closed.error().message);
    if (closed.ok() && *closed > 0) dispatcher_->wake();  // a payment found paid was applied
  }
  reconcile_yesterday();
}

// Whether this process still holds the housekeeping lease, renewing it once half of it has
// gone by since the last renewal (a write only every few seconds of a long batch).
bool App::still_leading() {
  if (clock_.now_ms() - lease_renewed_ms_ < kHousekeepingLeaseMs / 2) return true;
  auto lease = jobs::hold_lease(*db_, kHousekeepingLease, instance_, kHousekeepingLeaseMs, clock_);
  if (!lease.ok() || !*lease) {
    spdlog::warn("the housekeeping lease went to another process: stopping this batch");
    return false;
  }
  lease_renewed_ms_ = clock_.now_ms();
  return true;
}

// Runs `pass` as `job`'s run for `period` if no process ran it already and none holds it.
// Returns whether the run is done now (here or elsewhere); false while another process holds
// it, since that process may die: the caller asks again on a later pass.
bool App::run_once_for(std::string_view job, const std::string& period,
                       const std::function<Status()>& pass) {
  auto claimed = jobs::claim_run(*db_, job, period, instance_, kDailyRunDeadlineMs, clock_);
  if (!claimed.ok()) {
    spdlog::warn("claiming {} for {} failed: {}", job, period, claimed.error().message);
    return false;
  }
  if (*claimed == jobs::Claim::done) return true;
  if (*claimed == jobs::Claim::busy) return false;  // not done yet: asked again later
  const Status outcome = pass();
  if (auto st = jobs::finish_run(*db_, job, period, instance_, outcome.ok(), clock_); !st.ok())
    spdlog::warn("recording {} for {} failed: {}", job, period, st.error().message);
  return outcome.ok();
}

void App::frequent_passes() {
  auto released = marketplace::release_expired_orders(*db_, clock_, 500);
  if (!released.ok())
    spdlog::warn("releasing expired orders failed: {}", released.error().message);
  else if (*released > 0)
    spdlog::info("released the stock of {} unpaid orders", *released);
  auto confirmed = marketplace::confirm_delivered_orders(
      *db_, clock_, std::chrono::milliseconds(config_.auto_confirm_ms), 500);
  if (!confirmed.ok())
    spdlog::warn("auto-confirming deliveries failed: {}", confirmed.error().message);
  else if (*confirmed > 0)
    dispatcher_->wake();
  if (clock_.now_ms() - pruned_ms_ >= kPruneIntervalMs) {
    pruned_ms_ = clock_.now_ms();
    prune_expired(*db_, clock_);
  }
  if (clock_.now_ms() - silence_checked_ms_ >= 60'000) {  // sensors gone quiet where parcels wait
    silence_checked_ms_ = clock_.now_ms();
    auto silent = db_->write(
        [&](db::Session& tx) { return logistics::check_silence(tx, excursion_rules_, clock_); });
    if (!silent.ok())
      spdlog::warn("checking for silent sensors failed: {}", silent.error().message);
    else if (!silent->empty())
      dispatcher_->wake();
  }
}

void App::start_monitoring_if_due() {
  const bool monitoring_idle =
      !monitoring_.valid() ||
      monitoring_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  if (!monitoring_idle) return;
  // Held by another process (which may die) or failed: asked again soon, not in a day.
  if (monitoring_.valid() && !monitoring_.get())
    next_monitoring_ms_ = std::min(next_monitoring_ms_, clock_.now_ms() + kDailyRunRetryMs);
  if (clock_.now_ms() >= next_monitoring_ms_) {
    next_monitoring_ms_ = clock_.now_ms() + kMonitoringIntervalMs;
    // A province's pass takes a while: it runs on its own so unpaid stock and refunds do not wait.
    const std::string today = format_date(shanghai_date(clock_.now_ms()));
    monitoring_ = std::async(std::launch::async, [this, today] {
      return run_once_for(kMonitoringJob, today, [this]() -> Status {
        auto opened = alleviation::monitor_all(*db_, "", clock_);
        if (!opened.ok()) {
          spdlog::warn("the daily monitoring pass failed: {}", opened.error().message);
          return opened.error();
        }
        spdlog::info("daily monitoring pass: {} alerts opened", *opened);
        return {};
      });
    });
  }
}

void App::reconcile_yesterday() {
  const std::string yesterday = format_date(shanghai_date(clock_.now_ms() - 86'400'000));
  if (reconciled_through_ == yesterday) return;
  if (clock_.now_ms() < next_reconciliation_ms_) return;  // held elsewhere: asked again later
  const bool done = run_once_for(payments::kReconciliationJob, yesterday, [&]() -> Status {
    auto report = payments::reconcile(*db_, *wechatpay_, yesterday, payments::whole_bill(), clock_);
    if (!report.ok()) {
      spdlog::warn("reconciling {} failed: {}", yesterday, report.error().message);
      return report.error();
    }
    return {};
  });
  if (done) reconciled_through_ = yesterday;
  // Held by another process (it may die, and its claim then lapses) or failed: asked again
  // a minute later, not at every pass.
  next_reconciliation_ms_ = done ? 0 : clock_.now_ms() + kDailyRunRetryMs;
}

Status App::start() {
  live_->start();
  CUNHUO_CHECK(server_->start());
  dispatcher_->start();
  if (sms_) sms_->start();
  if (sandbox_) {  // the in-process sandbox calls back and sends the payer back here
    const std::string origin =
        "http://" +
        (config_.listen_host == "0.0.0.0" ? std::string("127.0.0.1") : config_.listen_host) + ":" +
        std::to_string(server_->port());
    wechatpay_->set_notify_url(origin + "/api/v1/payments/notify");
    sandbox_->set_return_url(origin + "/orders");
  }
  stopping_ = false;
  next_monitoring_ms_ = clock_.now_ms() + kFirstMonitoringDelayMs;
  expiry_ = std::thread([this] {
    std::unique_lock lock(expiry_mu_);
    while (!stopping_) {
      expiry_cv_.wait_for(lock, std::chrono::seconds(1),
                          [&] { return stopping_ || housekeeping_asked_; });
      housekeeping_asked_ = false;
      ++passes_started_;
      lock.unlock();
      housekeeping();
      lock.lock();
      ++passes_done_;
      pass_done_cv_.notify_all();
    }
  });
  started_ = true;
  return {};
}

void App::housekeep_now() {
  CUNHUO_ASSERT(expiry_.joinable());  // started
  std::unique_lock lock(expiry_mu_);
  // The next pass to start begins after this call has asked for it.
  const std::uint64_t pass = passes_started_ + 1;
  housekeeping_asked_ = true;
  expiry_cv_.notify_all();
  pass_done_cv_.wait(lock, [&] { return passes_done_ >= pass || stopping_; });
}

void App::stop(std::chrono::milliseconds grace) {
  if (!started_) return;
  started_ = false;
  // The sandbox first: a notification posted to a server that has stopped answering would
  // hold the stop for the whole notify timeout.
  if (sandbox_) sandbox_->stop();
  server_->shutdown(grace);
  live_->stop();
  {
    std::lock_guard lock(expiry_mu_);
    stopping_ = true;
  }
  expiry_cv_.notify_all();
  expiry_.join();
  if (monitoring_.valid()) monitoring_.wait();
  // Another process takes the frequent passes over at its next tick, not after the lease.
  if (auto st = jobs::release_lease(*db_, kHousekeepingLease, instance_); !st.ok())
    spdlog::warn("could not give the housekeeping lease up: {}", st.error().message);
  if (sms_) sms_->stop();
  dispatcher_->stop();
  if (auto st = db_->flush(); !st.ok())
    spdlog::error("could not flush the store: {}", st.error().message);
  spdlog::info("stopped");
}

int serve(const Config& config) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  auto app = App::open(config, clock);
  if (!app.ok()) {
    spdlog::critical("cannot start: {} ({})", app.error().message, app.error().code);
    return 1;
  }
  if (auto st = (*app)->start(); !st.ok()) {
    spdlog::critical("cannot start: {}", st.error().message);
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*app)->stop(std::chrono::milliseconds(config.shutdown_grace_ms));
  return 0;
}

}  // namespace cunhuo::storefront
