// Signatures, canonical JSON and statement periods (WeChat Pay's are tests/wechatpay/).
#include <catch2/catch.hpp>

#include "core/clock.hpp"
#include "payments/provider.hpp"
#include "payments/signing.hpp"
#include "payments/statements.hpp"

using namespace cunhuo;
using namespace cunhuo::payments;

namespace {

SigningKey key_from(unsigned char fill) {
  std::array<unsigned char, 32> seed{};
  seed.fill(fill);
  return SigningKey::from_seed(seed);
}

}  // namespace

TEST_CASE("a signature verifies with its public key and fails after any change",
          "[unit][payments]") {
  const auto key = key_from(7);
  const std::string sig = key.sign("甘肃民勤 3980");
  CHECK(signature_valid(key.public_key(), "甘肃民勤 3980", sig));
  CHECK_FALSE(signature_valid(key.public_key(), "甘肃民勤 3981", sig));
  CHECK_FALSE(signature_valid(key_from(8).public_key(), "甘肃民勤 3980", sig));
  CHECK_FALSE(signature_valid(key.public_key(), "甘肃民勤 3980", "not base64!"));
}

TEST_CASE("a key's serial is stable and differs between keys", "[unit][payments]") {
  CHECK(key_from(1).serial() == key_from(1).serial());
  CHECK(key_from(1).serial() != key_from(2).serial());
  CHECK(key_from(1).serial().size() == 16);
}

TEST_CASE("a key file is created once and read back as the same key", "[unit][payments]") {
  const std::string path = "/tmp/cunhuo-key-test-" + random_hex(6) + "/k.key";
  auto first = SigningKey::load_or_create(path);
  REQUIRE(first.ok());
  auto again = SigningKey::load(path);
  REQUIRE(again.ok());
  CHECK(again->public_key() == first->public_key());
  CHECK_FALSE(SigningKey::load(path + ".missing").ok());
}

TEST_CASE("canonical JSON sorts keys at every depth and keeps array order", "[unit][payments]") {
  auto doc = Json::parse(R"({"b":[3,1,{"z":1,"a":"<x>"}],"a":null,"c":true})");
  REQUIRE(doc.ok());
  auto text = canonical_json(*doc);
  REQUIRE(text.ok());
  CHECK(*text == R"({"a":null,"b":[3,1,{"a":"\u003cx\u003e","z":1}],"c":true})");
  CHECK_FALSE(canonical_json(*Json::parse(R"({"x":1.5})")).ok());
}

TEST_CASE("a period is a month, a quarter or a year in Beijing time", "[unit][payments]") {
  auto month = parse_period("2026-02");
  REQUIRE(month.ok());
  CHECK(format_date(month->first) == "2026-02-01");
  CHECK(format_date(month->last) == "2026-02-28");
  CHECK(month->from_ms == shanghai_midnight_ms(LocalDate{2026, 2, 1}));
  CHECK(month->to_ms - month->from_ms == 28LL * 86'400'000);
  auto quarter = parse_period("2026-Q4");
  REQUIRE(quarter.ok());
  CHECK(format_date(quarter->first) == "2026-10-01");
  CHECK(format_date(quarter->last) == "2026-12-31");
  auto year = parse_period("2024");
  REQUIRE(year.ok());
  CHECK(year->to_ms - year->from_ms == 366LL * 86'400'000);
  for (const char* bad : {"2026-13", "2026-Q5", "26-01", "2026-1", "", "abcd", "2026-00"})
    CHECK_FALSE(parse_period(bad).ok());
}

TEST_CASE("dates are read only when they exist", "[unit][payments]") {
  CHECK(parse_date("2024-02-29").has_value());
  CHECK_FALSE(parse_date("2026-02-29").has_value());
  CHECK_FALSE(parse_date("2026-11-31").has_value());
  CHECK_FALSE(parse_date("2026/11/25").has_value());
  CHECK(shanghai_date(shanghai_midnight_ms(LocalDate{2026, 11, 25})) == LocalDate{2026, 11, 25});
  // 23:59:59 in Beijing is still that day; a second later it is the next.
  const auto midnight = shanghai_midnight_ms(LocalDate{2026, 11, 26});
  CHECK(format_date(shanghai_date(midnight - 1000)) == "2026-11-25");
  CHECK(format_date(shanghai_date(midnight)) == "2026-11-26");
}
