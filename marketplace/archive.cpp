#include "marketplace/archive.hpp"

#include <algorithm>
#include <map>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "core/privacy.hpp"
#include "marketplace/id_numbers.hpp"
#include "marketplace/integrity.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 5, "household archive cards",
     "CREATE TABLE IF NOT EXISTS household_profiles (\n"
     "  household_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  causes VARCHAR(400) NOT NULL,\n"
     "  land_mu_hundredths BIGINT NOT NULL,\n"
     "  housing VARCHAR(20) NOT NULL,\n"
     "  drinking_water VARCHAR(20) NOT NULL,\n"
     "  income_year INTEGER NOT NULL,\n"
     "  income_wages_fen BIGINT NOT NULL,\n"
     "  income_business_fen BIGINT NOT NULL,\n"
     "  income_property_fen BIGINT NOT NULL,\n"
     "  income_transfers_fen BIGINT NOT NULL,\n"
     "  helper_name VARCHAR(100) NOT NULL,\n"
     "  helper_phone VARCHAR(20) NOT NULL,\n"
     "  helper_account_id BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS household_members (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  position INTEGER NOT NULL,\n"
     "  name VARCHAR(100) NOT NULL,\n"
     "  relationship VARCHAR(20) NOT NULL,\n"
     "  birth_year INTEGER NOT NULL,\n"
     "  health VARCHAR(20) NOT NULL,\n"
     "  education VARCHAR(20) NOT NULL,\n"
     "  id_number VARCHAR(18) NOT NULL,\n"
     "  medical_insurance INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS household_members_household ON household_members (household_id);\n"
     "CREATE TABLE IF NOT EXISTS household_audit (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  field VARCHAR(100) NOT NULL,\n"
     "  old_value VARCHAR(500) NOT NULL,\n"
     "  new_value VARCHAR(500) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS household_audit_household ON household_audit (household_id);\n"},
    // Scoring counts members per household by insurance, age and schooling: with these in
    // the index it reads the index alone, not a table row per member.
    {"marketplace", 9, "household members indexed for scoring",
     "CREATE INDEX IF NOT EXISTS household_members_facts ON household_members (household_id, "
     "medical_insurance, birth_year, education);\n"},
};

const std::vector<std::string> kRelationships = {"head",       "spouse",  "child", "parent",
                                                 "grandchild", "sibling", "other"};
const std::vector<std::string> kHealth = {"healthy", "chronic_illness", "serious_illness",
                                          "disabled"};
const std::vector<std::string> kEducation = {"none",   "preschool",  "primary", "junior",
                                             "senior", "vocational", "college", "in_school"};
const std::vector<std::string> kHousing = {"safe", "unsafe", "renovated"};
const std::vector<std::string> kWater = {"safe", "unsafe"};
constexpr std::size_t kMaxMembers = 30;
constexpr std::int64_t kMaxIncomeFen = 1'000'000'000'000;

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

