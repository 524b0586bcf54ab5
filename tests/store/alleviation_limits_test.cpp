// Limits and scopes of alleviation records: objections bounded per notice, fund document
// numbers unique within their county.
#include "alleviation/exits.hpp"
#include "alleviation/funds.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

STORE_TEST("an exit notice takes a bounded number of objections", "[store][alleviation][exits]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'800'000'000'000);
  auto proposal = store.db().write([&](db::Session& tx) -> Result<std::int64_t> {
    CUNHUO_TRY(
        tx.exec("INSERT INTO exit_proposals (household_id, evaluation_id, status, notice_ends_at, "
                "created_at, "
                "updated_at) VALUES (1, 1, 'in_notice', ?, 0, 0)",
                {clock.now_ms() + 3'600'000}));
    return tx.last_insert_id();
  });
  REQUIRE(proposal.ok());
  auto lodge = [&] {
    return store.db().write([&](db::Session& tx) {
      return alleviation::lodge_objection(tx, *proposal, "异议", clock);
    });
  };
  for (std::int64_t i = 0; i < alleviation::kMaxObjectionsPerProposal; ++i) REQUIRE(lodge().ok());
  auto refused = lodge();
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == "too_many_objections");
  CHECK(refused.error().kind == ErrorKind::conflict);
}

STORE_TEST("two counties may issue the same fund document number; one county may not reuse it",
           "[store][funds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'800'000'000'000);
  auto project = [&](const char* county) {
    auto p = store.db().write([&](db::Session& tx) {
      return alleviation::create_project(
          tx, {county, "产业扶持", "industry", "", Money::fen(10'000'000)}, "test", clock);
    });
    REQUIRE(p.ok());
    return p->id;
  };
  const auto minqin = project("620621"), liangzhou = project("620602");
  auto allocate = [&](std::int64_t p, std::int64_t fen) {
    return store.db().write([&](db::Session& tx) {
      return alleviation::allocate(tx, p, "财扶〔2026〕7号", Money::fen(fen), "test", clock);
    });
  };
  REQUIRE(allocate(minqin, 100'000).ok());
  CHECK(allocate(liangzhou, 200'000).ok());
  CHECK(allocate(minqin, 100'000).ok());  // a retry finds the first
  auto reused = allocate(minqin, 300'000);
  REQUIRE(!reused.ok());
  CHECK(reused.error().code == "document_number_used");
}
