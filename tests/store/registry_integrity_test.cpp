// Registry integrity on both stores: ID numbers pass their GB 11643 check and stand on one
// card only, shared phones and suspect cards become issues, and the office resolves them
// by merging or correcting with a reason the audit trail keeps.
#include <functional>
#include <set>
#include <tuple>

#include "marketplace/archive.hpp"
#include "marketplace/id_numbers.hpp"
#include "marketplace/integrity.hpp"
#include "marketplace/registry.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::marketplace;
using cunhuo::test::TestStore;

namespace {

constexpr std::int64_t kLate2026 = 1'795'000'000'000;
const std::string kVillage = "620621104201";

Member person(std::string name, std::string relationship, std::string id_number) {
  const auto birth = id_number_birth_date(id_number);
  return Member{.name = std::move(name),
                .relationship = std::move(relationship),
                .birth_year = birth ? birth->year : 1980,
                .health = "healthy",
                .education = "primary",
                .id_number = std::move(id_number),
                .medical_insurance = true};
}

ArchiveCard card_of(std::vector<Member> members) {
  ArchiveCard c;
  c.members = std::move(members);
  c.income = Income{.year = 2025,
                    .wages = Money::fen(100000),
                    .own_business = Money::fen(0),
                    .property = Money::fen(0),
                    .transfers = Money::fen(0)};
  return c;
}

NewHousehold household(std::string phone) {
  return NewHousehold{.village_code = kVillage,
                      .head_name = "",
                      .head_id_number = "",
                      .phone = std::move(phone),
                      .member_count = 1,
                      .status = PovertyStatus::registered_poor};
}

struct Registry {
  explicit Registry(test::StoreKind kind) : store(kind) { store.migrate(); }
  TestStore store;
  ManualClock clock{kLate2026};

  Result<HouseholdId> add(const std::string& phone, std::vector<Member> members) {
    return store.db().write([&](db::Session& tx) {
      return register_household(tx, household(phone), card_of(std::move(members)), "test", clock);
    });
  }
  template <class F>
  auto read(F f) {
    return store.db().read(f);
  }
  std::int64_t count(const std::string& sql) {
    return *store.db().read([&](db::Session& s) -> Result<std::int64_t> {
      return CUNHUO_TRY(s.query_one(sql))->i64(0);
    });
  }
  std::vector<RegistryIssue> issues(std::optional<IssueKind> kind = std::nullopt) {
    return *read([&](db::Session& s) {
      return list_issues(s, IssueQuery{.region_code = "620621", .kind = kind});
    });
  }
};

// A household row as an old import wrote it, before the checks existed.
Status insert_old(db::Session& tx, const std::string& village, const std::string& id_number,
                  const std::string& phone) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO households (village_code, head_name, head_id_number, phone, "
              "member_count, poverty_status, created_at, updated_at) VALUES (?, '旧户', ?, "
              "?, 1, 'registered_poor', 0, 0)",
              {village, id_number, phone}));
  return {};
}

// Old rows in two villages of the county and one outside it: two pairs sharing a phone
// (one pair across villages), a child as head, a bad check character, and clean cards.
void fill_old_rows(Registry& r) {
  const std::string other_village = "620621104202";
  REQUIRE(r.store.db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_CHECK(insert_old(tx, kVillage, "620621197001010019", "13800000081"));
                CUNHUO_CHECK(insert_old(tx, other_village, "620621198808080020", "13800000081"));
                CUNHUO_CHECK(insert_old(tx, kVillage, "620621201401010017", "13800000082"));
                CUNHUO_CHECK(insert_old(tx, other_village, "620621197001010018", "13800000083"));
                CUNHUO_CHECK(insert_old(tx, kVillage, "620621198504090043", "13800000083"));
                CUNHUO_CHECK(insert_old(tx, other_village, "620621198504090043", "13800000084"));
                CUNHUO_CHECK(insert_old(tx, "620622100201", "620621201401010017", "13800000084"));
                return {};
              })
              .ok());
}

using IssueKey = std::tuple<std::string, std::int64_t, std::int64_t, std::string>;

