// Backups taken mid-sale, and restores that check the ledger before the service may use
// them: an SQLite store copied online by `cunhuo backup`, a MariaDB store by mariadb-backup
// (deploy/backup.sh, deploy/restore.sh) on a throw-away server of the test's own.
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/db/backup.hpp"
#include "core/db/database.hpp"
#include "core/db/store_lock.hpp"
#include "core/json.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/http_client.hpp"
#include "storefront/store_care.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

struct Ran {
  int status = -1;
  std::string out;  // standard output
};

// Runs a shell command (its standard error into `log`) and waits for it.
Ran run(const std::string& command, const std::string& log) {
  Ran ran;
  FILE* pipe = ::popen((command + " 2>>" + log).c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) ran.out.append(buf, n);
  const int status = ::pclose(pipe);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!ran.out.empty() && ran.out.back() == '\n') ran.out.pop_back();
  return ran;
}

std::string cunhuo_binary(const std::string& args) {
  return std::string(CUNHUO_BINARY) + " " + args;
}
std::string script(const std::string& name) { return "bash " CUNHUO_SOURCE_DIR "/deploy/" + name; }

// A listing with stock for a long sale.
const std::string kSaleMelon =
    R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":3980,)"
    R"("stock":100000,"temperature_class":"chilled","shelf_life_days":20,)"
    R"("harvest_date":"2026-08-20","origin_code":"620621104201","origin_name":"甘肃民勤",)"
    R"("producers":[{"household_id":1,"share_bps":10000}]})";

// The longest a test waits for the sale to reach a number of orders.
constexpr std::chrono::seconds kSaleProgressLimit{30};

// A buyer orders and pays, over and over, until stopped. An order counts as acknowledged
// once its 201 has arrived; payments go on behind it (the sandbox notifies the service).
class SaleInProgress {
 public:
  explicit SaleInProgress(TestServer& server) : server_(server) {
    HttpClient c(server.port());
    product_ = list_for_sale(server, c, kSaleMelon);
    consumer_ = server.login(kConsumer);
    thread_ = std::thread([this] { sell(); });
  }
  ~SaleInProgress() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::int64_t> acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  // Waits, up to a limit, until `n` orders have been acknowledged (or the sale failed).
  bool reaches(std::size_t n) {
    std::unique_lock lock(mu_);
    return acknowledged_changed_.wait_for(lock, kSaleProgressLimit, [&] {
      return acknowledged_.size() >= n || failed_;
    }) && acknowledged_.size() >= n;
  }
  bool failed() const { return failed_; }

 private:
  void sell() {
    HttpClient c(server_.port());
    for (int i = 0; !stopping_; ++i) {
      auto ordered =
          post_json(c, "/api/v1/orders", order_request_body(product_),
                    bearer(consumer_, {{"Idempotency-Key", "sale-" + std::to_string(i)}}));
      if (ordered.status != 201) {
        std::lock_guard lock(mu_);
        failed_ = true;
        acknowledged_changed_.notify_all();
        return;
      }
      const auto doc = Json::parse(ordered.body);
      {
        std::lock_guard lock(mu_);
        acknowledged_.push_back(doc->find("orders")->as_array().front().find("id")->as_integer());
        acknowledged_changed_.notify_all();
      }
      const auto checkout = json_int(ordered.body, "checkout_id");
      auto intent = start_payment(c, consumer_, checkout, "pay-" + std::to_string(checkout));
      if (intent.status != 201) continue;
      on_pay_page(str_field(intent.body, "pay_url"));  // the payer confirms at the provider
    }
  }

  TestServer& server_;
  std::int64_t product_ = 0;
  std::string consumer_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable acknowledged_changed_;
  std::vector<std::int64_t> acknowledged_;
  std::atomic<bool> stopping_{false}, failed_{false};
};

// How many of `ids` are orders in the store at `url`.
std::int64_t orders_present(const std::string& url, const std::vector<std::int64_t>& ids) {
  auto db = db::open_database(url);
  REQUIRE(db.ok());
  std::vector<db::Value> params(ids.begin(), ids.end());
  auto n = (*db)->read([&](db::Session& s) {
    return s.query_with(
        "SELECT COUNT(*) FROM orders WHERE id IN (" + db::placeholders(ids.size()) + ")", params);
  });
  REQUIRE(n.ok());
  return n->at(0).i64(0);
}

