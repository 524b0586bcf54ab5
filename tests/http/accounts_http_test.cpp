// Signing up and logging in by phone over real TCP: codes read from the text message
// sandbox, their limits, passwords set and changed, and the account's own sessions.
#include <chrono>

#include "core/json.hpp"
#include "messaging/phone_codes.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
using namespace std::chrono_literals;

namespace {

const std::string kNewPhone = "13700000001";
const std::string kSeedConsumer = "13900000003";  // has an account, password cunhuo-demo

HttpReply ask_code(HttpClient& c, const std::string& phone, const std::string& purpose) {
  return post_json(c, "/api/v1/phone-codes",
                   R"({"phone":")" + phone + R"(","purpose":")" + purpose + R"("})");
}

HttpReply sign_up(HttpClient& c, const std::string& phone, const std::string& code,
                  const std::string& name = "新顾客") {
  return post_json(
      c, "/api/v1/accounts",
      R"({"phone":")" + phone + R"(","code":")" + code + R"(","display_name":")" + name + R"("})");
}

HttpReply code_login(HttpClient& c, const std::string& phone, const std::string& code) {
  return post_json(c, "/api/v1/sessions",
                   R"({"phone":")" + phone + R"(","code":")" + code + R"("})");
}

// The texts the sandbox "sent" to `phone`, newest first, after a sending pass.
std::vector<std::string> inbox(TestServer& server, const std::string& phone) {
  REQUIRE(server.app().sms() != nullptr);
  REQUIRE(server.app().sms()->run_once().ok());
  HttpClient c(server.port());
  auto reply = c.request("GET", "/sim/sms?phone=" + phone);
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  std::vector<std::string> texts;
  for (const auto& m : doc->find("items")->as_array()) texts.push_back(m.find("text")->as_string());
  return texts;
}

// The code in the newest message to `phone`.
std::string latest_code(TestServer& server, const std::string& phone) {
  const auto texts = inbox(server, phone);
  REQUIRE_FALSE(texts.empty());
  const auto at = texts.front().find_first_of("0123456789");
  REQUIRE(at != std::string::npos);
  return texts.front().substr(at, messaging::kCodeDigits);
}

std::string other_code(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

std::string token_of(const HttpReply& reply) {
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  return doc->find("token")->as_string();
}

std::string signed_up_token(TestServer& server, HttpClient& c, const std::string& phone) {
  REQUIRE(ask_code(c, phone, "sign_up").status == 202);
  auto created = sign_up(c, phone, latest_code(server, phone));
  REQUIRE(created.status == 201);
  return token_of(created);
}

std::vector<std::string> session_ids(HttpClient& c, const std::string& token,
                                     std::string* current = nullptr) {
  auto listed = c.request("GET", "/api/v1/sessions", "", bearer(token));
  REQUIRE(listed.status == 200);
  std::vector<std::string> ids;
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  for (const auto& s : doc->find("items")->as_array()) {
    ids.push_back(s.find("id")->as_string());
    if (current != nullptr && s.find("current")->as_bool()) *current = ids.back();
  }
  return ids;
}

}  // namespace

STORE_TEST("a new phone gets a code from the sandbox, signs up and is a consumer",
           "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto asked = ask_code(c, kNewPhone, "sign_up");
  CHECK(asked.status == 202);
  CHECK(asked.body == R"({"sent":true,"expires_in_s":300})");
  auto created = sign_up(c, kNewPhone, latest_code(server, kNewPhone));
  REQUIRE(created.status == 201);
  auto me = c.request("GET", "/api/v1/me", "", bearer(token_of(created)));
  CHECK(me.status == 200);
  CHECK(me.body.find(R"("role":"consumer")") != std::string::npos);
  CHECK(me.body.find(R"("display_name":"新顾客")") != std::string::npos);
  CHECK(me.body.find(kNewPhone) == std::string::npos);  // masked
}

STORE_TEST("a phone logs in with a code sent to it", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kSeedConsumer, "log_in").status == 202);
  auto login = code_login(c, kSeedConsumer, latest_code(server, kSeedConsumer));
  REQUIRE(login.status == 201);
  auto me = c.request("GET", "/api/v1/me", "", bearer(token_of(login)));
  CHECK(me.body.find(R"("role":"consumer")") != std::string::npos);
}

