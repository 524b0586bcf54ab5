// Exit is decided by people, with the machine's evidence. A household whose score reaches
// the threshold with no veto failed becomes a proposal; the village, then the township
// review it, the county approves, and a public notice (公示) runs for a configurable
// period during which anyone may object. An upheld objection rejects the proposal; an
// objection dismissed lets it go on; when the notice has closed with nothing open, the
// county marks the household exited. Every step keeps who, when and why. Scores alone
// never change a household's status.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::alleviation {

inline constexpr std::int64_t kDefaultNoticeMs = 7LL * 24 * 3600 * 1000;
// Why a step was taken or an objection resolved, kept with it.
inline constexpr std::size_t kMaxReasonBytes = 500;
// What one objection says.
inline constexpr std::size_t kMaxObjectionBytes = 2000;

// proposed → village_reviewed → township_reviewed → in_notice → exited, or rejected
struct ExitStep {
  std::string step, actor, decision, reason;
  std::int64_t at_ms = 0;
};

struct Objection {
  std::int64_t id = 0, proposal_id = 0;
  std::string text, status, resolution;  // status: open, upheld, dismissed
  std::int64_t lodged_at_ms = 0;
};

struct ExitProposal {
  std::int64_t id = 0, household_id = 0, evaluation_id = 0;
  std::string status;
  std::optional<std::int64_t> notice_ends_ms;
  std::vector<ExitStep> steps;
  std::vector<Objection> objections;
};

std::span<const db::Migration> exit_migrations();

// Published in the same transaction: the county approved an exit and its public notice
// opened; an objection was lodged against a notice. For the office's inbox.
inline constexpr const char* kExitNoticeOpened = "exit.notice_opened";
inline constexpr const char* kExitObjectionLodged = "exit.objection_lodged";
struct ExitNoticeOpened {
  std::int64_t proposal_id = 0, household_id = 0;

  std::string encode() const;  // {"proposal_id", "household_id"}
  static Result<ExitNoticeOpened> decode(std::string_view payload);
  bool operator==(const ExitNoticeOpened&) const = default;
};
struct ExitObjectionLodged {
  std::int64_t objection_id = 0, proposal_id = 0, household_id = 0;

  std::string encode() const;  // {"objection_id", "proposal_id", "household_id"}
  static Result<ExitObjectionLodged> decode(std::string_view payload);
  bool operator==(const ExitObjectionLodged&) const = default;
};

// Proposes the household's exit unless a proposal is already open for it.
struct Eligible {
  std::int64_t household_id = 0, evaluation_id = 0;
};
inline constexpr std::size_t kMaxProposalsPerBatch = 10'000;
// Proposes the exit of households the caller found may be proposed (registered poor, at
// risk or returned, with no proposal open; each once): a few statements for the batch, so
// re-scoring a county does not pay four round trips per eligible household.
Status propose_exits(db::Session& tx, std::span<const Eligible> batch, const Clock& clock);
Result<std::optional<std::int64_t>> propose_exit(db::Session& tx, std::int64_t household_id,
                                                 std::int64_t evaluation_id, const Clock& clock);
Result<std::optional<ExitProposal>> find_proposal(db::Session& s, std::int64_t id);
Result<std::vector<ExitProposal>> proposals_of(db::Session& s, std::int64_t household_id);

// level: "village" then "township"; a rejection closes the proposal.
Result<ExitProposal> review_proposal(db::Session& tx, std::int64_t id, std::string_view level,
                                     bool approve, std::string_view actor, std::string_view reason,
                                     const Clock& clock);
// The county's approval starts the notice; its rejection closes the proposal.
Result<ExitProposal> decide_proposal(db::Session& tx, std::int64_t id, bool approve,
                                     std::int64_t notice_ms, std::string_view actor,
                                     std::string_view reason, const Clock& clock);
// Objections one exit notice takes at most (they are anonymous; the office reads each).
inline constexpr std::int64_t kMaxObjectionsPerProposal = 200;
Result<Objection> lodge_objection(db::Session& tx, std::int64_t proposal_id, std::string_view text,
                                  const Clock& clock);
Result<ExitProposal> resolve_objection(db::Session& tx, std::int64_t objection_id, bool upheld,
                                       std::string_view actor, std::string_view reason,
                                       const Clock& clock);
// After the notice closed with no objection open: the household is marked exited.
Result<ExitProposal> complete_exit(db::Session& tx, std::int64_t id, std::string_view actor,
                                   std::string_view reason, const Clock& clock);

// Where a proposal waits, as the offices' queue names it:
//   village_review   proposed, for the village's review
//   township_review  village_reviewed, for the township's
//   county_decision  township_reviewed, for the county's decision
//   notice           in_notice with no objection open
//   objected         in_notice with an objection open, for the office to resolve
//   decided          exited or rejected
enum class ExitStage {
  village_review,
  township_review,
  county_decision,
  notice,
  objected,
  decided
};
std::string_view to_string(ExitStage stage);
Result<ExitStage> parse_exit_stage(std::string_view text);  // invalid_stage

// A proposal in a queue.
struct ProposalLine {
  std::int64_t id = 0, household_id = 0;
  std::string status;
  std::optional<std::int64_t> notice_ends_ms;
  std::int64_t open_objections = 0, updated_at_ms = 0;
};
// A page by id of the proposals at `stage` (every household's: the caller keeps its area's).
Result<std::vector<ProposalLine>> proposals_at(db::Session& s, ExitStage stage,
                                               std::int64_t after_id, std::int64_t limit);

// An objection in a queue, with the household its proposal is for.
struct ObjectionLine {
  Objection objection;
  std::int64_t household_id = 0;
};
Result<std::vector<ObjectionLine>> objections_with(db::Session& s, std::string_view status,
                                                   std::int64_t after_id, std::int64_t limit);
// open, upheld or dismissed; anything else is invalid_status.
Status check_objection_status(std::string_view status);

// What a public notice shows: a masked name, the village, the household's size and the
// proposed status; never ID numbers, phones, health or income.
struct Notice {
  std::int64_t proposal_id = 0, household_id = 0, ends_ms = 0;
  std::string village_code, masked_name;
  int members = 0;
};
inline constexpr int kMaxOpenProposals = 1'000'000;
// The households with an exit proposal under way (proposed, in review or in notice).
Result<std::vector<std::int64_t>> open_proposal_households(db::Session& s);

// Notices under way within `region_code`, for the public pages.
Result<std::vector<Notice>> notices_in(db::Session& s, std::string_view region_code,
                                       const Clock& clock);

}  // namespace cunhuo::alleviation
