// Pickup codes (取件码) against both stores, with a manual clock: a right code is used once,
// wrong codes are bounded and lock the parcel, codes expire, and new codes are rationed.
#include "logistics/pickup_codes.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::logistics;
using cunhuo::test::TestStore;

namespace {

constexpr std::int64_t kParcel = 42;
const std::int64_t kStart = shanghai_midnight_ms(LocalDate{2026, 11, 23}) + 9 * 3'600'000;

struct Fixture {
  TestStore store;
  ManualClock clock{kStart};
  explicit Fixture(test::StoreKind kind) : store(kind) { store.migrate(); }

  Result<IssuedPickupCode> issue() {
    return store.db().write([&](db::Session& tx) { return issue_pickup_code(tx, kParcel, clock); });
  }
  PickupCheck check(const std::string& code) {
    auto c = store.db().write(
        [&](db::Session& tx) { return check_pickup_code(tx, kParcel, code, clock); });
    REQUIRE(c.ok());
    return *c;
  }
};

// The error code of a refused result, "" for a value.
template <class T>
std::string error_code_of(const Result<T>& r) {
  return r.ok() ? "" : r.error().code;
}

std::int64_t count(db::Database& db, const std::string& sql) {
  auto n = db.read([&](db::Session& s) -> Result<std::int64_t> {
    auto row = CUNHUO_TRY(s.query_one(sql));
    return row->i64(0);
  });
  REQUIRE(n.ok());
  return *n;
}

std::string other_than(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

}  // namespace

STORE_TEST("a right pickup code is accepted once", "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto issued = f.issue();
  REQUIRE(issued.ok());
  CHECK(issued->code.size() == static_cast<std::size_t>(kPickupCodeDigits));
  CHECK(issued->expires_at_ms == kStart + kPickupCodeLifetimeMs);
  CHECK(count(f.store.db(), "SELECT COUNT(*) FROM pickup_codes WHERE code_hash = '" + issued->code +
                                "'") == 0);  // only its hash is kept
  CHECK(f.check(issued->code) == PickupCheck::accepted);
  CHECK(f.check(issued->code) == PickupCheck::missing);  // used
  CHECK(error_code_of(f.issue()) == "pickup_code_used");
}

STORE_TEST("wrong pickup codes are bounded: the parcel locks until a new code",
           "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto issued = f.issue();
  REQUIRE(issued.ok());
  for (int i = 0; i < kPickupCodeTries; ++i)
    CHECK(f.check(other_than(issued->code)) == PickupCheck::wrong);
  CHECK(f.check(issued->code) == PickupCheck::locked);
  f.clock.advance(std::chrono::milliseconds(kPickupCodeResendMs));
  auto fresh = f.issue();
  REQUIRE(fresh.ok());
  CHECK(fresh->sends == 2);
  CHECK(f.check(fresh->code) == PickupCheck::accepted);
}

STORE_TEST("a pickup code expires", "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto issued = f.issue();
  REQUIRE(issued.ok());
  f.clock.advance(std::chrono::milliseconds(kPickupCodeLifetimeMs));
  CHECK(f.check(issued->code) == PickupCheck::expired);
}

STORE_TEST("new pickup codes are spaced and counted", "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto first = f.issue();
  REQUIRE(first.ok());
  CHECK(error_code_of(f.issue()) == "pickup_code_too_soon");
  for (int sends = 2; sends <= kMaxPickupCodeSends; ++sends) {
    f.clock.advance(std::chrono::milliseconds(kPickupCodeResendMs));
    auto again = f.issue();
    REQUIRE(again.ok());
    CHECK(again->sends == sends);
  }
  f.clock.advance(std::chrono::milliseconds(kPickupCodeResendMs));
  CHECK(error_code_of(f.issue()) == "pickup_code_sends_spent");
}

STORE_TEST("a parcel without a code has nothing to check", "[store][pickup-codes]") {
  Fixture f(store_kind);
  CHECK(f.check("123456") == PickupCheck::missing);
}
