// Fund tracking and open statistics on both stores, over the Minqin seed: households
// 1 (王建国, registered poor, four members on its card), 5 (马有福, exited) in 620621.
#include "alleviation/funds.hpp"
#include "alleviation/statistics.hpp"
#include "marketplace/registry.hpp"
#include "payments/ledger.hpp"
#include "seeds/loader.hpp"
#include "storefront/auth.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;
namespace al = cunhuo::alleviation;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

struct SeededStore {
  explicit SeededStore(test::StoreKind kind) : store(kind) {
    store.migrate();
    storefront::Auth auth(store.db(), clock);
    auto loaded = seeds::load(
        store.db(), *seeds::builtin("fixture"), clock,
        [&auth](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
          return auth.create_account(
              tx, {a.phone, a.password, a.display_name, CUNHUO_TRY(storefront::parse_role(a.role)),
                   a.region_code, a.household_id, a.shop_id, a.node_id});
        });
    REQUIRE(loaded.ok());
  }
  template <class F>
  auto write(F f) {
    return store.db().write(f);
  }
  template <class F>
  auto read(F f) {
    return store.db().read(f);
  }
  std::int64_t balance(const std::string& account) {
    auto a = read([&](db::Session& s) { return payments::find_account(s, account); });
    REQUIRE(a.ok());
    return *a ? (*a)->balance() : 0;
  }
  std::int64_t count(const char* sql) {
    auto r = read([&](db::Session& s) { return s.query_one(sql); });
    REQUIRE(r.ok());
    return (*r)->i64(0);
  }
  al::Project project(std::int64_t budget_fen, std::string benefit = "") {
    auto p = write([&](db::Session& tx) {
      return al::create_project(
          tx, {"620621", "2026年教育资助（示例）", "education", benefit, Money::fen(budget_fen)},
          "office", clock);
    });
    REQUIRE(p.ok());
    return *p;
  }
  Result<al::Allocation> allocate(std::int64_t project, const char* doc, std::int64_t fen) {
    return write([&](db::Session& tx) {
      return al::allocate(tx, project, doc, Money::fen(fen), "office", clock);
    });
  }
  Result<al::Disbursement> disburse(std::int64_t allocation, const al::NewDisbursement& d) {
    return write([&](db::Session& tx) { return al::disburse(tx, allocation, d, "office", clock); });
  }
  // A seventh household in 620621104201, without a card.
  marketplace::HouseholdId add_household(marketplace::PovertyStatus status) {
    auto id = write([&](db::Session& tx) {
      return marketplace::create_household(
          tx, {"620621104201", "周大海", "620621196601010034", "13800000099", 2, status}, clock);
    });
    REQUIRE(id.ok());
    return *id;
  }
  std::vector<al::FundFlag> flags() {
    auto f = read([&](db::Session& s) {
      return al::fund_flags_page(
          s, al::FundFlagQuery{.area = "620621", .idle_ms = 90 * kDayMs, .limit = 100}, clock);
    });
    REQUIRE(f.ok());
    CHECK_FALSE(f->next);
    return f->flags;
  }

  ManualClock clock{1'795'000'000'000};  // late 2026
  TestStore store;
};

al::NewDisbursement to_household(const char* doc, std::int64_t fen, std::int64_t household,
                                 std::string id_number = "") {
  return al::NewDisbursement{doc, Money::fen(fen), "", household, std::move(id_number)};
}

std::size_t count_kind(const std::vector<al::FundFlag>& flags, std::string_view kind) {
  return static_cast<std::size_t>(
      std::count_if(flags.begin(), flags.end(), [&](const auto& f) { return f.kind == kind; }));
}

}  // namespace

