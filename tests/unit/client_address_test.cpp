// Who the client is behind a trusted reverse proxy (storefront/client_address.hpp), and the
// CIDR ranges that say whom to trust (core/cidr.hpp).
#include "storefront/client_address.hpp"

#include <catch2/catch.hpp>

using namespace cunhuo;
using namespace cunhuo::storefront;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

ProxyTrust trusting(const std::vector<std::string>& ranges) {
  auto trust = ProxyTrust::parse(ranges);
  REQUIRE(trust.ok());
  return *trust;
}

}  // namespace

TEST_CASE("the client address is the peer unless a trusted proxy names another",
          "[client-address]") {
  const ProxyTrust proxies = trusting({"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"});
  struct Case {
    const char* rule;
    std::string peer;
    Headers headers;
    std::string client;
  };
  const std::vector<Case> cases = {
      {"an untrusted peer's spoofed header is ignored",
       "203.0.113.5",
       {{"x-forwarded-for", "127.0.0.1"}},
       "203.0.113.5"},
      {"an untrusted peer's spoofed X-Real-IP is ignored",
       "203.0.113.5",
       {{"x-real-ip", "10.1.1.1"}},
       "203.0.113.5"},
      {"a trusted peer without a header is the client", "127.0.0.1", {}, "127.0.0.1"},
      {"a trusted peer: the header's right-most untrusted address",
       "127.0.0.1",
       {{"x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7"}},
       "203.0.113.9"},
      {"a client's own spoofed entry left of the real one changes nothing",
       "127.0.0.1",
       {{"x-forwarded-for", "127.0.0.1, 203.0.113.9"}},
       "203.0.113.9"},
      {"all trusted: the left-most",
       "127.0.0.1",
       {{"x-forwarded-for", "10.0.0.8, 10.0.0.7"}},
       "10.0.0.8"},
      {"header lines of their own are read as one list",
       "10.2.3.4",
       {{"x-forwarded-for", "198.51.100.1"}, {"x-forwarded-for", "203.0.113.9"}},
       "203.0.113.9"},
      {"X-Real-IP when there is no X-Forwarded-For",
       "127.0.0.1",
       {{"x-real-ip", "203.0.113.9"}},
       "203.0.113.9"},
      {"a malformed X-Forwarded-For: the peer",
       "127.0.0.1",
       {{"x-forwarded-for", "203.0.113.9, unknown"}},
       "127.0.0.1"},
      {"an empty entry is malformed: the peer",
       "127.0.0.1",
       {{"x-forwarded-for", "203.0.113.9,"}},
       "127.0.0.1"},
      {"an address with a port is malformed: the peer",
       "127.0.0.1",
       {{"x-forwarded-for", "203.0.113.9:4711"}},
       "127.0.0.1"},
      {"a malformed X-Real-IP: the peer",
       "127.0.0.1",
       {{"x-real-ip", "203.0.113.9, 1.2.3.4"}},
       "127.0.0.1"},
      {"an IPv6 proxy and client, written canonically",
       "2001:db8::1",
       {{"x-forwarded-for", "2001:DB9:0:0::5"}},
       "2001:db9::5"},
      {"an IPv4-mapped peer is its IPv4 address",
       "::ffff:127.0.0.1",
       {{"x-forwarded-for", "203.0.113.9"}},
       "203.0.113.9"},
  };
  for (const auto& c : cases) {
    INFO(c.rule);
    CHECK(proxies.client_of(c.peer, c.headers) == c.client);
  }
}

TEST_CASE("without trusted proxies the headers are always ignored", "[client-address]") {
  const ProxyTrust none;
  CHECK(none.client_of("127.0.0.1", {{"x-forwarded-for", "203.0.113.9"}}) == "127.0.0.1");
  CHECK(none.client_of("127.0.0.1", {{"x-real-ip", "203.0.113.9"}}) == "127.0.0.1");
}

TEST_CASE("CIDR ranges contain the addresses of their prefix, IPv4 and IPv6", "[cidr]") {
  struct Case {
    const char* range;
    const char* address;
    bool inside;
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8", "10.255.1.2", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"10.1.2.3/8", "10.9.9.9", true},  // host bits of the base are cleared
      {"192.168.1.0/25", "192.168.1.127", true},
      {"192.168.1.0/25", "192.168.1.128", false},
      {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},  // an IPv4 range holds no IPv6 address
      {"127.0.0.0/8", "::ffff:127.0.0.9", true},
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"::1", "::1", true},
      {"::/0", "10.0.0.1", true},  // every address, IPv4 ones in their mapped form too
  };
  for (const auto& c : cases) {
    INFO(c.range << " " << c.address);
    auto range = parse_cidr(c.range);
    REQUIRE(range.ok());
    auto address = parse_ip(c.address);
    REQUIRE(address.has_value());
    CHECK(contains(*range, *address) == c.inside);
  }
}

TEST_CASE("a bad CIDR range is refused with a message quoting it", "[cidr]") {
  for (const char* bad : {"", "nginx", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1",
                          "2001:db8::/129", "256.0.0.1", "10.0.0.1:80", "[::1]", "fe80::1%eth0"}) {
    INFO(bad);
    auto range = parse_cidr(bad);
    REQUIRE_FALSE(range.ok());
    CHECK(range.error().code == "bad_cidr");
    CHECK(range.error().message.find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}