bool one_of(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Status check_choice(const std::vector<std::string>& list, const std::string& v,
                    const std::string& field) {
  if (one_of(list, v)) return {};
  std::string allowed;
  for (const auto& x : list) allowed += (allowed.empty() ? "" : ", ") + x;
  return invalid("invalid_choice", "must be one of: " + allowed, field);
}

Status check_card(const ArchiveCard& c, std::int64_t now_ms) {
  const int this_year = static_cast<int>(1970 + now_ms / 31'556'952'000LL);
  if (c.members.empty() || c.members.size() > kMaxMembers)
    return invalid("out_of_range", "a household has 1 to 30 members", "members");
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const auto& m = c.members[i];
    const std::string f = "members[" + std::to_string(i) + "]";
    if (m.name.empty() || m.name.size() > 100)
      return invalid("invalid_length", "name must be 1 to 100 bytes", f + ".name");
    CUNHUO_CHECK(check_choice(kRelationships, m.relationship, f + ".relationship"));
    if ((i == 0) != (m.relationship == "head"))
      return invalid("invalid_head", "the first member, and only the first, is the head",
                     f + ".relationship");
    if (m.birth_year < 1900 || m.birth_year > this_year)
      return invalid("out_of_range", "birth year out of range", f + ".birth_year");
    CUNHUO_CHECK(check_choice(kHealth, m.health, f + ".health"));
    CUNHUO_CHECK(check_choice(kEducation, m.education, f + ".education"));
    CUNHUO_CHECK(check_id_number(m.id_number, f + ".id_number"));
  }
  if (c.causes.size() > poverty_causes().size())
    return invalid("too_many_items", "too many causes", "causes");
  for (std::size_t i = 0; i < c.causes.size(); ++i)
    CUNHUO_CHECK(check_choice(poverty_causes(), c.causes[i], "causes[" + std::to_string(i) + "]"));
  if (c.land_mu_hundredths < 0 || c.land_mu_hundredths > 100'000'000)
    return invalid("out_of_range", "land must be 0 to 1000000 mu", "land_mu_hundredths");
  CUNHUO_CHECK(check_choice(kHousing, c.housing, "housing"));
  CUNHUO_CHECK(check_choice(kWater, c.drinking_water, "drinking_water"));
  if (c.income.year < 2000 || c.income.year > this_year)
    return invalid("out_of_range", "income year out of range", "income.year");
  for (auto [money, field] : {std::pair{c.income.wages, "income.wages_fen"},
                              {c.income.own_business, "income.own_business_fen"},
                              {c.income.property, "income.property_fen"},
                              {c.income.transfers, "income.transfers_fen"}})
    if (money.fen() < 0 || money.fen() > kMaxIncomeFen)
      return invalid("out_of_range", "income must be 0 or more", field);
  if (c.helper_name.size() > 100)
    return invalid("invalid_length", "helper name is at most 100 bytes", "helper.name");
  if (!c.helper_phone.empty() && !is_mobile_number(c.helper_phone))
    return invalid("invalid_phone", "an 11-digit mobile number", "helper.phone");
  return {};
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The card as field -> value, so that two versions can be compared field by field.
std::map<std::string, std::string> flatten(const ArchiveCard& c, PovertyStatus status) {
  std::map<std::string, std::string> f;
  f["status"] = std::string(to_string(status));
  f["causes"] = join(c.causes);
  f["land_mu_hundredths"] = std::to_string(c.land_mu_hundredths);
  f["housing"] = c.housing;
  f["drinking_water"] = c.drinking_water;
  f["income.year"] = std::to_string(c.income.year);
  f["income.wages_fen"] = std::to_string(c.income.wages.fen());
  f["income.own_business_fen"] = std::to_string(c.income.own_business.fen());
  f["income.property_fen"] = std::to_string(c.income.property.fen());
  f["income.transfers_fen"] = std::to_string(c.income.transfers.fen());
  f["helper.name"] = c.helper_name;
  f["helper.phone"] = c.helper_phone;
  f["helper.account_id"] = c.helper_account ? std::to_string(*c.helper_account) : "";
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const auto& m = c.members[i];
    const std::string p = "members[" + std::to_string(i) + "].";
    f[p + "name"] = m.name;
    f[p + "relationship"] = m.relationship;
    f[p + "birth_year"] = std::to_string(m.birth_year);
    f[p + "health"] = m.health;
    f[p + "education"] = m.education;
    f[p + "id_number"] = m.id_number;
    f[p + "medical_insurance"] = m.medical_insurance ? "true" : "false";
  }
  return f;
}

std::vector<IdNumberAt> id_numbers_of(const ArchiveCard& c) {
  std::vector<IdNumberAt> out;
  for (std::size_t i = 0; i < c.members.size(); ++i)
    out.push_back({c.members[i].id_number, "members[" + std::to_string(i) + "].id_number"});
  return out;
}

Status write_card(db::Session& tx, HouseholdId id, const ArchiveCard& c) {
  CUNHUO_CHECK(claim_id_numbers(tx, id, id_numbers_of(c)));
  CUNHUO_TRY(tx.exec("DELETE FROM household_profiles WHERE household_id = ?", {id.value}));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO household_profiles (household_id, causes, land_mu_hundredths, housing, "
      "drinking_water, income_year, "
      "income_wages_fen, income_business_fen, income_property_fen, income_transfers_fen, "
      "helper_name, helper_phone, "
      "helper_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id.value, join(c.causes), c.land_mu_hundredths, c.housing, c.drinking_water, c.income.year,
       c.income.wages.fen(), c.income.own_business.fen(), c.income.property.fen(),
       c.income.transfers.fen(), c.helper_name, c.helper_phone, c.helper_account}));
  CUNHUO_TRY(tx.exec("DELETE FROM household_members WHERE household_id = ?", {id.value}));
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    const auto& m = c.members[i];
    CUNHUO_TRY(
        tx.exec("INSERT INTO household_members (household_id, position, name, relationship, "
                "birth_year, health, education, "
                "id_number, medical_insurance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {id.value, static_cast<std::int64_t>(i), m.name, m.relationship, m.birth_year,
                 m.health, m.education, m.id_number, m.medical_insurance ? 1 : 0}));
  }
  return {};
}

