// Accounts made by the people who vouch for them. A county office makes its township
// offices and helpers, a county centre the operators of its township stations, a
// cooperative's manager invites its member farmers, and a farmer's account is tied to a
// household only once an office has confirmed it against the household's card. Every
// creation, invitation and decision is kept in the account audit, with who, whom and where.
//
// Who may create whom, read as a table (creation_rules() holds it):
//
//   creator                    creates            placed at
//   county office              poverty_office     a township of its county
//   (poverty_office, 6 digits) helper             its county, a township or village in it
//   county centre              station_operator   a township station of its county (node_code)
//   admin                      poverty_office     a county or township anywhere
//                              helper             any county, township or village
//                              station_operator   any township station
//
// Anyone else creates no one. Accounts made here have no password: their owner logs in by
// a code sent to their phone.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

inline constexpr std::size_t kMaxDisplayNameBytes = 100;
inline constexpr std::size_t kMaxRoleNameBytes = 24;
inline constexpr std::size_t kMaxNodeCodeBytes = 40;
inline constexpr std::size_t kMaxDecisionReasonBytes = 500;
inline constexpr std::size_t kMaxAuditDetailBytes = 200;

enum class Creator { county_office, county_centre, admin };
// Where a created account may be placed: the level of its region code, or a station.
enum class Placement { township, county_or_township, any_area, station };

struct CreationRule {
  Creator creator = Creator::admin;
  Role role = Role::helper;
  Placement placement = Placement::any_area;
  bool own_county_only = true;  // within the creator's county (all but the admin's rows)
};

std::span<const CreationRule> creation_rules();
// The kind of creator an account is; none for an account that creates no one (a township
// office among them).
std::optional<Creator> creator_kind(const Account& account);
const CreationRule* creation_rule(Creator creator, Role role);

// A farmer's claim to a household, from the invitation until an office decides it.
enum class ClaimStatus { pending, confirmed, refused };
std::string_view to_string(ClaimStatus status);
Result<ClaimStatus> parse_claim_status(std::string_view text);

struct NewClaim {
  std::int64_t account_id = 0, household_id = 0, shop_id = 0, invited_by = 0;
  std::string village_code;  // the household's, when invited: the area that decides
};

struct FarmerClaim {
  std::int64_t id = 0, account_id = 0, household_id = 0, shop_id = 0, invited_by = 0;
  std::string village_code;
  ClaimStatus status = ClaimStatus::pending;
  std::string reason;
  std::optional<bool> phone_matched;  // on confirmation: the account's phone is the card's
  std::optional<std::int64_t> decided_by, decided_at_ms;
  std::int64_t created_at_ms = 0;
};

struct ClaimDecision {
  std::int64_t claim_id = 0, decided_by = 0;
  ClaimStatus status = ClaimStatus::confirmed;
  std::string reason;
  std::optional<bool> phone_matched;
};

Result<std::int64_t> open_claim(db::Session& tx, const NewClaim& claim, const Clock& clock);
Result<std::optional<FarmerClaim>> find_claim(db::Session& s, std::int64_t id);
// A pending claim becomes decided; one decided already is a 409 `claim_decided`.
Status decide_claim(db::Session& tx, const ClaimDecision& decision, const Clock& clock);
// Claims of households within `area` ("" for all), by id, after the page's position.
Result<std::vector<FarmerClaim>> claims_in(db::Session& s, std::string_view area,
                                           std::optional<ClaimStatus> status,
                                           const PageRequest& page);

// The account audit.
enum class AccountAction { account_created, farmer_invited, claim_confirmed, claim_refused };
std::string_view to_string(AccountAction action);

struct AccountAuditEntry {
  std::int64_t id = 0, at_ms = 0;
  std::int64_t actor = 0;  // the account that acted
  AccountAction action = AccountAction::account_created;
  std::int64_t subject = 0;  // the account made, invited or decided on
  std::string area_code;     // where: the subject's area, or the claimed household's village
  std::string detail;        // the role made, or the household claimed
};

Status record_account_action(db::Session& tx, const AccountAuditEntry& entry, const Clock& clock);
// Entries within `county` ("" for all), newest first, after the page's position.
Result<std::vector<AccountAuditEntry>> account_audit(db::Session& s, std::string_view county,
                                                     const PageRequest& page);

std::span<const db::Migration> staff_account_migrations();

struct StaffAccountsContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  const CursorSeal& cursors;
};

// POST /api/v1/accounts/staff, POST /api/v1/shops/{id}/invitations,
// GET /api/v1/farmer-claims, POST /api/v1/farmer-claims/{id}/decision,
// GET /api/v1/account-audit.
void add_staff_account_routes(RouteTable& table, StaffAccountsContext context);

}  // namespace cunhuo::storefront
