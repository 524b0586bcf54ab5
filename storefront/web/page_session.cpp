#include "storefront/web/page_session.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "core/assert.hpp"

namespace cunhuo::storefront::web {
namespace {

constexpr std::string_view kTokenContext = "cunhuo form token v1:";

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string to_base64url(const unsigned char* bytes, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

}  // namespace

std::optional<std::string> cookie(const Request& request, std::string_view name) {
  auto header = request.header("cookie");
  if (!header || header->size() > kMaxCookieHeader) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto end = std::min(rest.find(';'), rest.size());
    const std::string_view pair = trim(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string set_cookie(const CookieSpec& c) {
  // Names and values are ours (hex, base64url, language tags): nothing to quote.
  CUNHUO_ASSERT(c.value.find_first_of(";, \"\\") == std::string_view::npos);
  std::string h = std::string(c.name) + "=" + std::string(c.value) + "; Path=/; SameSite=Lax";
  if (c.max_age_s > 0) h += "; Max-Age=" + std::to_string(c.max_age_s);
  if (c.http_only) h += "; HttpOnly";
  if (c.secure) h += "; Secure";
  return h;
}

std::string clear_cookie(std::string_view name, bool secure) {
  std::string h = std::string(name) + "=; Path=/; SameSite=Lax; Max-Age=0; HttpOnly";
  if (secure) h += "; Secure";
  return h;
}

std::string new_visitor_id() {
  CUNHUO_ASSERT(sodium_init() >= 0);
  unsigned char bytes[kVisitorIdChars / 2];
  randombytes_buf(bytes, sizeof bytes);
  char hex[kVisitorIdChars + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool is_visitor_id(std::string_view text) {
  return text.size() == kVisitorIdChars && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

FormSeal FormSeal::random() { return FormSeal(random_secret()); }

std::string FormSeal::token(std::string_view binding) const {
  const std::string message = std::string(kTokenContext) + std::string(binding);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), key_.data());
  return to_base64url(mac, sizeof mac);
}

bool FormSeal::verify(std::string_view binding, std::string_view given) const {
  const std::string expected = token(binding);
  return given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::optional<FormFields> parse_form(std::string_view body) {
  FormFields fields;
  while (!body.empty()) {
    const auto end = std::min(body.find('&'), body.size());
    const std::string_view pair = body.substr(0, end);
    body.remove_prefix(std::min(end + 1, body.size()));
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> form_field(const FormFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return std::nullopt;
}

}  // namespace cunhuo::storefront::web