std::set<IssueKey> issue_keys(Registry& r) {
  std::set<IssueKey> out;
  for (const auto& i : r.issues())
    out.insert({std::string(to_string(i.kind)), i.household.value, i.other ? i.other->value : 0,
                i.detail});
  return out;
}

}  // namespace

TEST_CASE("the check character is the GB 11643 one for real-format ID numbers",
          "[unit][id-number]") {
  CHECK(id_number_check_char("11010519491231002") == 'X');  // the standard's own example
  CHECK(id_number_check_char("44052418800101001") == '4');
  CHECK(id_number_check_char("62062119700101001") == '9');
  CHECK(check_id_number("11010519491231002X", "f").ok());
  CHECK(check_id_number("620621197001010019", "f").ok());
  CHECK(check_id_number("620621200002290010", "f").ok());  // 2000 was a leap year
}

TEST_CASE("an ID number with a wrong check character, form or birth date is refused",
          "[unit][id-number]") {
  struct Case {
    const char* why;
    std::string id_number;
  };
  const std::vector<Case> cases = {
      {"too short", "62062119700101001"},
      {"a letter among the digits", "62062119700A010019"},
      {"a lower-case x", "11010519491231002x"},
      {"not a month", "620621197013010016"},
      {"1900 was not a leap year", "620621190002290014"},
      {"born before 1900", "620621189901010011"},
      {"the check character one off", "620621197001010018"},
  };
  for (const auto& c : cases) {
    INFO(c.why);
    auto refused = check_id_number(c.id_number, "members[0].id_number");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid_id_number");
    CHECK(refused.error().field == "members[0].id_number");
  }
}

TEST_CASE("age counts full years from the birth date in the ID number", "[unit][id-number]") {
  const auto birth = *id_number_birth_date("620621201206150022");
  CHECK(age_on(birth, BirthDate{2028, 6, 14}) == 15);
  CHECK(age_on(birth, BirthDate{2028, 6, 15}) == 16);
}

STORE_TEST("a card whose ID number fails its check is refused and writes nothing",
           "[store][registry-integrity]") {
  Registry r(store_kind);
  struct Case {
    const char* why;
    std::function<void(NewHousehold&, ArchiveCard&)> spoil;
    std::string code, field;
  };
  // In the order the checks run: the card's members first, then the household's fields.
  const std::vector<Case> cases = {
      {"a member's check character",
       [](NewHousehold&, ArchiveCard& c) { c.members[1].id_number = "620621198808080021"; },
       "invalid_id_number", "members[1].id_number"},
      {"the same number twice on one card",
       [](NewHousehold&, ArchiveCard& c) { c.members[1].id_number = c.members[0].id_number; },
       "duplicate_id_number", "members[1].id_number"},
      {"a bad phone", [](NewHousehold& h, ArchiveCard&) { h.phone = "123"; }, "invalid_phone",
       "phone"},
  };
  for (const auto& c : cases) {
    INFO(c.why);
    NewHousehold h = household("13800000071");
    ArchiveCard card = card_of({person("周大山", "head", "620621197001010019"),
                                person("刘芳", "spouse", "620621198808080020")});
    c.spoil(h, card);
    auto refused = r.store.db().write(
        [&](db::Session& tx) { return register_household(tx, h, card, "test", r.clock); });
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == c.code);
    CHECK(refused.error().field == c.field);
  }
  CHECK(r.count("SELECT COUNT(*) FROM households") == 0);
  CHECK(r.count("SELECT COUNT(*) FROM id_number_holders") == 0);
}

