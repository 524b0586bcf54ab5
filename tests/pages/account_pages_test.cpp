// Logging in on a page by a code sent to the phone: a new phone becomes a consumer, a
// registered one logs in, both alike; refusals keep what was typed and write nothing.
#include <catch2/catch.hpp>

#include <regex>

#include "core/json.hpp"
#include "messaging/phone_codes.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kNewPhone = "13700000001";

}  // namespace

STORE_TEST("a new phone signs up on the login page and lands on the page it came from",
           "[pages][login]") {
  TestServer server(store_kind);
  Browser b(server);
  auto login = b.get("/login?next=%2Fsearch%3Fq%3Dmelon");
  REQUIRE(login.status == 200);
  auto asked = b.post("/login/code", {{"phone", kNewPhone}, {"next", "/search?q=melon"}});
  REQUIRE(asked.status == 200);
  CHECK(has(asked.body, "137****0001"));
  auto in = b.post("/login", {{"phone", kNewPhone},
                              {"code", sandbox_code(server, kNewPhone)},
                              {"next", "/search?q=melon"}});
  REQUIRE(in.status == 303);
  CHECK(in.header("location") == std::optional<std::string>("/search?q=melon"));
  CHECK(has(b.get("/").body, "村货用户0001"));
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kNewPhone +
                     "' AND role = 'consumer'") == 1);
}

STORE_TEST("a registered phone logs in on the page by code, as its own account", "[pages][login]") {
  TestServer server(store_kind);
  Browser b(server);
  b.get("/login");
  REQUIRE(b.post("/login/code", {{"phone", kFarmer}}).status == 200);
  auto in = b.post("/login", {{"phone", kFarmer}, {"code", sandbox_code(server, kFarmer)}});
  REQUIRE(in.status == 303);
  CHECK(in.header("location") == std::optional<std::string>("/"));
  HttpClient c(server.port());
  auto me = c.request("GET", "/api/v1/me", "", bearer(b.session_token()));
  REQUIRE(me.status == 200);
  CHECK(has(me.body, "\"role\":\"farmer\""));
}

TEST_CASE("a refused login says why in Chinese, keeps the phone typed, and writes nothing",
          "[pages][login]") {
  TestServer server(StoreKind::sqlite);
  Browser b(server);
  b.get("/login");
  REQUIRE(b.post("/login/code", {{"phone", kFarmer}}).status == 200);
  const std::string right = sandbox_code(server, kFarmer);
  const std::string wrong = right == "000000" ? "111111" : "000000";
  struct Case {
    std::string what, path;
    std::vector<std::pair<std::string, std::string>> fields;
    bool bad_token;
    int status;
    std::string says;
  };
  // In the order the page checks them: the form's token, then the phone, then the code.
  const std::vector<Case> refusals = {
      {"a forged form", "/login", {{"phone", kFarmer}, {"code", right}}, true, 403, "页面已过期"},
      {"a malformed phone", "/login/code", {{"phone", "1380000"}}, false, 400, "11 位手机号"},
      {"a wrong code", "/login", {{"phone", kFarmer}, {"code", wrong}}, false, 400, "验证码错误"},
  };
  const auto sessions = server.count("SELECT COUNT(*) FROM sessions");
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = b.post(r.path, r.fields, r.bad_token);
    CHECK(refused.status == r.status);
    CHECK(has(refused.body, r.says));
    CHECK(has(refused.body, "value=\"" + r.fields.front().second + "\""));  // the phone typed
    CHECK(server.count("SELECT COUNT(*) FROM sessions") == sessions);
  }
}

TEST_CASE("a login sends no one to another site", "[pages][login]") {
  TestServer server(StoreKind::sqlite);
  Browser b(server);
  b.get("/login");
  REQUIRE(b.post("/login/code", {{"phone", kFarmer}}).status == 200);
  auto in = b.post(
      "/login",
      {{"phone", kFarmer}, {"code", sandbox_code(server, kFarmer)}, {"next", "//evil.example/"}});
  REQUIRE(in.status == 303);
  CHECK(in.header("location") == std::optional<std::string>("/"));
}

STORE_TEST("where no text is sent, the login page says no code can be sent", "[pages][login]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) { c.sms = "off"; });
  Browser b(server);
  b.get("/login");
  auto refused = b.post("/login/code", {{"phone", kNewPhone}});
  CHECK(refused.status == 503);
  CHECK(has(refused.body, "本站暂不发送短信"));
  CHECK_FALSE(has(refused.body, "137****0001"));  // the "sent to" notice
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == 0);
}

TEST_CASE("a store holding the fixture's published accounts is not served over TLS",
          "[pages][login]") {
  const std::string dir = temp_dir();
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = "sqlite:" + dir + "/cunhuo.db";
  config.seed = "fixture";
  config.data_dir = dir;
  config.secure_cookies = true;
  config.payment_simulator = false;
  config.sms = "off";  // both sandboxes would be refused first (sandbox_exposed)
  SystemClock clock;
  auto app = storefront::App::open(config, clock);
  REQUIRE_FALSE(app.ok());
  CHECK(app.error().code == "sample_accounts_exposed");
}

TEST_CASE("behind TLS the session cookie is Secure, HttpOnly and SameSite=Lax", "[pages][login]") {
  TestServer server(StoreKind::sqlite, kTestSeed, [](Config& c) {
    c.secure_cookies = true;
    c.demo = true;  // the fixture's published accounts are served over TLS only in a demo
  });
  Browser b(server);
  b.get("/login");
  REQUIRE(b.post("/login/code", {{"phone", kFarmer}}).status == 200);
  auto in = b.post("/login", {{"phone", kFarmer}, {"code", sandbox_code(server, kFarmer)}});
  REQUIRE(in.status == 303);
  std::string cookie;
  for (const auto& [name, value] : in.headers)
    if (name == "set-cookie" && value.starts_with("cunhuo_session=")) cookie = value;
  CHECK(has(cookie, "; Secure"));
  CHECK(has(cookie, "; HttpOnly"));
  CHECK(has(cookie, "; SameSite=Lax"));
}
