// Money is an integer count of fen (1 yuan = 100 fen), currency CNY.
// Arithmetic that could overflow returns an error instead of wrapping.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cunhuo {

class Money {
 public:
  constexpr Money() = default;
  static constexpr Money fen(std::int64_t amount) { return Money(amount); }
  // Parses "12", "12.3" or "12.34" yuan (optional leading '-'); more than two decimals is an error.
  static Result<Money> parse_yuan(std::string_view text);

  constexpr std::int64_t fen() const { return fen_; }
  Result<Money> plus(Money other) const;
  Result<Money> minus(Money other) const;
  Result<Money> times(std::int64_t quantity) const;
  // "12.34", with a leading '-' for negative amounts.
  std::string to_yuan() const;

  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(std::int64_t amount) : fen_(amount) {}
  std::int64_t fen_ = 0;
};

// Splits `total` by integer weights (e.g. basis points) so the parts sum exactly to
// `total`. Largest-remainder method; ties go to the earlier weight, so the result is
// deterministic. Weights must be non-negative with a positive sum.
Result<std::vector<Money>> allocate(Money total, std::span<const std::int64_t> weights);

}  // namespace cunhuo
