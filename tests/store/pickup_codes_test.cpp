// Pickup codes (取件码) against both stores, with a manual clock: a right code is used once,
// wrong codes are bounded and lock the parcel, codes expire, and new codes are rationed.
#include <sodium.h>

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

namespace {

// What a reader of a store copy can compute for every candidate code: the hash with no key.
std::string unkeyed_hash(const std::string& input) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string stored_hash(db::Database& db) {
  auto row = db.read([](db::Session& s) {
    return s.query_one("SELECT code_hash FROM pickup_codes WHERE shipment_id = ?", {kParcel});
  });
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  return (*row)->str(0);
}

}  // namespace

STORE_TEST("a stored pickup code cannot be found from the store alone", "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto issued = f.issue();
  REQUIRE(issued.ok());
  const std::string stored = stored_hash(f.store.db());
  const std::string guess = unkeyed_hash("pickup|" + std::to_string(kParcel) + "|" + issued->code);
  CHECK(stored.find(guess.substr(0, 16)) == std::string::npos);  // the guessed code is no clue
  CHECK(stored.size() <= 64);                                    // the column's width
  CHECK(f.check(issued->code) == PickupCheck::accepted);
}

STORE_TEST("a pickup code stored before codes were keyed is sent again, not accepted",
           "[store][pickup-codes]") {
  Fixture f(store_kind);
  auto issued = f.issue();
  REQUIRE(issued.ok());
  const std::string old = unkeyed_hash("pickup|" + std::to_string(kParcel) + "|" + issued->code);
  REQUIRE(f.store.db()
              .write([&](db::Session& tx) {
                return tx.exec("UPDATE pickup_codes SET code_hash = ? WHERE shipment_id = ?",
                               {old, kParcel});
              })
              .ok());
  CHECK(f.check(issued->code) == PickupCheck::expired);  // the station sends a new code
  CHECK(count(f.store.db(), "SELECT tries_left FROM pickup_codes") == kPickupCodeTries);
  f.clock.advance(std::chrono::milliseconds(kPickupCodeResendMs));
  auto fresh = f.issue();
  REQUIRE(fresh.ok());
  CHECK(f.check(fresh->code) == PickupCheck::accepted);
}
