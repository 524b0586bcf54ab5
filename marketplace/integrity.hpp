// Registry integrity: an ID number stands on at most one card across all households (heads
// and members), a phone shared by two households and a suspect card are raised as issues,
// and the office resolves each one by merging two households or correcting a field, with a
// reason; the household audit trail keeps the values before and after.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

using IssueId = Id<struct RegistryIssueTag>;

// A head younger than this (by the birth date in their ID number) makes the card suspect.
inline constexpr int kMinHeadAge = 16;
inline constexpr std::size_t kMaxResolutionReasonBytes = 500;

std::span<const db::Migration> integrity_migrations();

// An ID number with the input field it came from, for the refusal.
struct IdNumberAt {
  std::string id_number, field;
};
// Refuses (409 `id_number_taken`) a number another household's card holds. The refusal does
// not say which household: the caller may not be allowed to know. `self` may hold its own.
Status check_id_numbers_free(db::Session& s, std::optional<HouseholdId> self,
                             const std::vector<IdNumberAt>& numbers);
// Makes `numbers` the ones `household` holds, after the same check.
Status claim_id_numbers(db::Session& tx, HouseholdId household,
                        const std::vector<IdNumberAt>& numbers);
Status release_id_numbers(db::Session& tx, HouseholdId household);

// Raises a duplicate_phone issue when another household has `phone`; never refuses.
Status flag_shared_phone(db::Session& tx, HouseholdId household, std::string_view village_code,
                         std::string_view phone, const Clock& clock);

enum class IssueKind { duplicate_phone, suspect };
std::string_view to_string(IssueKind kind);
Result<IssueKind> parse_issue_kind(std::string_view text);

struct RegistryIssue {
  IssueId id;
  IssueKind kind = IssueKind::suspect;
  HouseholdId household;
  std::optional<HouseholdId> other;  // the second household of a duplicate
  std::string village_code;
  std::string detail;  // what is suspect: invalid_id_number:members[1], head_under_16, ...
  bool resolved = false;
  std::string action, reason;  // of the resolution
  std::int64_t created_at_ms = 0;
};

// Looks at every card in `region_code` for shared phones, ID numbers that fail their check
// or stand on two cards, and heads under kMinHeadAge; raises each once. Old data is what
// it finds: new cards are checked as they are written.
//
// A scan goes through the area's households by id, kRegistryScanBatch a transaction, and
// keeps its position in the store, so that a big area never holds one long transaction and
// a scan cut short (a crash, a restart) is resumed by the next start. An area has one scan
// at a time, and a new one starts at least kMinRegistryScanIntervalMs after the last.
inline constexpr std::int64_t kRegistryScanBatch = 200;                       // households
inline constexpr std::int64_t kMinRegistryScanIntervalMs = 10LL * 60 * 1000;  // 10 minutes
inline constexpr std::int64_t kRegistryScanStaleMs = 2LL * 60 * 1000;  // not advanced: resumable
inline constexpr std::string_view kScanRunning = "scan_running";
inline constexpr std::string_view kScanTooSoon = "scan_too_soon";
inline constexpr std::string_view kScanNotRunning = "scan_not_running";

struct RegistryScan {
  std::string region_code;
  bool running = false;
  std::string after_village;  // the last household looked at, by (village, id)
  std::int64_t after_household = 0;
  std::int64_t households = 0, raised = 0;
  std::int64_t started_at_ms = 0, updated_at_ms = 0;
};
// Starts the area's scan, or resumes one not advanced for kRegistryScanStaleMs. Refused
// with 409 kScanRunning while another runs, and kScanTooSoon within the interval.
Result<RegistryScan> start_registry_scan(db::Session& tx, std::string_view region_code,
                                         const Clock& clock);
// Looks at the running scan's next `batch` households; when fewer are left, it is done.
// Refused with 409 kScanNotRunning when the area's scan has ended (or never started).
Result<RegistryScan> continue_registry_scan(db::Session& tx, std::string_view region_code,
                                            std::int64_t batch, const Clock& clock);
// Starts (or resumes) and runs the scan to its end, each step in a transaction of its own.
Result<RegistryScan> scan_registry(db::Database& db, std::string_view region_code,
                                   std::int64_t batch, const Clock& clock);

struct IssueQuery {
  std::string region_code;
  std::optional<IssueKind> kind;
  std::int64_t after_id = 0;
  std::int64_t limit = 20;
};
// Issues in id order, open and resolved.
Result<std::vector<RegistryIssue>> list_issues(db::Session& s, const IssueQuery& query);
Result<std::optional<RegistryIssue>> find_issue(db::Session& s, IssueId id);

enum class ResolutionAction { merge, correct };
struct Resolution {
  ResolutionAction action = ResolutionAction::correct;
  std::string reason;
  std::optional<HouseholdId> into;       // merge: the household kept, one of the issue's
  std::optional<HouseholdId> household;  // correct: which of the issue's (default its first)
  std::string field;                     // correct: phone or id_number
  std::string value;
  int member_index = 0;  // correct id_number: the member on the card (0 is the head)
};
Result<RegistryIssue> resolve_issue(db::Session& tx, IssueId id, const Resolution& resolution,
                                    std::string_view actor, const Clock& clock);

}  // namespace cunhuo::marketplace