Status audit(db::Session& tx, HouseholdId id, std::string_view actor, const std::string& field,
             const std::string& old_value, const std::string& new_value, std::string_view reason,
             std::int64_t now) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO household_audit (household_id, actor, field, old_value, new_value, reason, at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {id.value, actor, field, old_value.substr(0, 500), new_value.substr(0, 500), reason, now}));
  return {};
}

}  // namespace

const std::vector<std::string>& poverty_causes() {
  static const std::vector<std::string> causes = {
      "illness",          "disability",     "education",          "natural_disaster",
      "land_shortage",    "water_shortage", "lack_of_technology", "labour_shortage",
      "capital_shortage", "poor_transport", "lack_of_motivation"};
  return causes;
}

std::span<const db::Migration> archive_migrations() { return kMigrations; }

Result<ArchiveCard> archive_card_from_json(const FieldReader& card) {
  CUNHUO_CHECK(card.only({"members", "causes", "land_mu_hundredths", "housing", "drinking_water",
                          "income", "helper"}));
  ArchiveCard c;
  for (const auto& m : CUNHUO_TRY(card.objects("members", 30))) {
    CUNHUO_CHECK(m.only({"name", "relationship", "birth_year", "health", "education", "id_number",
                         "medical_insurance"}));
    c.members.push_back(
        Member{CUNHUO_TRY(m.string("name", 100)), CUNHUO_TRY(m.string("relationship", 20)),
               static_cast<int>(CUNHUO_TRY(m.integer("birth_year", 0, 9999))),
               CUNHUO_TRY(m.string("health", 20)), CUNHUO_TRY(m.string("education", 20)),
               CUNHUO_TRY(m.string("id_number", 18)), CUNHUO_TRY(m.boolean("medical_insurance"))});
  }
  c.causes = CUNHUO_TRY(card.strings("causes", 20, 40));
  c.land_mu_hundredths =
      CUNHUO_TRY(card.integer("land_mu_hundredths", -1'000'000'000, 1'000'000'000));
  c.housing = CUNHUO_TRY(card.string("housing", 20));
  c.drinking_water = CUNHUO_TRY(card.string("drinking_water", 20));
  auto income = CUNHUO_TRY(card.object("income"));
  CUNHUO_CHECK(
      income.only({"year", "wages_fen", "own_business_fen", "property_fen", "transfers_fen"}));
  constexpr std::int64_t kBig = 1'000'000'000'000'000;
  c.income = Income{static_cast<int>(CUNHUO_TRY(income.integer("year", 0, 9999))),
                    Money::fen(CUNHUO_TRY(income.integer("wages_fen", -kBig, kBig))),
                    Money::fen(CUNHUO_TRY(income.integer("own_business_fen", -kBig, kBig))),
                    Money::fen(CUNHUO_TRY(income.integer("property_fen", -kBig, kBig))),
                    Money::fen(CUNHUO_TRY(income.integer("transfers_fen", -kBig, kBig)))};
  if (card.has("helper")) {
    auto helper = CUNHUO_TRY(card.object("helper"));
    CUNHUO_CHECK(helper.only({"name", "phone", "account_id"}));
    c.helper_name = CUNHUO_TRY(helper.optional_string("name", 100)).value_or("");
    c.helper_phone = CUNHUO_TRY(helper.optional_string("phone", 20)).value_or("");
    c.helper_account = CUNHUO_TRY(helper.optional_integer("account_id", 1, INT64_MAX));
  }
  return c;
}

