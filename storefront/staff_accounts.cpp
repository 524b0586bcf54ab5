#include "storefront/staff_accounts.hpp"

#include <array>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/region.hpp"

namespace cunhuo::storefront {
namespace {

// farmer_claims: one row per invitation, its household claimed until an office decides.
// account_audit: who made, invited or decided on which account, where and when; county_code
// is the area's county, so a county office reads its own by one index.
constexpr db::Migration kMigrations[] = {
    {"storefront", 7, "farmer claims and the account audit",
     "CREATE TABLE IF NOT EXISTS farmer_claims (\n"
     "  id {{ID}},\n"
     "  account_id BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  invited_by BIGINT NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL DEFAULT '',\n"
     "  phone_matched INTEGER,\n"
     "  decided_by BIGINT,\n"
     "  decided_at BIGINT,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS farmer_claims_area ON farmer_claims (village_code, id);\n"
     "CREATE INDEX IF NOT EXISTS farmer_claims_account ON farmer_claims (account_id);\n"
     "CREATE TABLE IF NOT EXISTS account_audit (\n"
     "  id {{ID}},\n"
     "  at BIGINT NOT NULL,\n"
     "  actor_account BIGINT NOT NULL,\n"
     "  action VARCHAR(24) NOT NULL,\n"
     "  subject_account BIGINT NOT NULL,\n"
     "  area_code VARCHAR(12) NOT NULL,\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  detail VARCHAR(200) NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS account_audit_county ON account_audit (county_code, id);\n"},
};

constexpr std::array<CreationRule, 6> kCreationRules = {{
    {.creator = Creator::county_office,
     .role = Role::poverty_office,
     .placement = Placement::township,
     .own_county_only = true},
    {.creator = Creator::county_office,
     .role = Role::helper,
     .placement = Placement::any_area,
     .own_county_only = true},
    {.creator = Creator::county_centre,
     .role = Role::station_operator,
     .placement = Placement::station,
     .own_county_only = true},
    {.creator = Creator::admin,
     .role = Role::poverty_office,
     .placement = Placement::county_or_township,
     .own_county_only = false},
    {.creator = Creator::admin,
     .role = Role::helper,
     .placement = Placement::any_area,
     .own_county_only = false},
    {.creator = Creator::admin,
     .role = Role::station_operator,
     .placement = Placement::station,
     .own_county_only = false},
}};

constexpr EnumNames<ClaimStatus, 3> kClaimStatusNames = {{
    {ClaimStatus::pending, "pending"},
    {ClaimStatus::confirmed, "confirmed"},
    {ClaimStatus::refused, "refused"},
}};

constexpr EnumNames<AccountAction, 4> kActionNames = {{
    {AccountAction::account_created, "account_created"},
    {AccountAction::farmer_invited, "farmer_invited"},
    {AccountAction::claim_confirmed, "claim_confirmed"},
    {AccountAction::claim_refused, "claim_refused"},
}};

constexpr const char* kClaimColumns =
    "id, account_id, household_id, shop_id, village_code, invited_by, status, reason, "
    "phone_matched, decided_by, decided_at, created_at";

Result<FarmerClaim> claim_from(const db::Row& r) {
  auto status = CUNHUO_TRY(parse_claim_status(r.str(6)));
  std::optional<bool> matched;
  if (auto m = r.opt_i64(8)) matched = *m != 0;
  return FarmerClaim{.id = r.i64(0),
                     .account_id = r.i64(1),
                     .household_id = r.i64(2),
                     .shop_id = r.i64(3),
                     .invited_by = r.i64(5),
                     .village_code = r.str(4),
                     .status = status,
                     .reason = r.str(7),
                     .phone_matched = matched,
                     .decided_by = r.opt_i64(9),
                     .decided_at_ms = r.opt_i64(10),
                     .created_at_ms = r.i64(11)};
}

Result<AccountAction> parse_action(std::string_view text) {
  if (auto v = value_of(kActionNames, text)) return *v;
  return make_error(ErrorKind::internal, "unknown_action", "an unknown action in the audit");
}

// The LIKE pattern of codes within `area`; "" matches every code.
std::string within(std::string_view area) { return std::string(region_prefix(area)) + "%"; }

}  // namespace

std::span<const CreationRule> creation_rules() { return kCreationRules; }

std::optional<Creator> creator_kind(const Account& a) {
  switch (a.role) {
    case Role::admin: return Creator::admin;
    case Role::county_centre: return Creator::county_centre;
    case Role::poverty_office:
      if (a.region_code.size() == kCountyCodeDigits) return Creator::county_office;
      return std::nullopt;
    default: return std::nullopt;
  }
}

const CreationRule* creation_rule(Creator creator, Role role) {
  for (const auto& rule : kCreationRules)
    if (rule.creator == creator && rule.role == role) return &rule;
  return nullptr;
}

std::string_view to_string(ClaimStatus status) { return name_of(kClaimStatusNames, status); }

Result<ClaimStatus> parse_claim_status(std::string_view text) {
  if (auto v = value_of(kClaimStatusNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_status", "status is pending, confirmed or refused",
                    "status");
}

std::string_view to_string(AccountAction action) { return name_of(kActionNames, action); }

std::span<const db::Migration> staff_account_migrations() { return kMigrations; }

Result<std::int64_t> open_claim(db::Session& tx, const NewClaim& c, const Clock& clock) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO farmer_claims (account_id, household_id, shop_id, village_code, invited_by, "
      "status, reason, created_at) VALUES (?, ?, ?, ?, ?, 'pending', '', ?)",
      {c.account_id, c.household_id, c.shop_id, c.village_code, c.invited_by, clock.now_ms()}));
  return tx.last_insert_id();
}