STORE_TEST("an ID number stands on one card only, across heads and members",
           "[store][registry-integrity]") {
  Registry r(store_kind);
  auto first = r.add("13800000071", {person("周大山", "head", "620621197001010019"),
                                     person("周小燕", "child", "620621201509090020")});
  REQUIRE(first.ok());
  auto as_member = r.add("13800000072", {person("李四", "head", "620621198808080012"),
                                         person("周小燕", "child", "620621201509090020")});
  REQUIRE_FALSE(as_member.ok());
  CHECK(as_member.error().code == "id_number_taken");
  CHECK(as_member.error().field == "members[1].id_number");
  CHECK(as_member.error().message.find(std::to_string(first->value)) == std::string::npos);
  auto as_head = r.store.db().write([&](db::Session& tx) {
    auto h = household("13800000073");
    h.head_name = "周大山";
    h.head_id_number = "620621197001010019";
    return create_household(tx, h, r.clock);
  });
  REQUIRE_FALSE(as_head.ok());
  CHECK(as_head.error().code == "id_number_taken");
  CHECK(as_head.error().field == "head_id_number");
  CHECK(r.count("SELECT COUNT(*) FROM households") == 1);
  // The card that holds a number keeps it when it changes.
  auto changed = r.store.db().write([&](db::Session& tx) {
    auto card = card_of({person("周大山", "head", "620621197001010019")});
    return update_household_record(tx, *first, card, std::nullopt, "test", "child moved out",
                                   r.clock);
  });
  REQUIRE(changed.ok());
  // And the number it let go is free again.
  CHECK(r.add("13800000072", {person("李四", "head", "620621198808080012"),
                              person("周小燕", "child", "620621201509090020")})
            .ok());
}

STORE_TEST("a phone two households share is flagged, not refused", "[store][registry-integrity]") {
  Registry r(store_kind);
  auto a = r.add("13800000071", {person("周大山", "head", "620621197001010019")});
  auto b = r.add("13800000071", {person("李四", "head", "620621198808080012")});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto flagged = r.issues(IssueKind::duplicate_phone);
  REQUIRE(flagged.size() == 1);
  CHECK(flagged[0].household == *b);
  CHECK(flagged[0].other == std::optional(*a));
  CHECK(r.issues(IssueKind::suspect).empty());
}

STORE_TEST("a scan raises old cards with bad check characters or a child as head, once",
           "[store][registry-integrity]") {
  Registry r(store_kind);
  auto ok = r.add("13800000071", {person("周大山", "head", "620621197001010019")});
  REQUIRE(ok.ok());
  // Rows stored before the checks existed, written as an old import would have.
  REQUIRE(r.store.db()
              .write([&](db::Session& tx) -> Status {
                for (const auto& [name, id_number] :
                     {std::pair{"王五", "620621197001010018"}, {"张小", "620621201401010017"}})
                  CUNHUO_TRY(tx.exec(
                      "INSERT INTO households (village_code, head_name, head_id_number, phone, "
                      "member_count, poverty_status, created_at, updated_at) VALUES (?, ?, ?, "
                      "'13800000075', 1, 'registered_poor', 0, 0)",
                      {kVillage, name, id_number}));
                return {};
              })
              .ok());
  auto scanned = scan_registry(r.store.db(), "620621", kRegistryScanBatch, r.clock);
  REQUIRE(scanned.ok());
  CHECK(scanned->raised == 3);  // two suspects and the phone they share
  auto suspects = r.issues(IssueKind::suspect);
  REQUIRE(suspects.size() == 2);
  CHECK(suspects[0].detail == "invalid_id_number:head_id_number");
  CHECK(suspects[1].detail == "head_under_16");
  r.clock.advance(std::chrono::milliseconds(kMinRegistryScanIntervalMs));
  auto again = scan_registry(r.store.db(), "620621", kRegistryScanBatch, r.clock);
  REQUIRE(again.ok());
  CHECK(again->raised == 0);
}