Result<HouseholdId> register_household(db::Session& tx, const NewHousehold& household,
                                       const ArchiveCard& card, std::string_view actor,
                                       const Clock& clock) {
  CUNHUO_CHECK(check_card(card, clock.now_ms()));
  CUNHUO_CHECK(check_id_numbers_free(tx, std::nullopt, id_numbers_of(card)));
  NewHousehold h = household;
  h.head_name = card.members[0].name;
  h.head_id_number = card.members[0].id_number;
  h.member_count = static_cast<int>(card.members.size());
  auto id = CUNHUO_TRY(create_household(tx, h, clock));
  CUNHUO_CHECK(write_card(tx, id, card));
  CUNHUO_CHECK(audit(tx, id, actor, "household", "", "registered", "registration", clock.now_ms()));
  return id;
}

Result<std::optional<HouseholdRecord>> find_household_record(db::Session& s, HouseholdId id) {
  auto household = CUNHUO_TRY(find_household(s, id));
  if (!household) return std::optional<HouseholdRecord>();
  HouseholdRecord record{std::move(*household), {}};
  auto& c = record.card;
  auto p = CUNHUO_TRY(s.query_one(
      "SELECT causes, land_mu_hundredths, housing, drinking_water, income_year, income_wages_fen, "
      "income_business_fen, "
      "income_property_fen, income_transfers_fen, helper_name, helper_phone, helper_account_id "
      "FROM household_profiles WHERE household_id = ?",
      {id.value}));
  if (p) {
    c.causes = split(p->str(0));
    c.land_mu_hundredths = p->i64(1);
    c.housing = p->str(2);
    c.drinking_water = p->str(3);
    c.income = Income{static_cast<int>(p->i64(4)), Money::fen(p->i64(5)), Money::fen(p->i64(6)),
                      Money::fen(p->i64(7)), Money::fen(p->i64(8))};
    c.helper_name = p->str(9);
    c.helper_phone = p->str(10);
    c.helper_account = p->opt_i64(11);
  }
  for (const auto& m :
       CUNHUO_TRY(s.query("SELECT name, relationship, birth_year, health, education, id_number, "
                          "medical_insurance FROM household_members "
                          "WHERE household_id = ? ORDER BY position",
                          {id.value})))
    c.members.push_back(Member{m.str(0), m.str(1), static_cast<int>(m.i64(2)), m.str(3), m.str(4),
                               m.str(5), m.i64(6) != 0});
  return std::optional<HouseholdRecord>(std::move(record));
}

Result<HouseholdRecord> update_household_record(db::Session& tx, HouseholdId id,
                                                const ArchiveCard& card,
                                                std::optional<PovertyStatus> status,
                                                std::string_view actor, std::string_view reason,
                                                const Clock& clock) {
  if (reason.empty() || reason.size() > 500)
    return invalid("missing_field", "say why the card changes (1 to 500 bytes)", "reason");
  CUNHUO_CHECK(check_card(card, clock.now_ms()));
  auto current = CUNHUO_TRY(find_household_record(tx, id));
  if (!current)
    return make_error(ErrorKind::not_found, "unknown_household", "no such household", "id");
  if (current->household.merged_into)
    return make_error(ErrorKind::conflict, "household_merged",
                      "this household was merged into another; change that one", "id");
  const PovertyStatus new_status = status.value_or(current->household.status);
  const auto before = flatten(current->card, current->household.status);
  const auto after = flatten(card, new_status);
  const auto now = clock.now_ms();
  std::map<std::string, std::pair<std::string, std::string>> changes;
  for (const auto& [k, v] : before) changes[k].first = v;
  for (const auto& [k, v] : after) changes[k].second = v;
  for (const auto& [field, values] : changes)
    if (values.first != values.second)
      CUNHUO_CHECK(audit(tx, id, actor, field, values.first, values.second, reason, now));
  CUNHUO_CHECK(write_card(tx, id, card));
  CUNHUO_TRY(tx.exec(
      "UPDATE households SET head_name = ?, head_id_number = ?, member_count = ?, poverty_status = "
      "?, "
      "updated_at = ? WHERE id = ?",
      {card.members[0].name, card.members[0].id_number,
       static_cast<std::int64_t>(card.members.size()), to_string(new_status), now, id.value}));
  CUNHUO_TRY(outbox::publish(tx, kCardChanged, CardChanged{.household_id = id}.encode(), clock));
  auto updated = CUNHUO_TRY(find_household_record(tx, id));
  return std::move(*updated);
}