STORE_TEST("a phone locked by wrong passwords still logs in with a code sent to it",
           "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string wrong = R"({"phone":")" + kSeedConsumer + R"(","password":"not-it-at-all"})";
  HttpReply last;
  for (int i = 0; i <= storefront::LoginLimits::kWrongPasswordsPerPhone; ++i)
    last = post_json(c, "/api/v1/sessions", wrong);
  REQUIRE(last.status == 429);  // a stranger's guesses locked password logins
  REQUIRE(ask_code(c, kSeedConsumer, "log_in").status == 202);
  CHECK(code_login(c, kSeedConsumer, latest_code(server, kSeedConsumer)).status == 201);
}

STORE_TEST("a code is used once: logging in with it again is refused", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kSeedConsumer, "log_in").status == 202);
  const std::string code = latest_code(server, kSeedConsumer);
  REQUIRE(code_login(c, kSeedConsumer, code).status == 201);
  auto again = code_login(c, kSeedConsumer, code);
  CHECK(again.status == 401);
  CHECK(error_code(again) == "invalid_credentials");
}

STORE_TEST("five wrong codes use a code up: then even the right one is refused",
           "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  const std::string code = latest_code(server, kNewPhone);
  for (int i = 0; i < messaging::kCodeTries; ++i) {
    auto wrong = sign_up(c, kNewPhone, other_code(code));
    CHECK(wrong.status == 400);
    CHECK(error_code(wrong) == "invalid_code");
  }
  CHECK(error_code(sign_up(c, kNewPhone, code)) == "invalid_code");
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kNewPhone + "'") == 0);
}

STORE_TEST("an expired code is refused", "[http][accounts]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  const std::string code = latest_code(server, kNewPhone);
  server.advance(std::chrono::milliseconds(messaging::kCodeLifetimeMs) + 1s);
  CHECK(error_code(sign_up(c, kNewPhone, code)) == "invalid_code");
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kNewPhone + "'") == 0);
}

STORE_TEST("signing up a registered phone answers as a wrong code does and writes nothing",
           "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto asked_existing = ask_code(c, kSeedConsumer, "sign_up");
  auto asked_new = ask_code(c, kNewPhone, "sign_up");
  CHECK(asked_existing.status == asked_new.status);
  CHECK(asked_existing.body == asked_new.body);
  const auto texts = inbox(server, kSeedConsumer);  // told, but given no code
  REQUIRE(texts.size() == 1);
  CHECK(texts.front().find("已注册") != std::string::npos);
  const std::int64_t accounts = server.count("SELECT COUNT(*) FROM accounts");
  const std::int64_t sessions = server.count("SELECT COUNT(*) FROM sessions");
  const std::int64_t codes = server.count("SELECT COUNT(*) FROM phone_codes");
  auto existing = sign_up(c, kSeedConsumer, "123456");
  auto wrong = sign_up(c, kNewPhone, other_code(latest_code(server, kNewPhone)));
  CHECK(existing.status == wrong.status);
  CHECK(existing.body == wrong.body);
  CHECK(server.count("SELECT COUNT(*) FROM accounts") == accounts);
  CHECK(server.count("SELECT COUNT(*) FROM sessions") == sessions);
  CHECK(server.count("SELECT COUNT(*) FROM phone_codes") == codes);
}

STORE_TEST("a replayed sign-up creates no second account", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  const std::string code = latest_code(server, kNewPhone);
  REQUIRE(sign_up(c, kNewPhone, code).status == 201);
  CHECK(error_code(sign_up(c, kNewPhone, code)) == "invalid_code");
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kNewPhone + "'") == 1);
}

