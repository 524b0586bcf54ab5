// The shop's home page, the language switch and logging out, over HTTP: what a browser
// gets, with its cookies and form tokens.
#include <catch2/catch.hpp>

#include <regex>

#include "storefront/web/assets.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kAdmin = "13900000008";
const std::string kConsumer = "13900000003";

// The Set-Cookie values of a reply.
std::vector<std::string> set_cookies(const HttpReply& reply) {
  std::vector<std::string> out;
  for (const auto& [name, value] : reply.headers)
    if (name == "set-cookie") out.push_back(value);
  return out;
}

// "name=value" of the cookie `name` a reply sets, for the next request's Cookie header.
std::string cookie_set(const HttpReply& reply, const std::string& name) {
  for (const auto& c : set_cookies(reply))
    if (c.starts_with(name + "=")) return c.substr(0, c.find(';'));
  return "";
}

// The form token the page carries.
std::string form_token(const HttpReply& page) {
  static const std::regex kToken(R"re(name="csrf" value="([^"]+)")re");
  std::smatch m;
  REQUIRE(std::regex_search(page.body, m, kToken));
  return m[1].str();
}

HttpReply post_form(HttpClient& c, const std::string& path, const std::string& body,
                    const std::string& cookies) {
  return c.request("POST", path, body,
                   {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookies}});
}

void open_campaign(TestServer& server, const std::string& name) {
  HttpClient c(server.port());
  auto created = post_json(c, "/api/v1/campaigns",
                           R"({"name":")" + name +
                               R"(","kind":"consumption","starts_at_ms":0,)"
                               R"("ends_at_ms":4102444800000,"villages":["620621104201"],)"
                               R"("county_code":"620621"})",
                           bearer(server.login(kAdmin)));
  REQUIRE(created.status == 201);
}

}  // namespace

STORE_TEST("the home page shows the campaigns now running, in Chinese", "[pages][home]") {
  TestServer server(store_kind);
  open_campaign(server, "民勤蜜瓜节");
  HttpClient c(server.port());
  auto home = c.request("GET", "/");
  REQUIRE(home.status == 200);
  CHECK(home.header("content-type") == std::optional<std::string>("text/html; charset=utf-8"));
  CHECK(has(home.body, "<html lang=\"zh-CN\">"));
  CHECK(has(home.body, "民勤蜜瓜节"));
  CHECK(has(home.body, "消费帮扶"));
  CHECK(has(home.body, "action=\"/search\""));
  CHECK(has(home.body, storefront::web::Assets::builtin().url("site.css")));
}

TEST_CASE("a hashed stylesheet is kept a year, its plain name an hour", "[pages][assets]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto hashed = c.request("GET", storefront::web::Assets::builtin().url("site.css"));
  REQUIRE(hashed.status == 200);
  CHECK(hashed.header("cache-control") ==
        std::optional<std::string>("public, max-age=31536000, immutable"));
  auto plain = c.request("GET", "/assets/site.css");
  REQUIRE(plain.status == 200);
  CHECK(plain.header("cache-control") == std::optional<std::string>("public, max-age=3600"));
  CHECK(c.request("GET", "/assets/nothing.css").status == 404);
}

TEST_CASE("the language switch makes the next page English, and returns to the page",
          "[pages][lang]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto home = c.request("GET", "/");
  const std::string visitor = cookie_set(home, "cunhuo_visitor");
  REQUIRE_FALSE(visitor.empty());
  auto switched = post_form(c, "/lang", "csrf=" + form_token(home) + "&next=%2F", visitor);
  REQUIRE(switched.status == 303);
  CHECK(switched.header("location") == std::optional<std::string>("/"));
  const std::string lang = cookie_set(switched, "cunhuo_lang");
  CHECK(lang == "cunhuo_lang=en");
  auto english = c.request("GET", "/", "", {{"Cookie", visitor + "; " + lang}});
  CHECK(has(english.body, "<html lang=\"en\">"));
  CHECK(has(english.body, "Campaigns now running"));
}

TEST_CASE("a form without this visitor's token is refused in Chinese and changes nothing",
          "[pages][csrf]") {
  TestServer server(StoreKind::sqlite);
  const std::string token = server.login(kConsumer);
  const std::string session = "cunhuo_session=" + token;
  HttpClient c(server.port());
  auto other_visitor = c.request("GET", "/");  // a token sealed for someone else
  struct Case {
    std::string what, body;
  };
  const std::vector<Case> refusals = {
      {"no token", ""},
      {"an empty token", "csrf="},
      {"another visitor's token", "csrf=" + form_token(other_visitor)},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = post_form(c, "/logout", r.body, session);
    CHECK(refused.status == 403);
    CHECK(has(refused.body, "页面已过期"));
    CHECK(c.request("GET", "/api/v1/me", "", bearer(token)).status == 200);  // still signed in
  }
}

TEST_CASE("logging out on a page ends the session its cookie carries", "[pages][session]") {
  TestServer server(StoreKind::sqlite);
  const std::string token = server.login(kConsumer);
  const std::string session = "cunhuo_session=" + token;
  HttpClient c(server.port());
  auto home = c.request("GET", "/", "", {{"Cookie", session}});
  REQUIRE(home.status == 200);
  CHECK(home.header("cache-control") == std::optional<std::string>("no-store"));
  auto out = post_form(c, "/logout", "csrf=" + form_token(home), session);
  REQUIRE(out.status == 303);
  CHECK(cookie_set(out, "cunhuo_session") == "cunhuo_session=");
  CHECK(c.request("GET", "/api/v1/me", "", bearer(token)).status == 401);
}

TEST_CASE("a cookie of a session that has ended is cleared, and the page still shows",
          "[pages][session]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto home = c.request("GET", "/", "", {{"Cookie", "cunhuo_session=" + std::string(64, 'a')}});
  REQUIRE(home.status == 200);
  CHECK(cookie_set(home, "cunhuo_session") == "cunhuo_session=");
  CHECK(has(home.body, "href=\"/login?next=/\""));
}