// Paid orders in the store at `url`: the ledger has moved money for them.
std::int64_t ledger_transfers(const std::string& url) {
  auto db = db::open_database(url);
  REQUIRE(db.ok());
  auto n = (*db)->read(
      [](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM ledger_transfers"); });
  REQUIRE(n.ok());
  return (*n)->i64(0);
}

// A throw-away MariaDB of the test's own (deploy/mariadb-test.sh), its data under `dir`.
class ScratchMariadb {
 public:
  ScratchMariadb(std::string dir, const char* how, const std::string& log) : dir_(std::move(dir)) {
    auto started = run(
        "CUNHUO_TEST_MARIADB_POOL=64M " + script("mariadb-test.sh") + " " + how + " " + dir_, log);
    REQUIRE(started.status == 0);
    address_ = started.out;
  }
  ~ScratchMariadb() { run(script("mariadb-test.sh") + " stop " + dir_, "/dev/null"); }
  std::string url(const std::string& schema) const { return "mysql://" + address_ + "/" + schema; }
  std::string backup_options() const {
    return "--no-defaults --socket=" + dir_ + "/mysql.sock --user=root";
  }

 private:
  std::string dir_, address_;
};

}  // namespace

TEST_CASE(
    "an SQLite backup taken mid-sale holds every order acknowledged before it began, and "
    "its ledger balances",
    "[deploy][backup][sqlite]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  TestServer server(StoreKind::sqlite);
  SaleInProgress sale(server);
  REQUIRE(sale.reaches(10));
  const auto before = sale.acknowledged();
  const auto copied =
      run(cunhuo_binary("backup --db " + server.store().url() + " --to " + dir + "/copy.db"), log);
  REQUIRE(sale.reaches(before.size() + 5));  // the sale went on
  sale.stop();
  REQUIRE_FALSE(sale.failed());
  INFO("commands' output: " << log);
  REQUIRE(copied.status == 0);

  CHECK(run(cunhuo_binary("check --db sqlite:" + dir + "/copy.db"), log).status == 0);
  CHECK(orders_present("sqlite:" + dir + "/copy.db", before) ==
        static_cast<std::int64_t>(before.size()));
  CHECK(ledger_transfers("sqlite:" + dir + "/copy.db") > 0);  // payments were copied too
  const std::string restored = "sqlite:" + dir + "/restored/cunhuo.db";
  REQUIRE(run(cunhuo_binary("restore --from " + dir + "/copy.db --db " + restored), log).status ==
          0);
  CHECK(orders_present(restored, before) == static_cast<std::int64_t>(before.size()));
}

TEST_CASE("a restore refuses a copy whose ledger does not balance and leaves the store as it was",
          "[deploy][backup][sqlite]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  {
    TestServer server(StoreKind::sqlite);
    auto bought = [&] {
      HttpClient c(server.port());
      return buy_and_pay(server, c, server.login(kConsumer));
    };
    bought();
    REQUIRE(
        run(cunhuo_binary("backup --db " + server.store().url() + " --to " + dir + "/copy.db"), log)
            .status == 0);
  }
  {
    auto copy = db::open_database("sqlite:" + dir + "/copy.db");
    REQUIRE(copy.ok());
    REQUIRE((*copy)
                ->write([](db::Session& tx) {
                  return tx.exec(
                      "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 "
                      "WHERE id = (SELECT MIN(id) FROM ledger_accounts)");
                })
                .ok());
    REQUIRE((*copy)->flush().ok());
  }
  CHECK(run(cunhuo_binary("check --db sqlite:" + dir + "/copy.db"), log).status == 1);
  CHECK(
      run(cunhuo_binary("restore --from " + dir + "/copy.db --db sqlite:" + dir + "/live.db"), log)
          .status == 1);
  CHECK_FALSE(std::filesystem::exists(dir + "/live.db"));
  CHECK_FALSE(std::filesystem::exists(dir + "/live.db.restoring"));
}