STORE_TEST("merging moves the duplicate's people onto the kept card and keeps both trails",
           "[store][registry-integrity]") {
  Registry r(store_kind);
  auto kept = r.add("13800000071", {person("周大山", "head", "620621197001010019"),
                                    person("刘芳", "spouse", "620621198808080020")});
  auto dup = r.add("13800000071", {person("周小燕", "head", "620621201509090020")});
  REQUIRE(kept.ok());
  REQUIRE(dup.ok());
  const auto issue = r.issues(IssueKind::duplicate_phone).at(0);
  auto merged = r.store.db().write([&](db::Session& tx) {
    return resolve_issue(tx, issue.id,
                         Resolution{.action = ResolutionAction::merge,
                                    .reason = "one family registered twice",
                                    .into = *kept},
                         "account:7", r.clock);
  });
  REQUIRE(merged.ok());
  CHECK(merged->resolved);
  CHECK(merged->action == "merge");
  auto kept_record = *r.read([&](db::Session& s) { return find_household_record(s, *kept); });
  REQUIRE(kept_record->card.members.size() == 3);
  CHECK(kept_record->card.members[2].relationship == "other");  // no second head
  auto gone = *r.read([&](db::Session& s) { return find_household(s, *dup); });
  CHECK(gone->merged_into == std::optional(*kept));  // marked, not deleted
  auto counted = *r.read([&](db::Session& s) { return status_counts(s, "620621", 6); });
  REQUIRE(counted.size() == 1);
  CHECK(counted[0].households == 1);  // the family counts once in open statistics
  CHECK(r.count("SELECT COUNT(*) FROM id_number_holders WHERE id_number = '620621201509090020' "
                "AND household_id = " +
                std::to_string(kept->value)) == 1);
  auto kept_trail = *r.read([&](db::Session& s) { return household_audit(s, *kept); });
  auto gone_trail = *r.read([&](db::Session& s) { return household_audit(s, *dup); });
  auto has = [](const std::vector<AuditEntry>& trail, const std::string& field,
                const std::string& old_value, const std::string& new_value) {
    for (const auto& e : trail)
      if (e.field == field && e.old_value == old_value && e.new_value == new_value &&
          e.reason == "one family registered twice")
        return true;
    return false;
  };
  CHECK(has(kept_trail, "members[2].id_number", "", "620621201509090020"));
  CHECK(has(gone_trail, "members[0].id_number", "620621201509090020", ""));
  CHECK(has(gone_trail, "merged_into", "", std::to_string(kept->value)));
  auto twice = r.store.db().write([&](db::Session& tx) {
    return resolve_issue(
        tx, issue.id,
        Resolution{.action = ResolutionAction::merge, .reason = "again", .into = *kept},
        "account:7", r.clock);
  });
  CHECK(twice.error().code == "issue_resolved");
}

STORE_TEST("correcting a field keeps the value before, after and the reason",
           "[store][registry-integrity]") {
  Registry r(store_kind);
  auto a = r.add("13800000071", {person("周大山", "head", "620621197001010019")});
  auto b = r.add("13800000071", {person("李四", "head", "620621198808080012")});
  const auto issue = r.issues(IssueKind::duplicate_phone).at(0);
  auto resolve = [&](Resolution how) {
    return r.store.db().write(
        [&](db::Session& tx) { return resolve_issue(tx, issue.id, how, "account:7", r.clock); });
  };
  // Refusals in the order they are checked; none resolves the issue.
  struct Case {
    const char* why;
    Resolution how;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {"no reason",
       {.action = ResolutionAction::correct, .field = "phone"},
       "missing_field",
       "reason"},
      {"merge without a household to keep",
       {.action = ResolutionAction::merge, .reason = "r"},
       "missing_field",
       "into_household_id"},
      {"a household not in the issue",
       {.action = ResolutionAction::correct,
        .reason = "r",
        .household = HouseholdId{99},
        .field = "phone",
        .value = "13800000079"},
       "invalid_choice",
       "household_id"},
      {"an unknown field",
       {.action = ResolutionAction::correct, .reason = "r", .field = "name", .value = "x"},
       "invalid_choice",
       "field"},
      {"a bad ID number",
       {.action = ResolutionAction::correct,
        .reason = "r",
        .field = "id_number",
        .value = "620621198808080013"},
       "invalid_id_number",
       "members[0].id_number"},
      {"another card's ID number",
       {.action = ResolutionAction::correct,
        .reason = "r",
        .field = "id_number",
        .value = "620621197001010019"},
       "id_number_taken",
       "members[0].id_number"},
  };
  for (const auto& c : cases) {
    INFO(c.why);
    auto refused = resolve(c.how);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == c.code);
    CHECK(refused.error().field == c.field);
  }
  auto fixed = resolve({.action = ResolutionAction::correct,
                        .reason = "the son's phone",
                        .field = "phone",
                        .value = "13800000079"});
  REQUIRE(fixed.ok());
  auto trail = *r.read([&](db::Session& s) { return household_audit(s, *b); });
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.back().field == "phone");
  CHECK(trail.back().old_value == "13800000071");
  CHECK(trail.back().new_value == "13800000079");
  CHECK(trail.back().reason == "the son's phone");
  CHECK(trail.back().actor == "account:7");
  CHECK((*r.read([&](db::Session& s) { return find_household(s, *a); }))->phone == "13800000071");
}