Status set_household_status(db::Session& tx, HouseholdId id, PovertyStatus status,
                            std::string_view actor, std::string_view reason, const Clock& clock) {
  if (reason.empty() || reason.size() > 500)
    return invalid("missing_field", "say why the status changes (1 to 500 bytes)", "reason");
  auto h = CUNHUO_TRY(find_household(tx, id));
  if (!h) return make_error(ErrorKind::not_found, "unknown_household", "no such household", "id");
  if (h->status == status) return {};
  const auto now = clock.now_ms();
  CUNHUO_CHECK(audit(tx, id, actor, "status", std::string(to_string(h->status)),
                     std::string(to_string(status)), reason, now));
  CUNHUO_TRY(tx.exec("UPDATE households SET poverty_status = ?, updated_at = ? WHERE id = ?",
                     {to_string(status), now, id.value}));
  CUNHUO_TRY(outbox::publish(tx, kCardChanged, CardChanged{.household_id = id}.encode(), clock));
  return {};
}

Status record_audit(db::Session& tx, HouseholdId id, std::string_view actor,
                    const std::string& field, const std::string& old_value,
                    const std::string& new_value, std::string_view reason, const Clock& clock) {
  return audit(tx, id, actor, field, old_value, new_value, reason, clock.now_ms());
}

Status mark_merged(db::Session& tx, HouseholdId gone, HouseholdId kept, std::string_view actor,
                   std::string_view reason, const Clock& clock) {
  auto record = CUNHUO_TRY(find_household_record(tx, gone));
  CUNHUO_ASSERT(record.has_value());
  const auto now = clock.now_ms();
  for (const auto& [field, value] : flatten(record->card, record->household.status))
    if (field.starts_with("members["))
      CUNHUO_CHECK(audit(tx, gone, actor, field, value, "", reason, now));
  CUNHUO_CHECK(audit(tx, gone, actor, "merged_into", "", std::to_string(kept.value), reason, now));
  CUNHUO_CHECK(release_id_numbers(tx, gone));
  CUNHUO_TRY(tx.exec("DELETE FROM household_members WHERE household_id = ?", {gone.value}));
  // Without a profile the household no longer counts in scoring: its people are on the kept card.
  CUNHUO_TRY(tx.exec("DELETE FROM household_profiles WHERE household_id = ?", {gone.value}));
  CUNHUO_TRY(tx.exec("UPDATE households SET merged_into = ?, updated_at = ? WHERE id = ?",
                     {kept.value, now, gone.value}));
  CUNHUO_TRY(outbox::publish(tx, kCardChanged, CardChanged{.household_id = gone}.encode(), clock));
  return {};
}

Result<std::optional<std::int64_t>> helper_of(db::Session& s, HouseholdId id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT helper_account_id FROM household_profiles WHERE household_id = ?", {id.value}));
  return row ? row->opt_i64(0) : std::optional<std::int64_t>();
}