STORE_TEST("requests for a code are refused in order, and send nothing", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  struct Case {
    std::string body;
    int status;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {R"({"phone":)", 400, "malformed_json", ""},
      {R"({"phone":"13700000001","purpose":"sign_up","extra":1})", 400, "unknown_field", "extra"},
      {R"({"purpose":"sign_up"})", 400, "missing_field", "phone"},
      {R"({"phone":"13700000001"})", 400, "missing_field", "purpose"},
      {R"({"phone":"12345","purpose":"nonsense"})", 400, "invalid_phone", "phone"},
      {R"({"phone":"13700000001","purpose":"nonsense"})", 400, "invalid_purpose", "purpose"},
      // A proxy confirmation is asked for by a station's operator only.
      {R"({"phone":"13700000001","purpose":"proxy_confirm"})", 400, "invalid_purpose", "purpose"},
  };
  for (const auto& k : cases) {
    INFO(k.body);
    auto reply = post_json(c, "/api/v1/phone-codes", k.body);
    CHECK(reply.status == k.status);
    CHECK(error_code(reply) == k.code);
    CHECK(error_field(reply) == k.field);
  }
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM phone_codes") == 0);
}

STORE_TEST("sign-ups are refused in order, and write nothing", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  const std::string code = latest_code(server, kNewPhone);
  struct Case {
    std::string body, code, field;
  };
  const std::string p = R"("phone":")" + kNewPhone + R"(")";
  const std::vector<Case> cases = {
      {R"({"phone":"12345","code":"1","display_name":""})", "invalid_phone", "phone"},
      {"{" + p + R"(,"display_name":"x"})", "missing_field", "code"},
      {"{" + p + R"(,"code":")" + code + R"(","display_name":""})", "invalid_name", "display_name"},
      {"{" + p + R"(,"code":")" + other_code(code) + R"(","display_name":"x"})", "invalid_code",
       "code"},
  };
  const std::int64_t accounts = server.count("SELECT COUNT(*) FROM accounts");
  for (const auto& k : cases) {
    INFO(k.body);
    auto reply = post_json(c, "/api/v1/accounts", k.body);
    CHECK(reply.status == 400);
    CHECK(error_code(reply) == k.code);
    CHECK(error_field(reply) == k.field);
  }
  CHECK(server.count("SELECT COUNT(*) FROM accounts") == accounts);
  CHECK(sign_up(c, kNewPhone, code).status == 201);  // one wrong try left it usable
}

STORE_TEST("a second code for one phone and purpose within a minute is refused with Retry-After",
           "[http][accounts][limits]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  server.advance(10s);
  auto again = ask_code(c, kNewPhone, "sign_up");
  CHECK(again.status == 429);
  CHECK(again.header("retry-after") == "50");
  CHECK(ask_code(c, kNewPhone, "log_in").status == 202);  // another purpose: its own minute
  server.advance(50s);
  CHECK(ask_code(c, kNewPhone, "sign_up").status == 202);
}

STORE_TEST("a purpose's codes for the day spent, a request is answered as before and sent nothing",
           "[http][accounts][limits]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  for (int i = 0; i < messaging::kAnonymousCodesPerDay; ++i) {
    REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
    server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
  }
  const std::int64_t queued = server.count("SELECT COUNT(*) FROM sms_queue");
  CHECK(queued == messaging::kAnonymousCodesPerDay);
  auto spent = ask_code(c, kNewPhone, "sign_up");
  CHECK(spent.status == 202);
  CHECK(spent.body == R"({"sent":true,"expires_in_s":300})");
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == queued);
  server.advance(std::chrono::milliseconds(messaging::kCodeDayMs));
  REQUIRE(ask_code(c, kNewPhone, "sign_up").status == 202);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == queued + 1);  // a new day
}

STORE_TEST("requests for codes are limited in order: the address, the minute, the day",
           "[http][accounts][limits]") {
  using messaging::kAnonymousCodesPerDay;
  struct Case {
    std::string situation;
    int extra_requests;  // after the day's log_in codes, the last one just sent
    std::chrono::milliseconds wait;
    int status;
    std::optional<std::string> retry_after;  // "hour": more than a minute
  };
  const std::vector<Case> cases = {
      {"the address's hour spent, the phone's minute and day too", 1, 0ms, 429, "hour"},
      {"the minute since the last log_in code, the day spent too", 0, 0ms, 429, "60"},
      {"the log_in day spent: answered as sent, nothing sent", 0, 60s, 202, std::nullopt},
  };
  for (const auto& k : cases) {
    CAPTURE(k.situation);
    TestServer server(
        store_kind, kTestSeed,
        [](Config& c) { c.code_requests_per_address = kAnonymousCodesPerDay + 1; },
        ServerClock::manual);
    HttpClient c(server.port());
    for (int i = 0; i < kAnonymousCodesPerDay; ++i) {
      if (i > 0) server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
      REQUIRE(ask_code(c, kSeedConsumer, "log_in").status == 202);
    }
    for (int i = 0; i < k.extra_requests; ++i) ask_code(c, kSeedConsumer, "log_in");
    server.advance(k.wait);
    const std::int64_t queued = server.count("SELECT COUNT(*) FROM sms_queue");
    CHECK(queued == kAnonymousCodesPerDay);
    auto reply = ask_code(c, kSeedConsumer, "log_in");
    CHECK(reply.status == k.status);
    if (!k.retry_after)
      CHECK_FALSE(reply.header("retry-after").has_value());
    else if (*k.retry_after == "hour")
      CHECK(std::stoll(reply.header("retry-after").value_or("0")) > 60);
    else
      CHECK(reply.header("retry-after") == k.retry_after);
    CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == queued);
  }
}