STORE_TEST("a scan in batches of one household raises what a single batch raises",
           "[store][registry-integrity][registry-scan]") {
  Registry one_batch(store_kind);
  fill_old_rows(one_batch);
  auto whole = scan_registry(one_batch.store.db(), "620621", kRegistryScanBatch, one_batch.clock);
  REQUIRE(whole.ok());
  CHECK(whole->households == 6);  // the county's, not the neighbour's
  const auto expected = issue_keys(one_batch);
  CHECK(expected.size() == 4);  // two shared phones, a child as head, a bad check character

  Registry batched(store_kind);
  fill_old_rows(batched);
  auto steps = scan_registry(batched.store.db(), "620621", 1, batched.clock);
  REQUIRE(steps.ok());
  CHECK(steps->households == 6);
  CHECK(steps->raised == whole->raised);
  CHECK(issue_keys(batched) == expected);
}

STORE_TEST("a scan cut short is resumed where it stood once it has stood still long enough",
           "[store][registry-integrity][registry-scan]") {
  Registry r(store_kind);
  fill_old_rows(r);
  auto& db = r.store.db();
  REQUIRE(
      db.write([&](db::Session& tx) { return start_registry_scan(tx, "620621", r.clock); }).ok());
  auto first =
      db.write([&](db::Session& tx) { return continue_registry_scan(tx, "620621", 2, r.clock); });
  REQUIRE(first.ok());
  CHECK(first->running);
  CHECK(first->households == 2);
  // The process stops here. A start before the scan is stale finds it running.
  r.clock.advance(std::chrono::milliseconds(kRegistryScanStaleMs - 1));
  auto early =
      db.write([&](db::Session& tx) { return start_registry_scan(tx, "620621", r.clock); });
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().code == kScanRunning);
  r.clock.advance(std::chrono::milliseconds(1));
  auto resumed = scan_registry(db, "620621", 2, r.clock);
  REQUIRE(resumed.ok());
  CHECK(resumed->households == 6);  // each household looked at once
  CHECK(issue_keys(r).size() == 4);
}

STORE_TEST("a new scan of an area is refused while one runs and until the interval has passed",
           "[store][registry-integrity][registry-scan]") {
  Registry r(store_kind);
  fill_old_rows(r);
  auto& db = r.store.db();
  auto start = [&](const char* area) {
    return db.write([&](db::Session& tx) { return start_registry_scan(tx, area, r.clock); });
  };
  auto refusal = [&](const char* area) -> std::string {
    auto started = start(area);
    return started.ok() ? "" : started.error().code;
  };
  REQUIRE(start("620621").ok());
  CHECK(refusal("620621") == kScanRunning);
  CHECK(refusal("620622") == "");  // another area is not held up by this one's
  auto ended = db.write([&](db::Session& tx) {
    return continue_registry_scan(tx, "620621", kRegistryScanBatch, r.clock);
  });
  REQUIRE(ended.ok());
  CHECK_FALSE(ended->running);
  r.clock.advance(std::chrono::milliseconds(kMinRegistryScanIntervalMs - 1));
  CHECK(refusal("620621") == kScanTooSoon);
  r.clock.advance(std::chrono::milliseconds(1));
  CHECK(refusal("620621") == "");
}
