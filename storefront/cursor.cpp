#include "storefront/cursor.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdio>

#include "core/assert.hpp"
#include "storefront/secret_file.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::size_t kTagBytes = crypto_auth_hmacsha256_BYTES;

Error bad_cursor(std::string message) {
  return make_error(ErrorKind::invalid, std::string(kInvalidCursor), std::move(message), "cursor");
}

// The MAC covers the list and the position, separated so that no two differ only in where
// one ends: "orders:7" with "1,2" is not "orders:71" with ",2".
std::array<unsigned char, kTagBytes> tag(const std::array<unsigned char, 32>& key,
                                         std::string_view list, std::string_view position) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  const std::string framed = std::to_string(list.size()) + ":" + std::string(list) + "|";
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(framed.data()),
                                framed.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(position.data()),
                                position.size());
  std::array<unsigned char, kTagBytes> out{};
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

std::string encode_position(const std::vector<std::int64_t>& position) {
  std::string out;
  for (std::size_t i = 0; i < position.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(position[i]);
  }
  return out;
}

Result<std::vector<std::int64_t>> decode_position(std::string_view text, std::size_t keys) {
  std::vector<std::int64_t> out;
  while (out.size() <= kMaxCursorKeys) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || part.empty())
      return bad_cursor("the cursor is not one this server gave");
    out.push_back(value);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.size() != keys) return bad_cursor("the cursor is not one this server gave");
  return out;
}

std::string to_base64url(const unsigned char* data, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(n);
  return out;
}

Result<std::int64_t> read_limit(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > kMaxPageSize)
    return make_error(ErrorKind::invalid, "invalid_limit",
                      "limit must be a whole number from 1 to " + std::to_string(kMaxPageSize),
                      "limit");
  return value;
}

}  // namespace

CursorSeal CursorSeal::random() { return CursorSeal(random_secret()); }

Result<CursorSeal> CursorSeal::load_or_create(const std::string& path) {
  return CursorSeal(CUNHUO_TRY(load_or_create_secret(path)));
}

std::string CursorSeal::seal(std::string_view list,
                             const std::vector<std::int64_t>& position) const {
  CUNHUO_ASSERT(!position.empty() && position.size() <= kMaxCursorKeys);
  const std::string text = encode_position(position);
  const auto mac = tag(key_, list, text);
  std::string raw(reinterpret_cast<const char*>(mac.data()), mac.size());
  raw += text;
  return to_base64url(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

Result<std::vector<std::int64_t>> CursorSeal::open(std::string_view list, std::string_view cursor,
                                                   std::size_t keys) const {
  CUNHUO_ASSERT(keys >= 1 && keys <= kMaxCursorKeys);
  if (cursor.size() > kMaxCursorChars) return bad_cursor("the cursor is too long");
  auto raw = from_base64url(cursor);
  if (!raw || raw->size() <= kTagBytes) return bad_cursor("the cursor is not one this server gave");
  const std::string_view text = std::string_view(*raw).substr(kTagBytes);
  const auto expected = tag(key_, list, text);
  if (sodium_memcmp(expected.data(), raw->data(), kTagBytes) != 0)
    return bad_cursor("the cursor was changed, or belongs to another list");
  return decode_position(text, keys);
}

Result<PageRequest> read_page(std::optional<std::string> limit, std::optional<std::string> cursor,
                              const CursorSeal& seal, std::string_view list, std::size_t keys) {
  PageRequest page;
  if (limit) page.limit = CUNHUO_TRY(read_limit(*limit));
  if (cursor) page.after = CUNHUO_TRY(seal.open(list, *cursor, keys));
  return page;
}

}  // namespace cunhuo::storefront
