#include "storefront/client_address.hpp"

#include <algorithm>
#include <optional>

#include "core/text.hpp"

namespace cunhuo::storefront {
namespace {

// Every value of a header, in order, as one comma-separated list (a proxy may add a line
// of its own rather than append to the first).
std::optional<std::string> joined(const std::vector<std::pair<std::string, std::string>>& headers,
                                  std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [key, value] : headers)
    if (key == name) out = out ? *out + "," + value : value;
  return out;
}

// The list's addresses, left to right; nullopt when any entry is not an IP address.
std::optional<std::vector<IpAddress>> addresses(std::string_view list) {
  std::vector<IpAddress> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    auto item = list.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    const auto address = parse_ip(item);
    if (!address) return std::nullopt;
    out.push_back(*address);
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<ProxyTrust> ProxyTrust::parse(const std::vector<std::string>& ranges) {
  ProxyTrust trust;
  for (const auto& range : ranges) trust.ranges_.push_back(CUNHUO_TRY(parse_cidr(range)));
  return trust;
}

bool ProxyTrust::trusts(const IpAddress& address) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Cidr& range) { return contains(range, address); });
}

bool ProxyTrust::trusts(std::string_view address) const {
  const auto parsed = parse_ip(address);
  return parsed && trusts(*parsed);
}

std::string ProxyTrust::client_of(
    std::string_view peer, const std::vector<std::pair<std::string, std::string>>& headers) const {
  if (ranges_.empty() || !trusts(peer)) return std::string(peer);
  if (const auto forwarded = joined(headers, "x-forwarded-for")) {
    const auto chain = addresses(*forwarded);
    if (!chain) return std::string(peer);
    for (auto it = chain->rbegin(); it != chain->rend(); ++it)
      if (!trusts(*it)) return to_string(*it);
    return to_string(chain->front());
  }
  if (const auto real_ip = joined(headers, "x-real-ip")) {
    const auto chain = addresses(*real_ip);
    if (!chain || chain->size() != 1) return std::string(peer);
    return to_string(chain->front());
  }
  return std::string(peer);
}

}  // namespace cunhuo::storefront