TEST_CASE(
    "a MariaDB backup taken mid-sale with mariadb-backup restores every order acknowledged "
    "before it began, and its ledger balances",
    "[deploy][backup][mariadb]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  INFO("commands' output: " << log);
  ScratchMariadb source(dir + "/source", "start", log);
  std::vector<std::int64_t> before;
  std::string copy;
  {
    TestServer server(StoreKind::sqlite, kTestSeed,
                      [&](Config& c) { c.db_url = source.url("cunhuo_sale"); });
    SaleInProgress sale(server);
    REQUIRE(sale.reaches(10));
    before = sale.acknowledged();
    // The service's data directory (keys, photos) goes into the same copy.
    const auto backed_up = run("CUNHUO_DATA_DIR=" + server.data_dir() + " " + script("backup.sh") +
                                   " " + dir + "/backups " + source.backup_options(),
                               log);
    REQUIRE(sale.reaches(before.size() + 5));  // the sale went on
    sale.stop();
    REQUIRE_FALSE(sale.failed());
    REQUIRE(backed_up.status == 0);
    copy = backed_up.out;
  }
  CHECK(run("tar -tf " + copy + "/data-dir.tar", log).out.find("keys/") != std::string::npos);
  REQUIRE(run(script("restore.sh") + " " + copy + " " + dir + "/restored/data --no-defaults", log)
              .status == 0);
  ScratchMariadb restored(dir + "/restored", "resume", log);
  CHECK(run(cunhuo_binary("check --db " + restored.url("cunhuo_sale")), log).status == 0);
  CHECK(orders_present(restored.url("cunhuo_sale"), before) ==
        static_cast<std::int64_t>(before.size()));
  CHECK(ledger_transfers(restored.url("cunhuo_sale")) > 0);
}

TEST_CASE("a backup that would keep no copies is refused before it copies anything",
          "[deploy][backup]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  CHECK(run("CUNHUO_BACKUP_KEEP=0 " + script("backup.sh") + " " + dir + "/backups", log).status ==
        1);
  CHECK_FALSE(std::filesystem::exists(dir + "/backups"));
}

TEST_CASE("a restore is refused while a service serves the store, which is left as it was",
          "[deploy][backup][sqlite][restore-lock]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  INFO("commands' output: " << log);
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  buy_and_pay(server, c, server.login(kConsumer));
  const std::string url = server.store().url(), copy = dir + "/copy.db";
  REQUIRE(run(cunhuo_binary("backup --db " + url + " --to " + copy), log).status == 0);
  buy_and_pay(server, c, server.login(kConsumer));  // after the copy: a restore would lose it
  const auto orders = server.count("SELECT COUNT(*) FROM orders");

  CHECK(run(cunhuo_binary("restore --from " + copy + " --db " + url), log).status == 1);
  auto refused = storefront::restore_store(copy, url);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "store_in_use");
  CHECK(server.count("SELECT COUNT(*) FROM orders") == orders);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(server.login(kConsumer))).status == 200);
  CHECK_FALSE(std::filesystem::exists(*db::sqlite_path(url) + ".restoring"));
}

TEST_CASE("a service does not start on a store being restored", "[deploy][backup][sqlite]") {
  const std::string dir = temp_dir();
  auto restoring = db::StoreLock::replacing(dir + "/cunhuo.db");
  REQUIRE(restoring.ok());
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = "sqlite:" + dir + "/cunhuo.db";
  config.seed = "none";
  config.data_dir = dir;
  SystemClock clock;
  auto app = storefront::App::open(config, clock);
  REQUIRE_FALSE(app.ok());
  CHECK(app.error().code == "store_being_restored");
}

TEST_CASE("a backup is readable by its owner only, whatever the umask",
          "[deploy][backup][sqlite]") {
  const std::string dir = temp_dir(), log = dir + "/commands.log";
  TestServer server(StoreKind::sqlite);
  const mode_t before = ::umask(022);  // an operator's usual: new files world-readable
  const auto copied =
      run(cunhuo_binary("backup --db " + server.store().url() + " --to " + dir + "/copy.db"), log);
  ::umask(before);
  REQUIRE(copied.status == 0);
  struct stat info {};
  REQUIRE(::stat((dir + "/copy.db").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  for (const auto& entry : std::filesystem::directory_iterator(dir))  // nothing half-made left
    CHECK(entry.path().filename().string().find("partial") == std::string::npos);
}
