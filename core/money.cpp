#include "core/money.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

namespace cunhuo {
namespace {

Error overflow() {
  return make_error(ErrorKind::invalid, "amount_overflow", "amount is out of range");
}

}  // namespace

Result<Money> Money::parse_yuan(std::string_view text) {
  auto bad = [] {
    return make_error(ErrorKind::invalid, "invalid_amount", "amount must look like 12.34");
  };
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)))
    return bad();
  std::int64_t fen = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
    if (__builtin_mul_overflow(fen, 10, &fen) || __builtin_add_overflow(fen, c - '0', &fen))
      return overflow();
  }
  if (__builtin_mul_overflow(fen, 100, &fen)) return overflow();
  std::int64_t cents = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return bad();
    cents = cents * 10 + (c - '0');
  }
  if (__builtin_add_overflow(fen, cents, &fen)) return overflow();
  return Money::fen(negative ? -fen : fen);
}

Result<Money> Money::plus(Money other) const {
  std::int64_t out = 0;
  if (__builtin_add_overflow(fen_, other.fen_, &out)) return overflow();
  return Money::fen(out);
}

Result<Money> Money::minus(Money other) const {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(fen_, other.fen_, &out)) return overflow();
  return Money::fen(out);
}

Result<Money> Money::times(std::int64_t quantity) const {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(fen_, quantity, &out)) return overflow();
  return Money::fen(out);
}

std::string Money::to_yuan() const {
  // Work in unsigned so that INT64_MIN prints correctly.
  std::uint64_t magnitude =
      fen_ < 0 ? 0 - static_cast<std::uint64_t>(fen_) : static_cast<std::uint64_t>(fen_);
  std::string out = fen_ < 0 ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  out += static_cast<char>('0' + magnitude % 100 / 10);
  out += static_cast<char>('0' + magnitude % 10);
  return out;
}

Result<std::vector<Money>> allocate(Money total, std::span<const std::int64_t> weights) {
  if (weights.empty())
    return make_error(ErrorKind::invalid, "invalid_weights", "no weights to allocate by");
  __int128 weight_sum = 0;
  for (auto w : weights) {
    if (w < 0)
      return make_error(ErrorKind::invalid, "invalid_weights", "weights must not be negative");
    weight_sum += w;
  }
  if (weight_sum == 0)
    return make_error(ErrorKind::invalid, "invalid_weights", "weights must not all be zero");

  std::vector<Money> parts(weights.size());
  std::vector<__int128> remainders(weights.size());
  __int128 assigned = 0;
  const __int128 amount = total.fen();
  for (std::size_t i = 0; i < weights.size(); ++i) {
    __int128 exact = amount * weights[i];
    __int128 share = exact / weight_sum;  // truncates toward zero
    remainders[i] = exact - share * weight_sum;
    parts[i] = Money::fen(static_cast<std::int64_t>(share));
    assigned += share;
  }
  // Hand out the leftover fen one at a time, largest remainder first (stable on ties).
  __int128 leftover = amount - assigned;
  const int step = leftover >= 0 ? 1 : -1;
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return step > 0 ? remainders[a] > remainders[b] : remainders[a] < remainders[b];
  });
  for (std::size_t k = 0; leftover != 0; ++k) {
    std::size_t i = order[k % order.size()];
    if (weights[i] == 0) continue;
    parts[i] = Money::fen(parts[i].fen() + step);
    leftover -= step;
  }
  __int128 check = 0;
  for (auto p : parts) check += p.fen();
  assert(check == amount && "allocation must sum to the total");
  return parts;
}

}  // namespace cunhuo