STORE_TEST("an address asking for too many codes is refused with Retry-After",
           "[http][accounts][limits]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) { c.code_requests_per_address = 2; });
  HttpClient c(server.port());
  CHECK(ask_code(c, "13700000001", "sign_up").status == 202);
  CHECK(ask_code(c, "13700000002", "sign_up").status == 202);
  auto refused = ask_code(c, "13700000003", "sign_up");
  CHECK(refused.status == 429);
  CHECK(refused.header("retry-after").has_value());
}

STORE_TEST("a consumer sets a password with a code, then logs in with it", "[http][accounts]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string token = signed_up_token(server, c, kNewPhone);
  auto no_proof =
      c.request("PUT", "/api/v1/me/password", R"({"new_password":"melon-2026"})", bearer(token));
  CHECK(error_code(no_proof) == "missing_field");
  server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
  REQUIRE(ask_code(c, kNewPhone, "reset_password").status == 202);
  const std::string code = latest_code(server, kNewPhone);
  auto set = c.request("PUT", "/api/v1/me/password",
                       R"({"new_password":"melon-2026","code":")" + code + R"("})", bearer(token));
  REQUIRE(set.status == 200);
  CHECK(server.login(kNewPhone, "melon-2026").size() == 64);
}

STORE_TEST("changing the password ends the account's other sessions", "[http][accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string here = server.login(kSeedConsumer);
  const std::string elsewhere = server.login(kSeedConsumer);
  auto wrong = c.request("PUT", "/api/v1/me/password",
                         R"({"current_password":"not-it-at-all","new_password":"melon-2026"})",
                         bearer(here));
  CHECK(wrong.status == 403);
  CHECK(error_code(wrong) == "wrong_password");
  auto changed =
      c.request("PUT", "/api/v1/me/password",
                R"({"current_password":"cunhuo-demo","new_password":"melon-2026"})", bearer(here));
  REQUIRE(changed.status == 200);
  CHECK(changed.body == R"({"changed":true,"sessions_ended":1})");
  CHECK(c.request("GET", "/api/v1/me", "", bearer(here)).status == 200);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(elsewhere)).status == 401);
  auto old = post_json(c, "/api/v1/sessions",
                       R"({"phone":")" + kSeedConsumer + R"(","password":"cunhuo-demo"})");
  CHECK(old.status == 401);
  CHECK(server.login(kSeedConsumer, "melon-2026").size() == 64);
}

STORE_TEST("an account lists its sessions without tokens and ends one of them",
           "[http][accounts][sessions]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string first = server.login(kSeedConsumer);
  const std::string second = server.login(kSeedConsumer);
  std::string current;
  const auto ids = session_ids(c, second, &current);
  REQUIRE(ids.size() == 2);
  auto listed = c.request("GET", "/api/v1/sessions", "", bearer(second));
  CHECK(listed.body.find(first) == std::string::npos);
  CHECK(listed.body.find(second) == std::string::npos);
  const std::string other = ids[0] == current ? ids[1] : ids[0];
  auto ended = c.request("DELETE", "/api/v1/sessions/" + other, "", bearer(second));
  CHECK(ended.status == 200);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(first)).status == 401);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(second)).status == 200);
  CHECK(session_ids(c, second).size() == 1);
}

