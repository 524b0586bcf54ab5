// The household's archive card (建档立卡): members with relationship, age, health,
// education and ID number; causes of poverty; cultivated land; housing safety; drinking
// water; yearly income in the four official categories; the assigned helper; and the
// registration status. Sensitive fields are stored whole and shown masked to roles that
// do not need them. Every change is kept as an audit trail of old and new values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/json.hpp"
#include "core/money.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

// The causes of poverty recorded per household (the papers' list).
const std::vector<std::string>& poverty_causes();

struct Member {
  std::string name,
      relationship;  // relationship to the head: head, spouse, child, parent, grandchild, other
  int birth_year = 0;
  std::string health;     // healthy, chronic_illness, serious_illness, disabled
  std::string education;  // none, primary, junior, senior, vocational, college, in_school
  std::string id_number;
  bool medical_insurance = false;
};

struct Income {
  int year = 0;
  Money wages, own_business, property, transfers;  // yearly, in fen
};

struct ArchiveCard {
  std::vector<Member> members;
  std::vector<std::string> causes;
  std::int64_t land_mu_hundredths = 0;  // cultivated land in 0.01 mu
  std::string housing = "safe";         // safe, unsafe, renovated
  std::string drinking_water = "safe";  // safe, unsafe
  Income income;
  std::string helper_name, helper_phone;
  std::optional<std::int64_t> helper_account;
};

struct HouseholdRecord {
  Household household;
  ArchiveCard card;
};

struct AuditEntry {
  std::string actor, field, old_value, new_value;
  std::int64_t at_ms = 0;
  std::string reason;
};

std::span<const db::Migration> archive_migrations();

// Reads a card from JSON: {members:[{name, relationship, birth_year, health, education,
// id_number, medical_insurance}], causes:[...], land_mu_hundredths, housing,
// drinking_water, income:{year, wages_fen, own_business_fen, property_fen, transfers_fen},
// helper:{name, phone, account_id}}. Shapes and types only; register/update check values.
Result<ArchiveCard> archive_card_from_json(const FieldReader& card);

// Creates a household with its card (the head is the first member).
Result<HouseholdId> register_household(db::Session& tx, const NewHousehold& household,
                                       const ArchiveCard& card, std::string_view actor,
                                       const Clock& clock);
Result<std::optional<HouseholdRecord>> find_household_record(db::Session& s, HouseholdId id);
// Published when a household's card or registration status changes: whoever scores
// households scores this one again.
inline constexpr const char* kCardChanged = "household.card_changed";
struct CardChanged {
  HouseholdId household_id;

  std::string encode() const;  // {"household_id"}
  static Result<CardChanged> decode(std::string_view payload);
  bool operator==(const CardChanged&) const = default;
};

// Replaces the card (and optionally the status), recording every changed field.
Result<HouseholdRecord> update_household_record(db::Session& tx, HouseholdId id,
                                                const ArchiveCard& card,
                                                std::optional<PovertyStatus> status,
                                                std::string_view actor, std::string_view reason,
                                                const Clock& clock);
// The account of the household's assigned helper (帮扶责任人), when the card names one.
Result<std::optional<std::int64_t>> helper_of(db::Session& s, HouseholdId id);
// The households whose card names `account_id` as their helper, by id, at most `limit`.
inline constexpr std::int64_t kMaxHelpedHouseholds = 200;
Result<std::vector<Household>> households_helped_by(db::Session& s, std::int64_t account_id,
                                                    std::int64_t limit);
// Links the cards of households in `area` (a region code) that name a helper by `phone` to
// that helper's account; returns how many. A helper made in one county never serves another's.
Result<std::int64_t> link_helper_account(db::Session& tx, std::string_view phone,
                                         std::int64_t account_id, std::string_view area);
// One audit entry of a change made outside the card (a phone corrected, a head's ID number).
Status record_audit(db::Session& tx, HouseholdId id, std::string_view actor,
                    const std::string& field, const std::string& old_value,
                    const std::string& new_value, std::string_view reason, const Clock& clock);
// Marks `gone` merged into `kept` once its members are on kept's card: its members, profile
// and ID numbers leave it (the audit keeps each value before), and it names `kept`.
Status mark_merged(db::Session& tx, HouseholdId gone, HouseholdId kept, std::string_view actor,
                   std::string_view reason, const Clock& clock);
Result<std::vector<AuditEntry>> household_audit(db::Session& s, HouseholdId id);
// Changes only the registration status (an exit decided, a return to poverty), audited;
// a change needs a reason.
Status set_household_status(db::Session& tx, HouseholdId id, PovertyStatus status,
                            std::string_view actor, std::string_view reason, const Clock& clock);

// What exit evaluation reads from the registry, for a page of households in id order.
struct HouseholdFacts {
  HouseholdId id;
  std::string village_code;
  PovertyStatus status = PovertyStatus::not_registered;
  int members = 1;
  Money card_income;  // wages + own business + property + transfers, yearly
  bool wages_or_business = false;
  bool housing_safe = false, water_safe = false;
  int school_age_out_of_school = 0;  // aged 6 to 15 in `year`, with no schooling recorded
  int uninsured = 0;
  std::optional<std::int64_t>
      helper_account;  // the assigned helper (帮扶责任人), when they have an account
};
// Households with a card, within `region_code` ("" for all), id greater than `after`,
// at most `limit`; two queries however many households.
Result<std::vector<HouseholdFacts>> household_facts(db::Session& s, std::string_view region_code,
                                                    std::int64_t after, int limit, int year);

}  // namespace cunhuo::marketplace
