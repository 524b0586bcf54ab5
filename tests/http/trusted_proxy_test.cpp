// --trusted-proxy over HTTP: the client address a request is limited and checked by. The
// test client connects from 127.0.0.1; trusting 127.0.0.1 makes it stand as the proxy.
#include <memory>

#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kLogin = "/api/v1/sessions";
const std::string kInbox = "/sim/sms?phone=13900000003";
constexpr int kAttempts = 3;  // login attempts per address in these tests

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers forwarded_for(const std::string& chain) { return {{"X-Forwarded-For", chain}}; }

}  // namespace

STORE_TEST("a spoofed X-Forwarded-For from an untrusted peer does not escape the address limit",
           "[http][trusted-proxy][limits]") {
  // Without the option, and with a range the peer is not in: the header is ignored alike.
  for (const std::vector<std::string>& trusted :
       {std::vector<std::string>{}, std::vector<std::string>{"10.0.0.0/8"}}) {
    INFO("trusted proxies: " << trusted.size());
    TestServer server(store_kind, kTestSeed, [&](Config& c) {
      c.login_attempts_per_address = kAttempts;
      c.trusted_proxies = trusted;
      c.payment_simulator = false;  // a sandbox behind a proxy refuses to start
      c.sms = "off";
    });
    HttpClient client(server.port());
    for (int i = 0; i < kAttempts; ++i)
      REQUIRE(
          post_json(client, kLogin, "{}", forwarded_for("203.0.113." + std::to_string(i))).status ==
          400);
    const auto refused = post_json(client, kLogin, "{}", forwarded_for("198.51.100.77"));
    CHECK(refused.status == 429);
    CHECK(error_code(refused) == "too_many_requests");
  }
}

STORE_TEST("behind a trusted proxy each forwarded client has its own address limit",
           "[http][trusted-proxy][limits]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) {
    c.login_attempts_per_address = kAttempts;
    c.trusted_proxies = {"127.0.0.1"};
    c.payment_simulator = false;
    c.sms = "off";
  });
  HttpClient proxy(server.port());
  // A client's own spoofed entries, left of the one the proxy adds, change nothing.
  for (int i = 0; i < kAttempts; ++i)
    REQUIRE(post_json(proxy, kLogin, "{}",
                      forwarded_for("10.9.9." + std::to_string(i) + ", 203.0.113.1"))
                .status == 400);
  CHECK(post_json(proxy, kLogin, "{}", forwarded_for("203.0.113.1")).status == 429);
  CHECK(post_json(proxy, kLogin, "{}", forwarded_for("203.0.113.2")).status == 400);
  CHECK(post_json(proxy, kLogin, "{}", {{"X-Real-IP", "203.0.113.3"}}).status == 400);
}

STORE_TEST("behind a trusted proxy no client reads codes: the SMS sandbox does not start",
           "[http][trusted-proxy][accounts]") {
  TestStore store(store_kind);
  Config config;
  config.listen_port = 0;
  config.db_url = store.url();
  config.seed = "none";
  config.data_dir = temp_dir();
  config.trusted_proxies = {"127.0.0.1"};
  config.sms = "sandbox";
  SystemClock clock;
  auto refused = storefront::App::open(config, clock);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "sandbox_exposed");
  CHECK(refused.error().field == "sms");
  // Saying nothing, a store of its own starts with no sandbox: the inbox is not there for
  // the proxy's machine, nor for any client it forwards.
  TestServer server(store_kind, "none", [](Config& c) { c.trusted_proxies = {"127.0.0.1"}; });
  HttpClient proxy(server.port());
  CHECK(proxy.request("GET", kInbox).status == 404);
  CHECK(proxy.request("GET", kInbox, "", forwarded_for("203.0.113.9")).status == 404);
}

STORE_TEST("a trusted proxy's connections are held by the total cap, not the per-address one",
           "[http][trusted-proxy][limits]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) {
    c.max_connections_per_address = 2;
    c.max_connections = 4;
    c.trusted_proxies = {"127.0.0.1"};
    c.payment_simulator = false;
    c.sms = "off";
  });
  std::vector<std::unique_ptr<HttpClient>> open;
  HttpReply refusal;
  for (int i = 0; i < 10 && refusal.status == 0; ++i) {
    auto client = std::make_unique<HttpClient>(server.port());
    auto reply = client->request("GET", "/healthz");
    if (reply.status != 200)
      refusal = reply;
    else
      open.push_back(std::move(client));
  }
  CHECK(open.size() == 4);  // past the per-address cap of 2, up to the total of 4
  CHECK(refusal.status == 503);
  CHECK(error_code(refusal) == "too_many_connections");
}
