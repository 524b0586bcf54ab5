#include "tests/pages/page_support.hpp"

#include <catch2/catch.hpp>

#include <gd.h>

#include <regex>

#include "core/json.hpp"
#include "messaging/phone_codes.hpp"
#include "storefront/web/page_session.hpp"
#include "tests/support/flows.hpp"

namespace cunhuo::test {

namespace web = storefront::web;

HttpReply Browser::get(const std::string& path) {
  auto reply = client_.request("GET", path, "", {{"Cookie", cookie_header()}});
  keep_cookies(reply);
  static const std::regex kToken(R"re(name="csrf" value="([^"]+)")re");
  std::smatch m;
  if (std::regex_search(reply.body, m, kToken)) csrf_ = m[1].str();
  // A real browser posts the token of the form it submits: every form must carry it.
  static const std::regex kAnyToken(R"re(name="csrf" value="([^"]*)")re");
  for (std::sregex_iterator it(reply.body.begin(), reply.body.end(), kAnyToken), end; it != end;
       ++it)
    CHECK((*it)[1].str() == csrf_);
  return reply;
}

HttpReply Browser::post(const std::string& path, const FormFields& fields, bool forged_token) {
  std::string body = "csrf=" + web::percent_encode(forged_token ? "forged" : csrf_);
  for (const auto& [name, value] : fields)
    body += "&" + web::percent_encode(name) + "=" + web::percent_encode(value);
  auto reply = client_.request(
      "POST", path, body,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookie_header()}});
  keep_cookies(reply);
  return reply;
}

HttpReply Browser::post_multipart(const std::string& path, const FormFields& fields,
                                  const std::string& file_field, const std::string& bytes,
                                  bool forged_token) {
  const std::string boundary = "----cunhuo-test-7d1f";
  std::string body;
  const auto part = [&](const std::string& name, const std::string& value) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
            value + "\r\n";
  };
  part("csrf", forged_token ? "forged" : csrf_);
  for (const auto& [name, value] : fields) part(name, value);
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field +
          "\"; filename=\"" + (bytes.empty() ? "" : "photo.jpg") +
          "\"\r\nContent-Type: " + (bytes.empty() ? "application/octet-stream" : "image/jpeg") +
          "\r\n\r\n" + bytes + "\r\n--" + boundary + "--\r\n";
  auto reply = client_.request(
      "POST", path, body,
      {{"Content-Type", "multipart/form-data; boundary=" + boundary}, {"Cookie", cookie_header()}});
  keep_cookies(reply);
  return reply;
}

std::string Browser::session_token() const {
  auto it = cookies_.find(std::string(web::kSessionCookie));
  return it == cookies_.end() ? "" : it->second;
}

void Browser::sign_in(const std::string& token) {
  cookies_[std::string(web::kSessionCookie)] = token;
}

void Browser::keep_cookies(const HttpReply& reply) {
  for (const auto& [name, value] : reply.headers) {
    if (name != "set-cookie") continue;
    const auto eq = value.find('=');
    const auto end = value.find(';');
    const std::string key = value.substr(0, eq), content = value.substr(eq + 1, end - eq - 1);
    if (content.empty())
      cookies_.erase(key);
    else
      cookies_[key] = content;
  }
}

std::string Browser::cookie_header() const {
  std::string h;
  for (const auto& [k, v] : cookies_) h += (h.empty() ? "" : "; ") + k + "=" + v;
  return h;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string camera_jpeg(int width, int height) {
  gdImagePtr image = gdImageCreateTrueColor(width, height);
  REQUIRE(image != nullptr);
  for (int y = 0; y < height; y += 8)
    for (int x = 0; x < width; x += 8)
      gdImageFilledRectangle(image, x, y, x + 7, y + 7,
                             gdTrueColor((x * 255) / width, (y * 255) / height, (x + y) % 256));
  int size = 0;
  void* bytes = gdImageJpegPtr(image, &size, 85);
  std::string out(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
  gdFree(bytes);
  gdImageDestroy(image);
  return out;
}

std::string first_match(const std::string& body, const std::string& pattern) {
  std::smatch m;
  const std::regex re(pattern);
  REQUIRE(std::regex_search(body, m, re));
  return m[1].str();
}

std::string form_key(const std::string& body) {
  return first_match(body, R"re(name="key" value="([0-9a-f]+)")re");
}

std::int64_t listed(TestServer& server, HttpClient& c, const std::string& seller,
                    const std::string& listing) {
  auto r = post_json(c, "/api/v1/products", listing, bearer(server.login(seller)));
  INFO(r.body);
  REQUIRE(r.status == 201);
  return json_int(r.body, "id");
}

std::int64_t listed(TestServer& server, HttpClient& c, const std::string& seller) {
  return listed(server, c, seller, kMelon);
}

void check_refusals(TestServer& server, const std::vector<PageRefusal>& refusals) {
  for (const auto& r : refusals) {
    INFO(r.who + " " + r.method + " " + r.path);
    Browser visitor(server);
    if (!r.token.empty()) visitor.sign_in(r.token);
    visitor.get("/");
    auto reply = r.method == "GET" ? visitor.get(r.path) : visitor.post(r.path, {});
    CHECK(reply.status == r.status);
    if (!r.location.empty())
      CHECK(reply.header("location") == std::optional<std::string>(r.location));
  }
}

}  // namespace cunhuo::test