STORE_TEST("funds move county to allocation to recipient as ledger transfers, traced both ways",
           "[store][funds]") {
  SeededStore s(store_kind);
  const auto project = s.project(10'000'000);
  auto allocation = s.allocate(project.id, "民财扶〔2026〕12号", 5'000'000);
  REQUIRE(allocation.ok());
  REQUIRE(s.disburse(allocation->id, to_household("MQ-EDU-0001", 200'000, 1, "620621200805060016"))
              .ok());
  REQUIRE(s.disburse(allocation->id, al::NewDisbursement{"MQ-EDU-0002", Money::fen(500'000),
                                                         "620621104201", std::nullopt, ""})
              .ok());

  CHECK(s.balance("fund:county:620621") == -5'000'000);
  CHECK(s.balance("fund:allocation:" + std::to_string(allocation->id)) == 4'300'000);
  CHECK(s.balance("fund:household:1") == 200'000);
  CHECK(s.balance("fund:village:620621104201") == 500'000);
  CHECK(s.read([](db::Session& x) { return payments::check_ledger(x); }).ok());

  auto up = s.read([](db::Session& x) { return al::household_funds(x, 1); });
  REQUIRE(up->size() == 1);
  CHECK(up->front().allocation_document == "民财扶〔2026〕12号");
  CHECK(up->front().project_name == "2026年教育资助（示例）");
  CHECK(up->front().id_number == "620621200805060016");
  auto down = s.read([&](db::Session& x) { return al::disbursements_of(x, allocation->id); });
  CHECK(down->size() == 2);
  auto p = s.read([&](db::Session& x) { return al::find_project(x, project.id); });
  CHECK((*p)->allocated.fen() == 5'000'000);
  CHECK((*p)->disbursed.fen() == 700'000);
}

STORE_TEST("a disbursement above what the allocation has left is refused and writes nothing",
           "[store][funds][bad-input]") {
  SeededStore s(store_kind);
  auto allocation = s.allocate(s.project(1'000'000).id, "DOC-1", 100'000);
  REQUIRE(allocation.ok());
  auto over = s.disburse(allocation->id, to_household("PAY-1", 100'001, 1));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == "above_remaining");
  CHECK(over.error().field == "amount_fen");
  CHECK(s.count("SELECT COUNT(*) FROM fund_disbursements") == 0);
  CHECK(s.balance("fund:allocation:" + std::to_string(allocation->id)) == 100'000);
  CHECK(s.balance("fund:household:1") == 0);
  // Exactly what is left is allowed; then nothing more.
  REQUIRE(s.disburse(allocation->id, to_household("PAY-2", 100'000, 1)).ok());
  CHECK(s.disburse(allocation->id, to_household("PAY-3", 1, 1)).error().code == "above_remaining");
}

STORE_TEST("a disbursement to an unknown household, a non-member or outside the county is refused",
           "[store][funds][bad-input]") {
  SeededStore s(store_kind);
  auto allocation = s.allocate(s.project(1'000'000).id, "DOC-1", 100'000);
  REQUIRE(allocation.ok());
  auto unknown = s.disburse(allocation->id, to_household("PAY-1", 1000, 999));
  CHECK(unknown.error().kind == ErrorKind::not_found);
  CHECK(unknown.error().field == "household_id");
  CHECK(s.disburse(allocation->id, to_household("PAY-2", 1000, 1, "620621198206220022"))
            .error()
            .code == "not_a_member");
  CHECK(s.disburse(allocation->id,
                   al::NewDisbursement{"PAY-3", Money::fen(1000), "110101001001", std::nullopt, ""})
            .error()
            .code == "outside_county");
  CHECK(s.disburse(allocation->id,
                   al::NewDisbursement{"PAY-4", Money::fen(1000), "6206211", std::nullopt, ""})
            .error()
            .field == "village_code");
  CHECK(s.disburse(allocation->id, to_household("PAY-5", 0, 1)).error().field == "amount_fen");
  CHECK(s.disburse(allocation->id, to_household("", 1000, 1)).error().field == "document_number");
  CHECK(s.disburse(77, to_household("PAY-6", 1000, 1)).error().kind == ErrorKind::not_found);
  CHECK(s.count("SELECT COUNT(*) FROM fund_disbursements") == 0);
  CHECK(s.balance("fund:allocation:" + std::to_string(allocation->id)) == 100'000);
}

STORE_TEST("a project of an unknown kind, without a budget or outside a county is refused",
           "[store][funds][bad-input]") {
  SeededStore s(store_kind);
  auto made = [&](al::NewProject p) {
    return s.write([&](db::Session& tx) { return al::create_project(tx, p, "office", s.clock); });
  };
  CHECK(made({"620621", "x", "lottery", "", Money::fen(100)}).error().field == "kind");
  CHECK(made({"620621", "x", "industry", "", Money::fen(0)}).error().field == "budget_fen");
  CHECK(made({"620621104", "x", "industry", "", Money::fen(100)}).error().field == "county_code");
  CHECK(made({"620621", "x", "industry", "Has Spaces", Money::fen(100)}).error().field ==
        "benefit");
  CHECK(s.count("SELECT COUNT(*) FROM fund_projects") == 0);
}

STORE_TEST("the same document number finds the earlier step; used for another, it is refused",
           "[store][funds]") {
  SeededStore s(store_kind);
  const auto project = s.project(1'000'000);
  auto first = s.allocate(project.id, "DOC-1", 100'000);
  auto again = s.allocate(project.id, "DOC-1", 100'000);
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  CHECK(s.allocate(project.id, "DOC-1", 200'000).error().code == "document_number_used");
  CHECK(s.balance("fund:county:620621") == -100'000);

  auto paid = s.disburse(first->id, to_household("PAY-1", 1000, 1));
  auto repaid = s.disburse(first->id, to_household("PAY-1", 1000, 1));
  REQUIRE(repaid.ok());
  CHECK(repaid->id == paid->id);
  CHECK(s.disburse(first->id, to_household("PAY-1", 2000, 1)).error().code ==
        "document_number_used");
  CHECK(s.balance("fund:household:1") == 1000);
}

STORE_TEST(
    "the office's flags: recipients not registered or exited, one benefit twice, over budget, idle "
    "money",
    "[store][funds]") {
  SeededStore s(store_kind);
  const auto outsider = s.add_household(marketplace::PovertyStatus::not_registered);
  const auto project = s.project(300'000, "education_subsidy_2026");
  auto allocation =
      s.allocate(project.id, "DOC-1", 400'000);  // more than the budget: allowed, flagged
  REQUIRE(allocation.ok());
  REQUIRE(s.disburse(allocation->id, to_household("PAY-1", 1000, outsider.value)).ok());
  REQUIRE(s.disburse(allocation->id, to_household("PAY-2", 1000, 5)).ok());  // 马有福 exited
  REQUIRE(s.disburse(allocation->id, to_household("PAY-3", 1000, 1, "620621200805060016")).ok());
  CHECK(count_kind(s.flags(), "duplicate_benefit") == 0);
  // A second project with the same benefit pays the same child again.
  const auto second = s.project(300'000, "education_subsidy_2026");
  auto other = s.allocate(second.id, "DOC-2", 100'000);
  REQUIRE(s.disburse(other->id, to_household("PAY-4", 1000, 1, "620621200805060016")).ok());

  auto flags = s.flags();
  CHECK(count_kind(flags, "unregistered_recipient") == 1);
  CHECK(count_kind(flags, "exited_recipient") == 1);
  CHECK(count_kind(flags, "duplicate_benefit") == 2);
  CHECK(count_kind(flags, "over_budget") == 1);
  CHECK(count_kind(flags, "idle_allocation") == 0);
  for (const auto& f : flags)
    CHECK(f.detail.find("620621200805060016") == std::string::npos);  // ID numbers masked
  s.clock.advance(std::chrono::milliseconds(91 * kDayMs));
  CHECK(count_kind(s.flags(), "idle_allocation") == 2);
}

STORE_TEST(
    "open statistics count households by area and withhold money figures of fewer than three "
    "households",
    "[store][statistics]") {
  SeededStore s(store_kind);
  auto county =
      s.read([&](db::Session& x) { return al::area_statistics(x, "620621", 3, s.clock); });
  REQUIRE(county.ok());
  CHECK(county->total.registered == 6);
  CHECK(county->total.exited == 1);
  CHECK(county->total.returned == 1);
  CHECK(county->total.at_risk == 1);
  CHECK(county->parts.size() >= 4);  // the seed's townships
  REQUIRE(county->months.size() == 3);
  CHECK_FALSE(county->months.front()
                  .sales.has_value());  // nobody sold: nothing to show, and nothing guessed
  auto village =
      s.read([&](db::Session& x) { return al::area_statistics(x, "620621104201", 1, s.clock); });
  REQUIRE(village.ok());
  CHECK(village->parts.empty());
  CHECK(s.read([&](db::Session& x) { return al::area_statistics(x, "62062110420", 1, s.clock); })
            .error()
            .field == "region");
  CHECK(s.read([&](db::Session& x) { return al::area_statistics(x, "620621", 25, s.clock); })
            .error()
            .field == "months");
  auto csv = al::statistics_csv(*county, "areas");
  REQUIRE(csv.ok());
  CHECK(csv->starts_with(
      "area_code,registered,poor,at_risk,proposed_for_exit,exited,returned_to_poverty\n620621,6,"));
  CHECK_FALSE(al::statistics_csv(*county, "people").ok());
}

STORE_TEST(
    "a month's money is withheld for an area when any of its selling villages has fewer than three "
    "sellers",
    "[store][statistics]") {
  SeededStore s(store_kind);
  // Test data goes in directly: three sellers in 620621104201 (households 1, 2 and a new
  // one), one seller in 620621104202 (household 3, 张明德).
  const auto added = s.add_household(marketplace::PovertyStatus::registered_poor);
  REQUIRE(s.write([&](db::Session& tx) -> Status {
             for (std::int64_t household :
                  {std::int64_t{1}, std::int64_t{2}, added.value, std::int64_t{3}})
               CUNHUO_TRY(
                   tx.exec("INSERT INTO settlement_lines (household_id, order_id, line_no, "
                           "product_id, title, quantity, share_bps, gross_fen, fees_fen, "
                           "net_fen, campaign_id, campaign_kind, settled_at) VALUES (?, ?, 1, 1, "
                           "'蜜瓜', 1, 10000, 100000, 3000, 97000, NULL, '', ?)",
                           {household, household, s.clock.now_ms() - 1000}));
             return {};
           }).ok());
  auto figures = [&](const char* region) {
    auto st = s.read([&](db::Session& x) { return al::area_statistics(x, region, 1, s.clock); });
    REQUIRE(st.ok());
    return st->months.front();
  };
  const auto village = figures("620621104201");
  CHECK(village.selling_households == 3);
  REQUIRE(village.sales.has_value());
  CHECK(village.sales->fen() == 300000);
  CHECK(village.income_to_registered->fen() == 291000);
  CHECK_FALSE(figures("620621104202").sales.has_value());  // one seller
  // The township has four sellers, but its total minus 620621104201's would give 张明德's sales.
  const auto township = figures("620621104");
  CHECK(township.selling_households == 4);
  CHECK_FALSE(township.sales.has_value());
  CHECK_FALSE(township.income_to_registered.has_value());
  CHECK_FALSE(figures("620621").sales.has_value());
}
