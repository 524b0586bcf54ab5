// An in-process Cunhuo server on a free loopback port, over a fresh store.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "storefront/app.hpp"
#include "tests/support/support.hpp"

namespace cunhuo::test {

using Headers = std::vector<std::pair<std::string, std::string>>;
// Authorization for `token`, with JSON as the body's type, plus any `extra` headers.
Headers bearer(const std::string& token, Headers extra = {});
// The error code / field of a JSON error reply ("" when it names no field).
std::string error_code(const HttpReply& reply);
std::string error_field(const HttpReply& reply);
// An integer member of a JSON object body.
std::int64_t json_int(const std::string& body, const char* key);

// The clock a TestServer reads: the system's, or a manual one the test moves with
// TestServer::advance, so a test of a time limit need not sleep through it.
enum class ServerClock { system, manual };

// The seed tests run on unless they name another.
inline constexpr const char* kTestSeed = "fixture";

class TestServer;
// The newest text the SMS sandbox "sent" to `phone`, after a sending pass.
std::string sandbox_text(TestServer& server, const std::string& phone);
// The code in it: the first run of digits.
std::string sandbox_code(TestServer& server, const std::string& phone);

// The payer on the payment sandbox's page that a pay URL opens
// (http://127.0.0.1:PORT/pay/<prepay_id>): "page" reads it, "confirm" pays, "fail" fails;
// `browser` posts the page's form as a browser does (answered with a redirect).
HttpReply on_pay_page(const std::string& pay_url, const std::string& action = "confirm",
                      bool browser = false);
// What the provider refunded for the platform's one refund sent to it (its provider_refunds
// row), as the adapter queries it (GET /v3/refund/domestic/refunds/{out_refund_no}).
std::int64_t refunded_at_provider(TestServer& server);
// The in-process sandbox's own store (its SQLite file), to change the provider's books.
std::unique_ptr<db::Database> sandbox_books(TestServer& server);
// Sends the in-process sandbox's due notifications now; how many were acknowledged.
int deliver_notifications(TestServer& server);

class TestServer {
 public:
  explicit TestServer(StoreKind kind, std::string seed = kTestSeed,
                      std::function<void(Config&)> tweak = {},
                      ServerClock clock = ServerClock::system);
  ~TestServer();
  std::uint16_t port() const { return app_->port(); }
  TestStore& store() { return store_; }
  storefront::App& app() { return *app_; }
  // Logs in over HTTP and returns the bearer token.
  std::string login(const std::string& phone, const std::string& password = "cunhuo-demo");
  std::int64_t count(const std::string& sql);
  const Clock& clock() const { return clock_; }
  const std::string& data_dir() const { return data_dir_; }
  // Moves the manual clock (which starts at the system's time) while the server runs.
  void advance(std::chrono::milliseconds by);

 private:
  TestStore store_;
  SystemClock system_clock_;
  ManualClock manual_clock_;
  const Clock& clock_;
  std::unique_ptr<storefront::App> app_;
  std::string data_dir_;
};

}  // namespace cunhuo::test
