// Whole processes: a dispatcher killed with SIGKILL and restarted, and the service
// binary stopped with SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "payments/statements.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// The longest a test waits for a process it started to say it is ready, or to end.
constexpr std::chrono::seconds kProcessLimit{120};

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

STORE_TEST("a dispatcher killed with SIGKILL resumes after restart: every event handled once",
           "[process][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                return s.exec_script("CREATE TABLE probe_effects (event_id BIGINT NOT NULL);");
              })
              .ok());
  constexpr int kEvents = 300;
  SystemClock clock;
  REQUIRE(publish_events(store.db(), clock, "probe.tick", kEvents).ok());
  const std::string dir = temp_dir();

  // The worker stops inside its 41st handling, that handler's transaction open, and says
  // so: the kill lands there, whatever the machine's speed.
  constexpr int kHangAt = 41;
  {
    ChildProcess worker({OUTBOX_WORKER, store.url(), "dispatch", std::to_string(kHangAt)},
                        dir + "/worker.log");
    REQUIRE(worker.wait_for_output("hanging in handling", kProcessLimit));
    worker.signal(SIGKILL);
    worker.wait_exit(kProcessLimit);
  }
  const auto effects = [&] { return count(store.db(), "SELECT COUNT(*) FROM probe_effects"); };

  const auto handled_before_restart = effects();
  INFO("handled before the kill: " << handled_before_restart);
  CHECK(handled_before_restart == kHangAt - 1);  // the one in flight rolled back
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL") > 0);

  ChildProcess restarted({OUTBOX_WORKER, store.url(), "dispatch", "0"}, dir + "/restarted.log");
  REQUIRE(restarted.wait_exit(kProcessLimit) == 0);

  CHECK(count(store.db(), "SELECT COUNT(*) FROM probe_effects") == kEvents);
  CHECK(count(store.db(), "SELECT COUNT(DISTINCT event_id) FROM probe_effects") == kEvents);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL") == 0);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_handled WHERE handler = 'probe'") ==
        kEvents);
}

// The service's gauge of requests being handled, read from /metrics.
std::int64_t requests_in_flight(std::uint16_t port) {
  const std::string body = HttpClient(port).request("GET", "/metrics").body;
  const std::string name = "\ncunhuo_http_requests_in_flight ";
  const auto at = body.find(name);
  REQUIRE(at != std::string::npos);
  return std::stoll(body.substr(at + name.size()));
}

// Starts `cunhuo serve` on a fresh SQLite store in `dir` and waits until it says it listens.
std::unique_ptr<ChildProcess> start_service(const std::string& dir, std::uint16_t port) {
  auto service = std::make_unique<ChildProcess>(
      std::vector<std::string>{
          CUNHUO_BINARY, "serve", "--listen", "127.0.0.1:" + std::to_string(port), "--db",
          "sqlite:" + dir + "/cunhuo.db", "--seed", "fixture", "--threads", "2", "--data-dir", dir},
      dir + "/serve.log");
  REQUIRE(service->wait_for_output("listening on http://", kProcessLimit));
  REQUIRE(HttpClient(port).request("GET", "/healthz").status == 200);
  return service;
}

}  // namespace

TEST_CASE("the service stops cleanly on SIGTERM", "[process]") {
  const std::string dir = temp_dir();
  const auto port = free_test_port();
  auto service = start_service(dir, port);
  HttpClient idle(port);  // an open keep-alive connection must not hold the shutdown up
  CHECK(idle.request("GET", "/readyz").status == 200);
  service->signal(SIGTERM);
  CHECK(service->wait_exit(std::chrono::seconds(30)) == 0);
  CHECK_THROWS(HttpClient(port).request("GET", "/healthz"));
}

