// Who the client is behind a reverse proxy. Only when the TCP peer lies inside a trusted
// proxy range (--trusted-proxy) do X-Forwarded-For and X-Real-IP name the client; anyone
// else could write them, so for other peers they are ignored. The resolved address is the
// request's client_address: the per-address limits and the loopback checks all use it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/cidr.hpp"
#include "core/result.hpp"

namespace cunhuo::storefront {

class ProxyTrust {
 public:
  ProxyTrust() = default;  // trusts no one: the peer is always the client
  // The ranges as --trusted-proxy gives them; a bad one is an `invalid` "bad_cidr" error.
  static Result<ProxyTrust> parse(const std::vector<std::string>& ranges);

  bool trusts(std::string_view address) const;

  // The client of a request from `peer` with these headers (names lower-case):
  // - a peer not trusted: the peer;
  // - X-Forwarded-For: read from the right, the first address not itself trusted (as
  //   nginx's real_ip_recursive does); when all are trusted, the left-most;
  // - else X-Real-IP;
  // - a header that is not a list of IP addresses, or neither header: the peer.
  // An address taken from a header is written in its canonical form, so that one client
  // cannot become many by spelling its address differently.
  std::string client_of(std::string_view peer,
                        const std::vector<std::pair<std::string, std::string>>& headers) const;

 private:
  bool trusts(const IpAddress& address) const;
  std::vector<Cidr> ranges_;
};

}  // namespace cunhuo::storefront
