// Anonymous objections to an exit notice are bounded per notice.
#include "alleviation/exits.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

STORE_TEST("an exit notice takes a bounded number of objections", "[store][alleviation][exits]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'800'000'000'000);
  auto proposal = store.db().write([&](db::Session& tx) -> Result<std::int64_t> {
    CUNHUO_TRY(tx.exec("INSERT INTO exit_proposals (household_id, evaluation_id, status, notice_ends_at, created_at, "
                       "updated_at) VALUES (1, 1, 'in_notice', ?, 0, 0)", {clock.now_ms() + 3'600'000}));
    return tx.last_insert_id();
  });
  REQUIRE(proposal.ok());
  auto lodge = [&] {
    return store.db().write([&](db::Session& tx) { return alleviation::lodge_objection(tx, *proposal, "异议", clock); });
  };
  for (std::int64_t i = 0; i < alleviation::kMaxObjectionsPerProposal; ++i) REQUIRE(lodge().ok());
  auto refused = lodge();
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == "too_many_objections");
  CHECK(refused.error().kind == ErrorKind::conflict);
}
