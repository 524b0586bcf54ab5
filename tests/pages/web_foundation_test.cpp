// The parts every page stands on: templates and their texts, hashed assets, cookies, form
// tokens, and where a login may send a visitor afterwards.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "storefront/web/assets.hpp"
#include "storefront/web/embedded.hpp"
#include "storefront/web/multipart.hpp"
#include "storefront/web/page_session.hpp"
#include "storefront/web/page_table.hpp"
#include "storefront/web/templates.hpp"

using namespace cunhuo;
using namespace cunhuo::storefront;
namespace web = cunhuo::storefront::web;

namespace {

std::set<std::string> texts_named_by_templates() {
  static const std::regex kTextRef(R"(\{\{\s*t\.([a-z0-9_]+)\s*\}\})");
  std::set<std::string> keys;
  for (std::size_t i = 0; i < web::kEmbeddedFileCount; ++i) {
    const std::string content(web::kEmbeddedFiles[i].content);
    for (std::sregex_iterator it(content.begin(), content.end(), kTextRef), end; it != end; ++it)
      keys.insert((*it)[1].str());
  }
  return keys;
}

Request with_cookie(std::string header) {
  Request r;
  r.headers.emplace_back("cookie", std::move(header));
  return r;
}

}  // namespace

TEST_CASE("every text a template names exists in Chinese and in English", "[web]") {
  const auto keys = texts_named_by_templates();
  REQUIRE(keys.size() > 10);
  for (const auto& key : keys) {
    INFO(key);
    CHECK(web::text(key, web::Lang::zh) != key);
    CHECK(web::text(key, web::Lang::en) != key);
  }
}

TEST_CASE("a page is its template inside the layout, with its values escaped", "[web]") {
  web::View view;
  view.set("message", std::string("<script>alert(1)</script>"));
  const std::string html = web::Templates::builtin().page(
      "refused", view, web::Chrome{.title = "T", .lang = web::Lang::zh, .csrf = "tok"});
  CHECK(html.find("<html lang=\"zh-CN\">") != std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find(web::Assets::builtin().url("site.css")) != std::string::npos);
}

TEST_CASE("an asset's URL carries a hash of its content and finds the asset", "[web]") {
  const std::string url = web::Assets::builtin().url("site.css");
  REQUIRE(url.starts_with("/assets/site."));
  REQUIRE(url.ends_with(".css"));
  const auto hashed = web::Assets::builtin().find(url.substr(web::kAssetPrefix.size()));
  REQUIRE(hashed);
  CHECK(hashed->hashed);
  CHECK(hashed->content_type == "text/css; charset=utf-8");
  const auto plain = web::Assets::builtin().find("site.css");
  REQUIRE(plain);
  CHECK_FALSE(plain->hashed);
  CHECK(plain->content == hashed->content);
  CHECK_FALSE(web::Assets::builtin().find("site.0000000000000000.css"));
  CHECK_FALSE(web::Assets::builtin().find("../CMakeLists.txt"));
}

TEST_CASE("a form token verifies for its own session or visitor only", "[web]") {
  const auto seal = web::FormSeal::random();
  const std::string token = seal.token("v:visitor-a");
  CHECK(seal.verify("v:visitor-a", token));
  CHECK_FALSE(seal.verify("v:visitor-b", token));
  CHECK_FALSE(seal.verify("s:visitor-a", token));
  CHECK_FALSE(seal.verify("v:visitor-a", token.substr(1)));
  CHECK_FALSE(seal.verify("v:visitor-a", ""));
  CHECK_FALSE(web::FormSeal::random().verify("v:visitor-a", token));  // another key
}

TEST_CASE("cookies are read by exact name from the Cookie header", "[web]") {
  const auto r = with_cookie("a=1; cunhuo_session=abc;  cunhuo_lang=en ;x=");
  CHECK(web::cookie(r, "cunhuo_session") == std::optional<std::string>("abc"));
  CHECK(web::cookie(r, "cunhuo_lang") == std::optional<std::string>("en"));
  CHECK(web::cookie(r, "x") == std::optional<std::string>(""));
  CHECK_FALSE(web::cookie(r, "session"));
  CHECK_FALSE(web::cookie(with_cookie(std::string(web::kMaxCookieHeader + 1, 'a')), "a"));
}

TEST_CASE("a session cookie is HttpOnly and SameSite=Lax, and Secure behind TLS", "[web]") {
  const std::string plain = web::set_cookie({.name = "n", .value = "v", .max_age_s = 60});
  CHECK(plain == "n=v; Path=/; SameSite=Lax; Max-Age=60; HttpOnly");
  const std::string tls = web::set_cookie({.name = "n", .value = "v", .secure = true});
  CHECK(tls == "n=v; Path=/; SameSite=Lax; HttpOnly; Secure");
  CHECK(web::clear_cookie("n", false).find("Max-Age=0") != std::string::npos);
}

TEST_CASE("after a login a visitor is sent only to a page of this site", "[web]") {
  struct Case {
    std::string next, sent_to;
  };
  const std::vector<Case> cases = {
      {"/farm", "/farm"},
      {"/p/12?from=home", "/p/12?from=home"},
      {"", "/"},
      {"//evil.example/x", "/"},
      {"/\\evil.example", "/"},
      {"https://evil.example/", "/"},
      {"javascript:alert(1)", "/"},
      {"/farm\r\nSet-Cookie: x=1", "/"},
  };
  for (const auto& c : cases) {
    INFO(c.next);
    CHECK(web::local_path(c.next) == c.sent_to);
  }
}

TEST_CASE("a form body is decoded field by field, and a malformed one is refused", "[web]") {
  const auto fields = web::parse_form("phone=139%2000&name=%E6%9D%91+%E8%B4%A7&empty=&flag");
  REQUIRE(fields);
  CHECK(web::form_field(*fields, "phone") == std::optional<std::string>("139 00"));
  CHECK(web::form_field(*fields, "name") == std::optional<std::string>("村 货"));
  CHECK(web::form_field(*fields, "empty") == std::optional<std::string>(""));
  CHECK(web::form_field(*fields, "flag") == std::optional<std::string>(""));
  CHECK_FALSE(web::parse_form("a=%zz"));
}

TEST_CASE("a multipart form is read into its fields and files", "[web]") {
  const std::string body =
      "--b1\r\nContent-Disposition: form-data; name=\"unit\"\r\n\r\n箱\r\n"
      "--b1\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n\xFF\xD8\r\n\r\nrest\r\n--b1--\r\n";
  const auto boundary = web::multipart_boundary("multipart/form-data; boundary=b1");
  REQUIRE(boundary.ok());
  const auto form = web::parse_multipart(body, *boundary);
  REQUIRE(form.ok());
  CHECK(web::form_field(form->fields, "unit") == std::optional<std::string>("箱"));
  REQUIRE(form->files.size() == 1);
  CHECK(form->files.front().field == "photo");
  CHECK(form->files.front().bytes == "\xFF\xD8\r\n\r\nrest");
}

TEST_CASE("a malformed multipart form is refused whole", "[web]") {
  for (const std::string body :
       {"", "--b1", "--b1\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b1--",
        "--b1\r\nno colon\r\n\r\nx\r\n--b1--",
        "--b1\r\nContent-Disposition: form-data; "
        "name=\"a\"\r\n\r\nnever ends"}) {
    INFO(body);
    CHECK_FALSE(web::parse_multipart(body, "b1").ok());
  }
}