Result<std::vector<Household>> households_helped_by(db::Session& s, std::int64_t account_id,
                                                    std::int64_t limit) {
  CUNHUO_ASSERT(limit > 0 && limit <= kMaxHelpedHouseholds);
  auto rows =
      CUNHUO_TRY(s.query("SELECT household_id FROM household_profiles WHERE "
                         "helper_account_id = ? ORDER BY household_id LIMIT ?",
                         {account_id, limit}));
  std::vector<Household> out;
  for (const auto& r : rows)
    if (auto h = CUNHUO_TRY(find_household(s, HouseholdId{r.i64(0)}))) out.push_back(*h);
  return out;
}

Result<std::int64_t> link_helper_account(db::Session& tx, std::string_view phone,
                                         std::int64_t account_id, std::string_view area) {
  auto linked = CUNHUO_TRY(
      tx.exec("UPDATE household_profiles SET helper_account_id = ? WHERE helper_phone = ? AND "
              "household_id IN (SELECT id FROM households WHERE village_code LIKE ?)",
              {account_id, phone, std::string(area) + "%"}));
  return linked.affected_rows;
}

Result<std::vector<AuditEntry>> household_audit(db::Session& s, HouseholdId id) {
  std::vector<AuditEntry> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT actor, field, old_value, new_value, at, reason FROM "
                          "household_audit WHERE household_id = ? ORDER BY id",
                          {id.value})))
    out.push_back(AuditEntry{r.str(0), r.str(1), r.str(2), r.str(3), r.i64(4), r.str(5)});
  return out;
}

Result<std::vector<HouseholdFacts>> household_facts(db::Session& s, std::string_view region_code,
                                                    std::int64_t after, int limit, int year) {
  std::vector<HouseholdFacts> out;
  const std::string like = std::string(region_code) + "%";
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT h.id, h.village_code, h.poverty_status, h.member_count, "
                          "p.income_wages_fen, p.income_business_fen, "
                          "p.income_property_fen, p.income_transfers_fen, p.housing, "
                          "p.drinking_water, p.helper_account_id FROM households h "
                          "JOIN household_profiles p ON p.household_id = h.id WHERE h.id > ? AND "
                          "h.village_code LIKE ? ORDER BY h.id LIMIT ?",
                          {after, like, limit}))) {
    HouseholdFacts f;
    f.id = HouseholdId{r.i64(0)};
    f.village_code = r.str(1);
    f.status = CUNHUO_TRY(parse_poverty_status(r.str(2)));
    f.members = std::max<int>(1, static_cast<int>(r.i64(3)));
    f.card_income = Money::fen(r.i64(4) + r.i64(5) + r.i64(6) + r.i64(7));
    f.wages_or_business = r.i64(4) > 0 || r.i64(5) > 0;
    f.housing_safe = r.str(8) != "unsafe";
    f.water_safe = r.str(9) == "safe";
    f.helper_account = r.opt_i64(10);
    out.push_back(std::move(f));
  }
  if (out.empty()) return out;
  // Members, counted per household in the same id range.
  std::map<std::int64_t, HouseholdFacts*> by_id;
  for (auto& f : out) by_id[f.id.value] = &f;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT household_id, COUNT(*), SUM(CASE WHEN medical_insurance = 0 THEN 1 ELSE 0 END), "
           "SUM(CASE WHEN ? - birth_year BETWEEN 6 AND 15 AND education IN ('none', 'preschool') "
           "THEN 1 ELSE 0 END) "
           "FROM household_members WHERE household_id > ? AND household_id <= ? GROUP BY "
           "household_id",
           {year, after, out.back().id.value}))) {
    auto it = by_id.find(r.i64(0));
    if (it == by_id.end()) continue;  // outside the region
    it->second->members = std::max<int>(1, static_cast<int>(r.i64(1)));
    it->second->uninsured = static_cast<int>(r.i64(2));
    it->second->school_age_out_of_school = static_cast<int>(r.i64(3));
  }
  return out;
}

std::string CardChanged::encode() const {
  JsonWriter w;
  w.begin_object().field("household_id", household_id.value).end_object();
  return w.take();
}

Result<CardChanged> CardChanged::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("CardChanged", payload));
  return CardChanged{.household_id = HouseholdId{CUNHUO_TRY(p.integer("household_id"))}};
}

}  // namespace cunhuo::marketplace