Result<std::optional<FarmerClaim>> find_claim(db::Session& s, std::int64_t id) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kClaimColumns + " FROM farmer_claims WHERE id = ?", {id}));
  if (!row) return std::optional<FarmerClaim>();
  return std::optional<FarmerClaim>(CUNHUO_TRY(claim_from(*row)));
}

Status decide_claim(db::Session& tx, const ClaimDecision& d, const Clock& clock) {
  CUNHUO_ASSERT(d.status != ClaimStatus::pending);
  std::optional<std::int64_t> matched;
  if (d.phone_matched) matched = *d.phone_matched ? 1 : 0;
  // Conditional on pending, so two offices deciding at once cannot both win.
  auto updated = CUNHUO_TRY(
      tx.exec("UPDATE farmer_claims SET status = ?, reason = ?, phone_matched = ?, decided_by = ?, "
              "decided_at = ? WHERE id = ? AND status = 'pending'",
              {to_string(d.status), d.reason, matched, d.decided_by, clock.now_ms(), d.claim_id}));
  if (updated.affected_rows == 0)
    return make_error(ErrorKind::conflict, "claim_decided", "this claim was decided already");
  return {};
}

Result<std::vector<FarmerClaim>> claims_in(db::Session& s, std::string_view area,
                                           std::optional<ClaimStatus> status,
                                           const PageRequest& page) {
  const std::int64_t after = page.after ? page.after->at(0) : 0;
  const std::string status_name(status ? to_string(*status) : "");
  std::vector<FarmerClaim> out;
  for (const auto& r : CUNHUO_TRY(
           s.query(std::string("SELECT ") + kClaimColumns +
                       " FROM farmer_claims WHERE village_code LIKE ? AND (? = '' OR status = ?) "
                       "AND id > ? ORDER BY id LIMIT ?",
                   {within(area), status_name, status_name, after, page.limit + 1})))
    out.push_back(CUNHUO_TRY(claim_from(r)));
  return out;
}

Status record_account_action(db::Session& tx, const AccountAuditEntry& e, const Clock& clock) {
  CUNHUO_ASSERT(e.detail.size() <= kMaxAuditDetailBytes);
  CUNHUO_TRY(
      tx.exec("INSERT INTO account_audit (at, actor_account, action, subject_account, area_code, "
              "county_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
              {clock.now_ms(), e.actor, to_string(e.action), e.subject, e.area_code,
               county_of(e.area_code), e.detail}));
  return {};
}

Result<std::vector<AccountAuditEntry>> account_audit(db::Session& s, std::string_view county,
                                                     const PageRequest& page) {
  const std::int64_t before = page.after ? page.after->at(0) : INT64_MAX;
  std::vector<AccountAuditEntry> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT id, at, actor_account, action, subject_account, area_code, detail "
                   "FROM account_audit WHERE (? = '' OR county_code = ?) AND id < ? "
                   "ORDER BY id DESC LIMIT ?",
                   {county, county, before, page.limit + 1})))
    out.push_back(AccountAuditEntry{.id = r.i64(0),
                                    .at_ms = r.i64(1),
                                    .actor = r.i64(2),
                                    .action = CUNHUO_TRY(parse_action(r.str(3))),
                                    .subject = r.i64(4),
                                    .area_code = r.str(5),
                                    .detail = r.str(6)});
  return out;
}

}  // namespace cunhuo::storefront
