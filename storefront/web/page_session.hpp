// How the pages know a browser. A signed-in browser carries its session in a cookie (the
// same sessions as the API's bearer tokens), HttpOnly so no script reads it, SameSite=Lax
// so another site's form does not carry it, Secure behind TLS. A browser that has not
// signed in carries a random visitor id. Every form that changes something carries a form
// token (CSRF) sealed over the session, or the visitor: a form another site forged has no
// valid token, and a token copied from one session is no use in another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "storefront/http.hpp"
#include "storefront/secret_file.hpp"

namespace cunhuo::storefront::web {

inline constexpr std::string_view kSessionCookie = "cunhuo_session";
inline constexpr std::string_view kVisitorCookie = "cunhuo_visitor";
inline constexpr std::string_view kLangCookie = "cunhuo_lang";
inline constexpr std::string_view kCsrfField = "csrf";
inline constexpr std::int64_t kVisitorCookieMaxAgeS = 30LL * 24 * 3600;
inline constexpr std::int64_t kLangCookieMaxAgeS = 365LL * 24 * 3600;
inline constexpr std::size_t kVisitorIdChars = 32;
inline constexpr std::size_t kMaxCookieHeader = 4096;  // longer: read as no cookies

// The value of cookie `name` in the request, if sent (the first, when sent twice).
std::optional<std::string> cookie(const Request& request, std::string_view name);

struct CookieSpec {
  std::string_view name, value;
  std::int64_t max_age_s = 0;  // 0: a cookie that ends with the browser
  bool http_only = true;
  bool secure = false;  // behind TLS
};
// A Set-Cookie header value: Path=/, SameSite=Lax, and the spec's attributes.
std::string set_cookie(const CookieSpec& spec);
// A Set-Cookie header value that removes cookie `name`.
std::string clear_cookie(std::string_view name, bool secure);

std::string new_visitor_id();
bool is_visitor_id(std::string_view text);

// Seals and checks form tokens, with a key kept in the data directory so that every
// process serving one store accepts the others' forms.
class FormSeal {
 public:
  explicit FormSeal(const Secret& key) : key_(key) {}
  static FormSeal random();  // for tests: tokens then last as long as the process

  // The token of forms shown to `binding` ("s:" + session key or "v:" + visitor id).
  std::string token(std::string_view binding) const;
  // Whether `token` is the one of `binding`, compared in constant time.
  bool verify(std::string_view binding, std::string_view token) const;

 private:
  Secret key_;
};

// The fields of an application/x-www-form-urlencoded body, decoded; nullopt when malformed.
using FormFields = std::vector<std::pair<std::string, std::string>>;
std::optional<FormFields> parse_form(std::string_view body);
std::optional<std::string> form_field(const FormFields& fields, std::string_view name);
// `text` with every byte but letters, digits and "/-_.~" as %XX: for a query's value.
std::string percent_encode(std::string_view text);

}  // namespace cunhuo::storefront::web
