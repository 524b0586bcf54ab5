#include <catch2/catch.hpp>

#include <climits>

#include "core/money.hpp"

using cunhuo::Money;

TEST_CASE("money adds and subtracts in whole fen", "[money]") {
  auto sum = Money::fen(1999).plus(Money::fen(1));
  REQUIRE(sum.ok());
  CHECK(sum->fen() == 2000);
  CHECK(Money::fen(5).minus(Money::fen(7))->fen() == -2);
}

TEST_CASE("money overflow is an error, not a wrap", "[money]") {
  CHECK_FALSE(Money::fen(LLONG_MAX).plus(Money::fen(1)).ok());
  CHECK_FALSE(Money::fen(LLONG_MIN).minus(Money::fen(1)).ok());
  CHECK_FALSE(Money::fen(LLONG_MAX / 2 + 1).times(2).ok());
  CHECK(Money::fen(LLONG_MAX).plus(Money::fen(1)).error().code == "amount_overflow");
}

TEST_CASE("money parses yuan with at most two decimals", "[money]") {
  CHECK(Money::parse_yuan("12.34")->fen() == 1234);
  CHECK(Money::parse_yuan("12.3")->fen() == 1230);
  CHECK(Money::parse_yuan("12")->fen() == 1200);
  CHECK(Money::parse_yuan("-0.05")->fen() == -5);
  CHECK_FALSE(Money::parse_yuan("12.345").ok());
  CHECK_FALSE(Money::parse_yuan("1e3").ok());
  CHECK_FALSE(Money::parse_yuan("").ok());
  CHECK_FALSE(Money::parse_yuan("12.").ok());
  CHECK_FALSE(Money::parse_yuan("99999999999999999999").ok());
}

TEST_CASE("money prints as yuan", "[money]") {
  CHECK(Money::fen(1234).to_yuan() == "12.34");
  CHECK(Money::fen(5).to_yuan() == "0.05");
  CHECK(Money::fen(-105).to_yuan() == "-1.05");
  CHECK(Money::fen(LLONG_MIN).to_yuan() == "-92233720368547758.08");
}

TEST_CASE("allocation by shares always sums to the total", "[money]") {
  std::int64_t shares[] = {3333, 3333, 3334};
  auto parts = cunhuo::allocate(Money::fen(100), shares);
  REQUIRE(parts.ok());
  CHECK((*parts)[0].fen() + (*parts)[1].fen() + (*parts)[2].fen() == 100);
  CHECK((*parts)[2].fen() == 34);  // the largest remainder gets the odd fen
  for (std::int64_t total : {0LL, 1LL, 7LL, 999'999LL, -101LL}) {
    std::int64_t weights[] = {1, 2, 3, 4, 5, 6, 7};
    auto split = cunhuo::allocate(Money::fen(total), weights);
    REQUIRE(split.ok());
    std::int64_t sum = 0;
    for (auto p : *split) sum += p.fen();
    CHECK(sum == total);
  }
}

TEST_CASE("allocation is deterministic on ties", "[money]") {
  std::int64_t equal[] = {5000, 5000};
  auto a = cunhuo::allocate(Money::fen(3), equal);
  REQUIRE(a.ok());
  CHECK((*a)[0].fen() == 2);
  CHECK((*a)[1].fen() == 1);
}

TEST_CASE("allocation refuses bad weights", "[money]") {
  std::int64_t negative[] = {5000, -1};
  std::int64_t zero[] = {0, 0};
  CHECK_FALSE(cunhuo::allocate(Money::fen(10), negative).ok());
  CHECK_FALSE(cunhuo::allocate(Money::fen(10), zero).ok());
  CHECK_FALSE(cunhuo::allocate(Money::fen(10), std::span<const std::int64_t>()).ok());
}
