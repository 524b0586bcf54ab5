// Whole processes: a dispatcher killed with SIGKILL and restarted, and the service
// binary stopped with SIGTERM.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "payments/statements.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    FILE* log = std::fopen(log_path.c_str(), "w");
    if (log) {
      ::dup2(fileno(log), 1);
      ::dup2(fileno(log), 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for the child; returns its exit status, or -1 when it did not end in time.
int wait_exit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

// A port the kernel hands out to no one else meanwhile: below Linux's ephemeral range
// (32768-60999), so that a listener the service binds to port 0 before its own (the payment
// sandbox's) cannot be given the port picked here.
constexpr int kFirstTestPort = 20000, kTestPorts = 12000;

std::uint16_t free_port() {
  static std::mt19937 pick(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto port = static_cast<std::uint16_t>(kFirstTestPort + pick() % kTestPorts);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) return port;
  }
  FAIL("no free port below the ephemeral range");
  return 0;
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
  REQUIRE(store.db()
              .write([&](db::Session& tx) -> Status {
                for (int i = 0; i < kEvents; ++i)
                  CUNHUO_TRY(outbox::publish(tx, "probe.tick", "{}", clock));
                return {};
              })
              .ok());
  const std::string log = temp_dir() + "/worker.log";

  // The worker stops inside its 41st handling, that handler's transaction open: the kill
  // lands there, whatever the machine's speed. The worker is another process, so the test
  // polls the store for the 40 before it.
  constexpr int kHangAt = 41;
  pid_t worker = spawn({OUTBOX_WORKER, store.url(), "dispatch", std::to_string(kHangAt)}, log);
  const auto effects = [&] { return count(store.db(), "SELECT COUNT(*) FROM probe_effects"); };
  for (int i = 0; i < 1000 && effects() < kHangAt - 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::kill(worker, SIGKILL);
  ::waitpid(worker, nullptr, 0);

  const auto handled_before_restart = effects();
  INFO("handled before the kill: " << handled_before_restart);
  CHECK(handled_before_restart == kHangAt - 1);  // the one in flight rolled back
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL") > 0);

  pid_t restarted = spawn({OUTBOX_WORKER, store.url(), "dispatch", "0"}, log);
  REQUIRE(wait_exit(restarted, std::chrono::seconds(120)) == 0);

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

// Starts `cunhuo serve` on a fresh SQLite store in `dir` and waits until it answers.
pid_t start_service(const std::string& dir, std::uint16_t port) {
  pid_t pid = spawn(
      {CUNHUO_BINARY, "serve", "--listen", "127.0.0.1:" + std::to_string(port), "--db",
       "sqlite:" + dir + "/cunhuo.db", "--seed", "fixture", "--threads", "2", "--data-dir", dir},
      dir + "/serve.log");
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    try {
      HttpClient client(port);
      up = client.request("GET", "/healthz").status == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  REQUIRE(up);
  return pid;
}

}  // namespace

TEST_CASE("the service stops cleanly on SIGTERM", "[process]") {
  const std::string dir = temp_dir();
  const auto port = free_port();
  pid_t pid = start_service(dir, port);
  HttpClient idle(port);  // an open keep-alive connection must not hold the shutdown up
  CHECK(idle.request("GET", "/readyz").status == 200);
  ::kill(pid, SIGTERM);
  CHECK(wait_exit(pid, std::chrono::seconds(30)) == 0);
  CHECK_THROWS(HttpClient(port).request("GET", "/healthz"));
}

TEST_CASE("on SIGTERM new requests get 503, logins in flight finish, and the store is flushed",
          "[process]") {
  const std::string dir = temp_dir();
  const auto port = free_port();
  pid_t pid = start_service(dir, port);
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
  // The service's own gauge says when all of them are being handled (this request too).
  std::int64_t in_flight = 0;
  for (int i = 0; i < 10'000 && in_flight <= kLogins; ++i) in_flight = requests_in_flight(port);
  REQUIRE(in_flight > kLogins);
  ::kill(pid, SIGTERM);
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
  int finished = 0;
  for (auto& client : logins) {
    auto reply = client->read_reply();
    finished += reply.status == 201 ? 1 : 0;
  }
  INFO("logins finished during the drain: " << finished << " of " << kLogins);
  CHECK(finished == kLogins);  // all were in flight: all finish
  CHECK(wait_exit(pid, std::chrono::seconds(30)) == 0);
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
