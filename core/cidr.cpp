#include "core/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace cunhuo {
namespace {

constexpr int kV4Bits = 32, kV6Bits = 128;
constexpr int kV4Offset = 96;  // an IPv4 address's bits start here in its mapped form

Error bad_cidr(std::string_view text, std::string_view why) {
  return make_error(ErrorKind::invalid, "bad_cidr",
                    "\"" + std::string(text) + "\" is not a CIDR range (" + std::string(why) +
                        "); write e.g. 10.0.0.0/8, 127.0.0.1 or 2001:db8::/32");
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  const std::string s(text);
  IpAddress out;
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &v4, 4);
    out.v4 = true;
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(out.bytes.data(), &v6, 16);
  return out;
}

std::string to_string(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.v4)
    ::inet_ntop(AF_INET, address.bytes.data() + 12, text, sizeof text);
  else
    ::inet_ntop(AF_INET6, address.bytes.data(), text, sizeof text);
  return text;
}

Result<Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parse_ip(text.substr(0, slash));
  if (!address) return bad_cidr(text, "not an IPv4 or IPv6 address");
  const int max_bits = address->v4 ? kV4Bits : kV6Bits;
  int prefix = max_bits;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > max_bits)
      return bad_cidr(text, "the prefix length is 0 to " + std::to_string(max_bits));
  }
  Cidr range{.base = *address, .prefix = prefix};
  const int bits = prefix + (address->v4 ? kV4Offset : 0);
  for (int i = bits; i < kV6Bits; ++i)
    range.base.bytes[static_cast<std::size_t>(i / 8)] &=
        static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
  return range;
}

bool contains(const Cidr& range, const IpAddress& address) {
  const int bits = range.prefix + (range.base.v4 ? kV4Offset : 0);
  for (int i = 0; i < bits; ++i) {
    const auto byte = static_cast<std::size_t>(i / 8);
    const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    if ((range.base.bytes[byte] & mask) != (address.bytes[byte] & mask)) return false;
  }
  return true;
}

}  // namespace cunhuo