STORE_TEST("another account's session is not found", "[http][accounts][sessions]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string mine = server.login(kSeedConsumer);
  const std::string theirs = server.login("13900000004");
  const auto their_ids = session_ids(c, theirs);
  REQUIRE(their_ids.size() == 1);
  auto reply = c.request("DELETE", "/api/v1/sessions/" + their_ids[0], "", bearer(mine));
  CHECK(reply.status == 404);
  CHECK(error_code(reply) == "session_not_found");
  CHECK(c.request("GET", "/api/v1/me", "", bearer(theirs)).status == 200);
}

STORE_TEST("an account ends all its sessions, or all but the current one",
           "[http][accounts][sessions]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string a = server.login(kSeedConsumer);
  const std::string b = server.login(kSeedConsumer);
  const std::string keep = server.login(kSeedConsumer);
  auto but_current = c.request("DELETE", "/api/v1/sessions?keep_current=true", "", bearer(keep));
  CHECK(but_current.status == 200);
  CHECK(but_current.body == R"({"ended_count":2})");
  CHECK(c.request("GET", "/api/v1/me", "", bearer(a)).status == 401);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(b)).status == 401);
  CHECK(c.request("GET", "/api/v1/me", "", bearer(keep)).status == 200);
  auto all = c.request("DELETE", "/api/v1/sessions", "", bearer(keep));
  CHECK(all.body == R"({"ended_count":1})");
  CHECK(c.request("GET", "/api/v1/me", "", bearer(keep)).status == 401);
}

STORE_TEST("where no text is sent, asking for a code is a 503 sms_unavailable and queues nothing",
           "[http][accounts][sms-off]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) { c.sms = "off"; });
  HttpClient c(server.port());
  // Alike for a new phone and one with an account: the answer tells nothing of either.
  for (const auto& [phone, purpose] :
       {std::pair{kNewPhone, "sign_up"}, std::pair{kSeedConsumer, "log_in"}}) {
    INFO(phone);
    const auto refused = ask_code(c, phone, purpose);
    CHECK(refused.status == 503);
    CHECK(error_code(refused) == "sms_unavailable");
  }
  CHECK(ask_code(c, "1370000", "sign_up").status == 400);  // bad input is still named first
  CHECK(c.request("GET", "/sim/sms?phone=" + kNewPhone).status == 404);
  CHECK(server.app().sms() == nullptr);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == 0);
}

namespace {

// A service on `store` that loads nothing and runs no payment sandbox: what start-up checks.
Config start_up_config(const TestStore& store) {
  Config config;
  config.db_url = store.url();
  config.seed = "none";
  config.data_dir = temp_dir();
  config.payment_simulator = false;
  return config;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the text message sandbox refuses to start when reached from outside, unless --demo",
          "[http][accounts][sms-sandbox]") {
  TestStore store(StoreKind::sqlite);
  struct Case {
    const char* front;
    std::string listen;
    std::vector<std::string> trusted_proxies;
    bool secure_cookies;
    std::string named;  // the exposure the message names: the first in this order
  };
  const std::vector<Case> cases = {
      {"beyond loopback, behind a proxy, over TLS",
       "0.0.0.0",
       {"127.0.0.1"},
       true,
       "beyond loopback"},
      {"beyond loopback", "0.0.0.0", {}, false, "beyond loopback"},
      {"behind a trusted proxy, over TLS", "127.0.0.1", {"127.0.0.1/32"}, true, "trusted-proxy"},
      {"behind a trusted proxy", "127.0.0.1", {"127.0.0.1/32"}, false, "trusted-proxy"},
      {"over TLS", "127.0.0.1", {}, true, "secure-cookies"},
  };
  SystemClock clock;
  for (const auto& c : cases) {
    INFO(c.front);
    Config config = start_up_config(store);
    config.listen_host = c.listen;
    config.trusted_proxies = c.trusted_proxies;
    config.secure_cookies = c.secure_cookies;
    config.sms = "sandbox";
    auto refused = storefront::App::open(config, clock);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "sandbox_exposed");
    CHECK(refused.error().field == "sms");
    CHECK(has(refused.error().message, c.named));
    CHECK(has(refused.error().message, "--demo"));
    CHECK(has(refused.error().message, "--sms gateway"));
    config.demo = true;  // a demonstration may show it
    CHECK(storefront::App::open(config, clock).ok());
    config.demo = false;
    config.sms = "off";  // a deployment sends none, or through the gateway
    CHECK(storefront::App::open(config, clock).ok());
  }
}