TEST_CASE("on SIGTERM new requests get 503, logins in flight finish, and the store is flushed",
          "[process]") {
  const std::string dir = temp_dir();
  const auto port = free_test_port();
  auto service = start_service(dir, port);
  // Each login hashes for a while on the service's small pool of workers.
  constexpr int kLogins = 6;
  const std::string body = R"({"phone":"13900000001","password":"cunhuo-demo"})";
  std::vector<std::unique_ptr<HttpClient>> logins;
  for (int i = 0; i < kLogins; ++i) {
    logins.push_back(std::make_unique<HttpClient>(port));
    logins.back()->send_raw(
        "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  // The service's own gauge says how many are being handled (this request too). Each login is
  // first counted against its address in the store, so on a loaded machine the first ones can
  // finish before the last are taken: the signal goes once as many as possible are in flight.
  std::int64_t in_flight = 0, most = 0;
  for (int i = 0; i < 10'000 && most <= kLogins; ++i) {
    in_flight = requests_in_flight(port);
    if (in_flight > most) most = in_flight;
    if (most > 1 && in_flight < most) break;  // past the peak: some finished already
  }
  REQUIRE(most > 1);
  const std::int64_t logins_in_flight = most - 1;  // at the peak, less the gauge's request
  service->signal(SIGTERM);
  // Until the service sees the signal it serves; then a new request is a 503 or not taken.
  int status = 200;
  for (int i = 0; i < 100'000 && status == 200; ++i) {
    try {
      status = HttpClient(port).request("GET", "/healthz").status;
    } catch (const std::exception&) {
      status = 0;  // refused or closed: the listener is gone
    }
  }
  CHECK((status == 503 || status == 0));
  int finished = 0, turned_away = 0;
  std::string statuses;  // for the report of a failure
  for (auto& client : logins) {
    int login_status = 0;
    try {
      login_status = client->read_reply().status;
    } catch (const std::exception&) {
      login_status = 0;  // not taken before the listener closed
    }
    statuses += std::to_string(login_status) + " ";
    finished += login_status == 201 ? 1 : 0;
    turned_away += (login_status == 503 || login_status == 0) ? 1 : 0;
  }
  INFO("logins finished during the drain: " << finished << " of " << kLogins << ", "
                                            << logins_in_flight << " seen in flight; answers "
                                            << statuses);
  CHECK(finished + turned_away == kLogins);  // each finished or was turned away whole
  CHECK(finished >= logins_in_flight);       // every login in flight finishes
  CHECK(service->wait_exit(std::chrono::seconds(30)) == 0);
  const std::string wal = dir + "/cunhuo.db-wal";  // checkpointed into the store: empty or gone
  CHECK((!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0));
  auto db = db::open_database("sqlite:" + dir + "/cunhuo.db", db::DatabaseOptions{});
  REQUIRE(db.ok());
  CHECK(count(**db, "SELECT COUNT(*) FROM sessions") == finished);
}

namespace {

int run_verify(const std::string& file, const std::string& data_dir) {
  const std::string cmd = std::string(CUNHUO_BINARY) + " verify-statement '" + file +
                          "' --data-dir '" + data_dir + "' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

}  // namespace

TEST_CASE("cunhuo verify-statement accepts a genuine statement and rejects one altered by a digit",
          "[process][payments]") {
  const std::string dir = cunhuo::test::temp_dir();
  auto key = cunhuo::payments::SigningKey::load_or_create(dir + "/keys/statement-ed25519.key");
  REQUIRE(key.ok());
  cunhuo::test::TestStore store(cunhuo::test::StoreKind::sqlite);
  store.migrate();
  cunhuo::ManualClock clock(1'790'000'000'000);
  auto period = cunhuo::payments::parse_period("2026-09");
  REQUIRE(period.ok());
  auto statement = store.db().read([&](cunhuo::db::Session& s) {
    return cunhuo::payments::issue_statement(s, {7, "王*国", "620621104201", 4}, *period, *key,
                                             clock);
  });
  REQUIRE(statement.ok());
  const std::string genuine = dir + "/genuine.json", altered = dir + "/altered.json";
  write_file(genuine, statement->document());
  std::string text = statement->document();
  text.replace(text.find("\"members\":4"), 11, "\"members\":3");
  write_file(altered, text);
  CHECK(run_verify(genuine, dir) == 0);
  CHECK(run_verify(altered, dir) == 1);
  CHECK(run_verify(genuine, dir + "/nowhere") == 2);  // no platform key to check against
}
