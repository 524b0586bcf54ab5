// IP addresses and CIDR ranges (IPv4 and IPv6), for deciding whom to trust by address:
// e.g. the reverse proxies whose forwarded-for headers name the client.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo {

// An address as 16 bytes; an IPv4 address is held as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d), so "10.0.0.1" and "::ffff:10.0.0.1" are the same peer.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;  // written as IPv4 (prefixes then count from its 32 bits)
};

// "192.0.2.7", "2001:db8::1", "::ffff:192.0.2.7"; nullopt for anything else (no port,
// no brackets, no zone).
std::optional<IpAddress> parse_ip(std::string_view text);

// Its canonical text: "192.0.2.7" for one written as IPv4, RFC 5952 form otherwise.
std::string to_string(const IpAddress& address);

struct Cidr {
  IpAddress base;  // the range's first address (host bits cleared)
  int prefix = 0;  // in bits of the form written: 0..32 for IPv4, 0..128 for IPv6
};

// "10.0.0.0/8", "2001:db8::/32", or a lone address (a /32 or /128). A bad one is an
// `invalid` error "bad_cidr" whose message quotes it.
Result<Cidr> parse_cidr(std::string_view text);

bool contains(const Cidr& range, const IpAddress& address);

}  // namespace cunhuo