TEST_CASE("unless told, the text message sandbox runs only for a demonstration or a sample store",
          "[http][accounts][sms-sandbox]") {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    std::string mode;
  };
  const std::vector<Case> cases = {
      {"a deployment that says nothing", {"--seed", "none"}, "off"},
      {"its own seed", {"--seed", "county"}, "off"},
      {"said off, on the fixture", {"--seed", "fixture", "--sms", "off"}, "off"},
      {"said gateway", {"--seed", "none", "--sms", "gateway"}, "gateway"},
      {"said sandbox", {"--seed", "none", "--sms", "sandbox"}, "sandbox"},
      {"a demonstration", {"--seed", "none", "--demo"}, "sandbox"},
      {"the tests' fixture", {"--seed", "fixture"}, "sandbox"},
      {"the demo county", {"--seed", "minqin"}, "sandbox"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto config = load_config(c.args, {});
    REQUIRE(config.ok());
    CHECK(storefront::sms_mode(*config) == c.mode);
  }
}

TEST_CASE("a production start behind nginx, saying nothing of text messages, starts without them",
          "[http][accounts][sms-sandbox]") {
  TestStore store(StoreKind::sqlite);
  // The README's deployment: loopback behind a trusted proxy, over TLS, its own store.
  auto config =
      load_config({"--seed", "none", "--trusted-proxy", "127.0.0.1/32", "--secure-cookies"}, {});
  REQUIRE(config.ok());
  config->listen_port = 0;
  config->db_url = store.url();
  config->data_dir = temp_dir();
  SystemClock clock;
  auto app = storefront::App::open(*config, clock);
  REQUIRE(app.ok());
  CHECK((*app)->sms() == nullptr);
  CHECK((*app)->sms_sandbox() == nullptr);
  CHECK((*app)->payment_sandbox() == nullptr);
}

TEST_CASE("the service will not start with an SMS gateway it cannot reach securely",
          "[http][accounts][sms-gateway]") {
  TestStore store(StoreKind::sqlite);
  Config config = start_up_config(store);
  config.sms = "gateway";
  struct Case {
    std::string url, ca_file, code, field;
  };
  // In order of precedence: the URL is read before the CA file.
  const std::vector<Case> cases = {
      {"http://dysmsapi.aliyuncs.com/", "/no/such/ca.pem", "insecure_gateway_url",
       "sms-gateway-url"},
      {"https://dysmsapi.aliyuncs.com/", "/no/such/ca.pem", "tls_failed", "sms-gateway-ca"},
  };
  SystemClock clock;
  for (const auto& c : cases) {
    INFO(c.url << " " << c.ca_file);
    config.sms_gateway_url = c.url;
    config.sms_gateway_ca = c.ca_file;
    auto refused = storefront::App::open(config, clock);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == c.code);
    CHECK(refused.error().field == c.field);
  }
}

STORE_TEST("logging in by code counts against the address's login attempts",
           "[http][accounts][limits]") {
  TestServer server(store_kind, kTestSeed, [](Config& c) { c.login_attempts_per_address = 2; });
  HttpClient c(server.port());
  CHECK(code_login(c, kSeedConsumer, "000000").status == 401);
  CHECK(code_login(c, kSeedConsumer, "111111").status == 401);
  auto refused = code_login(c, kSeedConsumer, "222222");
  CHECK(refused.status == 429);
  CHECK(refused.header("retry-after").has_value());
}

STORE_TEST("a login gives a password or a code, not both and not neither",
           "[http][accounts][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto both =
      post_json(c, "/api/v1/sessions",
                R"({"phone":")" + kSeedConsumer + R"(","password":"cunhuo-demo","code":"1"})");
  CHECK(both.status == 400);
  CHECK(error_field(both) == "code");
  auto neither = post_json(c, "/api/v1/sessions", R"({"phone":")" + kSeedConsumer + R"("})");
  CHECK(neither.status == 400);
  CHECK(error_field(neither) == "password");
}
