#include "alleviation/exits.hpp"

#include <algorithm>
#include <cassert>

#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::alleviation {
namespace {

constexpr db::Migration kMigrations[] = {
    {"alleviation", 2, "exit proposals, their steps, notices and objections",
     "CREATE TABLE IF NOT EXISTS exit_proposals (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  evaluation_id BIGINT NOT NULL,\n"
     "  status VARCHAR(20) NOT NULL,\n"
     "  notice_ends_at BIGINT,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS exit_proposals_household ON exit_proposals (household_id, "
     "status);\n"
     "CREATE INDEX IF NOT EXISTS exit_proposals_status ON exit_proposals (status, "
     "notice_ends_at);\n"
     "CREATE TABLE IF NOT EXISTS exit_steps (\n"
     "  id {{ID}},\n"
     "  proposal_id BIGINT NOT NULL,\n"
     "  step VARCHAR(24) NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  decision VARCHAR(10) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS exit_steps_proposal ON exit_steps (proposal_id, id);\n"
     "CREATE TABLE IF NOT EXISTS exit_objections (\n"
     "  id {{ID}},\n"
     "  proposal_id BIGINT NOT NULL,\n"
     "  text VARCHAR(2000) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  resolution VARCHAR(500) NOT NULL,\n"
     "  lodged_at BIGINT NOT NULL,\n"
     "  resolved_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS exit_objections_proposal ON exit_objections (proposal_id);\n"},
};

Error conflict(std::string code, std::string message) {
  return make_error(ErrorKind::conflict, std::move(code), std::move(message), "status");
}

Status check_reason(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonBytes)
    return make_error(ErrorKind::invalid, "missing_field", "say why (1 to 500 bytes)", "reason");
  return {};
}

constexpr std::size_t kProposalsPerStatement = 500;
static_assert(kProposalsPerStatement <= marketplace::kMaxPlacesPerCall);  // places read at once

Status step(db::Session& tx, std::int64_t id, std::string_view name, std::string_view actor,
            bool approve, std::string_view reason, std::int64_t now) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO exit_steps (proposal_id, step, actor, decision, reason, at) VALUES (?, "
              "?, ?, ?, ?, ?)",
              {id, name, actor, approve ? "approve" : "reject", reason, now}));
  return {};
}

// Moves the proposal from `from` to `to` (or to rejected), recording the step.
Result<ExitProposal> advance(db::Session& tx, std::int64_t id, std::string_view from,
                             std::string_view to, std::string_view step_name, bool approve,
                             std::string_view actor, std::string_view reason, const Clock& clock,
                             std::optional<std::int64_t> notice_ends = std::nullopt) {
  CUNHUO_CHECK(check_reason(reason));
  auto p = CUNHUO_TRY(find_proposal(tx, id));
  if (!p) return make_error(ErrorKind::not_found, "not_found", "no such exit proposal", "id");
  if (p->status != from)
    return conflict("out_of_order", "this proposal is " + p->status + "; " +
                                        std::string(step_name) + " comes when it is " +
                                        std::string(from));
  const auto now = clock.now_ms();
  const std::string next = approve ? std::string(to) : "rejected";
  CUNHUO_TRY(
      tx.exec("UPDATE exit_proposals SET status = ?, notice_ends_at = COALESCE(?, notice_ends_at), "
              "updated_at = ? WHERE id = ? AND status = ?",
              {next, notice_ends, now, id, from}));
  CUNHUO_CHECK(step(tx, id, step_name, actor, approve, reason, now));
  return std::move(*CUNHUO_TRY(find_proposal(tx, id)));
}

}  // namespace

std::span<const db::Migration> exit_migrations() { return kMigrations; }

Result<std::optional<std::int64_t>> propose_exit(db::Session& tx, std::int64_t household_id,
                                                 std::int64_t evaluation_id, const Clock& clock) {
  auto h = CUNHUO_TRY(marketplace::find_household(tx, marketplace::HouseholdId{household_id}));
  if (!h || (h->status != marketplace::PovertyStatus::registered_poor &&
             h->status != marketplace::PovertyStatus::returned_to_poverty &&
             h->status != marketplace::PovertyStatus::at_risk))
    return std::optional<std::int64_t>();
  if (CUNHUO_TRY(tx.query_one("SELECT id FROM exit_proposals WHERE household_id = ? AND status NOT "
                              "IN ('exited', 'rejected')",
                              {household_id})))
    return std::optional<std::int64_t>();
  const Eligible one{household_id, evaluation_id};
  CUNHUO_CHECK(propose_exits(tx, std::span(&one, 1), clock));
  auto made = CUNHUO_TRY(
      tx.query_one("SELECT id FROM exit_proposals WHERE household_id = ? AND status = 'proposed'",
                   {household_id}));
  assert(made && "the proposal was just written");
  return std::optional<std::int64_t>(made->i64(0));
}

Status propose_exits(db::Session& tx, std::span<const Eligible> batch, const Clock& clock) {
  assert(batch.size() <= kMaxProposalsPerBatch);
  const auto now = clock.now_ms();
  for (std::size_t at = 0; at < batch.size(); at += kProposalsPerStatement) {
    const auto part = batch.subspan(at, std::min(kProposalsPerStatement, batch.size() - at));
    std::vector<db::Value> proposals, households;
    std::vector<std::int64_t> ids;
    for (const auto& e : part) ids.push_back(e.household_id);
    // The village is kept with the proposal: the offices' queues count by it.
    const auto places = CUNHUO_TRY(marketplace::household_places(tx, ids));
    for (const auto& e : part) {
      auto place = places.find(e.household_id);
      const std::string village = place == places.end() ? "" : place->second.village_code;
      proposals.insert(proposals.end(), {e.household_id, e.evaluation_id, village, now, now});
      households.emplace_back(e.household_id);
    }
    CUNHUO_TRY(
        tx.exec_with("INSERT INTO exit_proposals (household_id, evaluation_id, status, "
                     "village_code, created_at, updated_at) VALUES " +
                         db::row_list("(?, ?, 'proposed', ?, ?, ?)", part.size()),
                     proposals));
    // A household has one proposal open at most, so the new ids are found by household.
    std::vector<db::Value> steps;
    for (const auto& r :
         CUNHUO_TRY(tx.query_with("SELECT id, evaluation_id FROM exit_proposals WHERE status = "
                                  "'proposed' AND household_id IN (" +
                                      db::placeholders(part.size()) + ")",
                                  households)))
      steps.insert(steps.end(), {r.i64(0),
                                 "score at the exit threshold with no veto failed (evaluation " +
                                     std::to_string(r.i64(1)) + ")",
                                 now});
    assert(steps.size() == part.size() * 3 && "one new proposal per household");
    CUNHUO_TRY(tx.exec_with(
        "INSERT INTO exit_steps (proposal_id, step, actor, decision, reason, at) VALUES " +
            db::row_list("(?, 'propose', 'system', 'approve', ?, ?)", part.size()),
        steps));
  }
  return {};
}

Result<std::optional<ExitProposal>> find_proposal(db::Session& s, std::int64_t id) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT id, household_id, evaluation_id, status, notice_ends_at FROM "
                             "exit_proposals WHERE id = ?",
                             {id}));
  if (!r) return std::optional<ExitProposal>();
  ExitProposal p{r->i64(0), r->i64(1), r->i64(2), r->str(3), r->opt_i64(4), {}, {}};
  for (const auto& st : CUNHUO_TRY(s.query("SELECT step, actor, decision, reason, at FROM "
                                           "exit_steps WHERE proposal_id = ? ORDER BY id",
                                           {id})))
    p.steps.push_back(ExitStep{st.str(0), st.str(1), st.str(2), st.str(3), st.i64(4)});
  for (const auto& o : CUNHUO_TRY(s.query("SELECT id, text, status, resolution, lodged_at FROM "
                                          "exit_objections WHERE proposal_id = ? ORDER BY id",
                                          {id})))
    p.objections.push_back(Objection{o.i64(0), id, o.str(1), o.str(2), o.str(3), o.i64(4)});
  return std::optional<ExitProposal>(std::move(p));
}

Result<std::vector<ExitProposal>> proposals_of(db::Session& s, std::int64_t household_id) {
  std::vector<ExitProposal> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT id FROM exit_proposals WHERE household_id = ? ORDER BY id DESC",
                          {household_id})))
    out.push_back(std::move(*CUNHUO_TRY(find_proposal(s, r.i64(0)))));
  return out;
}

Result<ExitProposal> review_proposal(db::Session& tx, std::int64_t id, std::string_view level,
                                     bool approve, std::string_view actor, std::string_view reason,
                                     const Clock& clock) {
  if (level == "village")
    return advance(tx, id, "proposed", "village_reviewed", "village_review", approve, actor, reason,
                   clock);
  if (level == "township")
    return advance(tx, id, "village_reviewed", "township_reviewed", "township_review", approve,
                   actor, reason, clock);
  return make_error(ErrorKind::invalid, "invalid_level",
                    "a review is by the village or the township", "level");
}

Result<ExitProposal> decide_proposal(db::Session& tx, std::int64_t id, bool approve,
                                     std::int64_t notice_ms, std::string_view actor,
                                     std::string_view reason, const Clock& clock) {
  auto p = CUNHUO_TRY(advance(
      tx, id, "township_reviewed", "in_notice", "county_approval", approve, actor, reason, clock,
      approve ? std::optional<std::int64_t>(clock.now_ms() + notice_ms) : std::nullopt));
  if (approve) {
    const ExitNoticeOpened opened{.proposal_id = p.id, .household_id = p.household_id};
    CUNHUO_TRY(outbox::publish(tx, kExitNoticeOpened, opened.encode(), clock));
  }
  return p;
}

Result<Objection> lodge_objection(db::Session& tx, std::int64_t proposal_id, std::string_view text,
                                  const Clock& clock) {
  if (text.empty() || text.size() > kMaxObjectionBytes)
    return make_error(ErrorKind::invalid, "invalid_length", "an objection is 1 to 2000 bytes",
                      "text");
  auto p = CUNHUO_TRY(find_proposal(tx, proposal_id));
  if (!p) return make_error(ErrorKind::not_found, "not_found", "no such notice", "id");
  const auto now = clock.now_ms();
  if (p->status != "in_notice" || !p->notice_ends_ms || now >= *p->notice_ends_ms)
    return conflict("notice_closed", "objections are taken only while the notice runs");
  // Anyone may object, unauthenticated: a notice's objections are bounded so that one
  // client cannot fill the store or bury the office's queue.
  auto lodged = CUNHUO_TRY(
      tx.query_one("SELECT COUNT(*) FROM exit_objections WHERE proposal_id = ?", {proposal_id}));
  if (lodged->i64(0) >= kMaxObjectionsPerProposal)
    return conflict("too_many_objections",
                    "this notice has taken as many objections as it can; contact the office");
  CUNHUO_TRY(
      tx.exec("INSERT INTO exit_objections (proposal_id, text, status, resolution, lodged_at) "
              "VALUES (?, ?, 'open', '', ?)",
              {proposal_id, text, now}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  const ExitObjectionLodged lodged_event{
      .objection_id = id, .proposal_id = proposal_id, .household_id = p->household_id};
  CUNHUO_TRY(outbox::publish(tx, kExitObjectionLodged, lodged_event.encode(), clock));
  return Objection{id, proposal_id, std::string(text), "open", "", now};
}

Result<ExitProposal> resolve_objection(db::Session& tx, std::int64_t objection_id, bool upheld,
                                       std::string_view actor, std::string_view reason,
                                       const Clock& clock) {
  CUNHUO_CHECK(check_reason(reason));
  auto o = CUNHUO_TRY(
      tx.query_one("SELECT proposal_id, status FROM exit_objections WHERE id = ?", {objection_id}));
  if (!o) return make_error(ErrorKind::not_found, "not_found", "no such objection", "id");
  if (o->str(1) != "open") return conflict("already_resolved", "this objection was " + o->str(1));
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("UPDATE exit_objections SET status = ?, resolution = ?, resolved_at = ? WHERE id = ?",
              {upheld ? "upheld" : "dismissed", reason, now, objection_id}));
  const std::int64_t proposal = o->i64(0);
  CUNHUO_CHECK(step(tx, proposal, "objection_resolution", actor, !upheld, reason, now));
  if (upheld)
    CUNHUO_TRY(tx.exec("UPDATE exit_proposals SET status = 'rejected', updated_at = ? WHERE id = ?",
                       {now, proposal}));
  return std::move(*CUNHUO_TRY(find_proposal(tx, proposal)));
}

Result<ExitProposal> complete_exit(db::Session& tx, std::int64_t id, std::string_view actor,
                                   std::string_view reason, const Clock& clock) {
  CUNHUO_CHECK(check_reason(reason));
  auto p = CUNHUO_TRY(find_proposal(tx, id));
  if (!p) return make_error(ErrorKind::not_found, "not_found", "no such exit proposal", "id");
  if (p->status != "in_notice")
    return conflict("out_of_order", "this proposal is " + p->status + "; exit follows the notice");
  if (clock.now_ms() < *p->notice_ends_ms)
    return conflict("notice_running", "the notice has not closed yet");
  for (const auto& o : p->objections)
    if (o.status == "open") return conflict("objection_open", "an objection is still open");
  CUNHUO_CHECK(marketplace::set_household_status(tx, marketplace::HouseholdId{p->household_id},
                                                 marketplace::PovertyStatus::exited, actor, reason,
                                                 clock));
  return advance(tx, id, "in_notice", "exited", "exit", true, actor, reason, clock);
}

namespace {

constexpr EnumNames<ExitStage, 6> kStageNames = {{
    {ExitStage::village_review, "village_review"},
    {ExitStage::township_review, "township_review"},
    {ExitStage::county_decision, "county_decision"},
    {ExitStage::notice, "notice"},
    {ExitStage::objected, "objected"},
    {ExitStage::decided, "decided"},
}};

constexpr const char* kOpenObjections =
    "(SELECT COUNT(*) FROM exit_objections o WHERE o.proposal_id = p.id AND o.status = 'open')";

std::string stage_condition(ExitStage stage) {
  switch (stage) {
    case ExitStage::village_review: return "p.status = 'proposed'";
    case ExitStage::township_review: return "p.status = 'village_reviewed'";
    case ExitStage::county_decision: return "p.status = 'township_reviewed'";
    case ExitStage::notice:
      return std::string("p.status = 'in_notice' AND ") + kOpenObjections + " = 0";
    case ExitStage::objected:
      return std::string("p.status = 'in_notice' AND ") + kOpenObjections + " > 0";
    case ExitStage::decided: return "p.status IN ('exited', 'rejected')";
  }
  return "1 = 0";
}

}  // namespace

std::string_view to_string(ExitStage stage) { return name_of(kStageNames, stage); }

Result<ExitStage> parse_exit_stage(std::string_view text) {
  if (auto s = value_of(kStageNames, text)) return *s;
  return make_error(ErrorKind::invalid, "invalid_stage",
                    "village_review, township_review, county_decision, notice, objected or decided",
                    "stage");
}

Result<std::vector<ProposalLine>> proposals_at(db::Session& s, ExitStage stage,
                                               std::int64_t after_id, std::int64_t limit) {
  std::vector<ProposalLine> out;
  for (const auto& r :
       CUNHUO_TRY(s.query(std::string("SELECT p.id, p.household_id, p.status, p.notice_ends_at, ") +
                              kOpenObjections + ", p.updated_at FROM exit_proposals p WHERE " +
                              stage_condition(stage) + " AND p.id > ? ORDER BY p.id LIMIT ?",
                          {after_id, limit})))
    out.push_back(ProposalLine{.id = r.i64(0),
                               .household_id = r.i64(1),
                               .status = r.str(2),
                               .notice_ends_ms = r.opt_i64(3),
                               .open_objections = r.i64(4),
                               .updated_at_ms = r.i64(5)});
  return out;
}

Status check_objection_status(std::string_view status) {
  if (status == "open" || status == "upheld" || status == "dismissed") return {};
  return make_error(ErrorKind::invalid, "invalid_status", "open, upheld or dismissed", "status");
}

Result<std::vector<ObjectionLine>> objections_with(db::Session& s, std::string_view status,
                                                   std::int64_t after_id, std::int64_t limit) {
  CUNHUO_CHECK(check_objection_status(status));
  std::vector<ObjectionLine> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT o.id, o.proposal_id, o.text, o.status, o.resolution, o.lodged_at, "
                   "p.household_id FROM exit_objections o JOIN exit_proposals p ON p.id = "
                   "o.proposal_id WHERE o.status = ? AND o.id > ? ORDER BY o.id LIMIT ?",
                   {status, after_id, limit})))
    out.push_back(ObjectionLine{
        .objection = Objection{r.i64(0), r.i64(1), r.str(2), r.str(3), r.str(4), r.i64(5)},
        .household_id = r.i64(6)});
  return out;
}

Result<std::vector<std::int64_t>> open_proposal_households(db::Session& s) {
  std::vector<std::int64_t> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT household_id FROM exit_proposals WHERE status NOT IN ('exited', 'rejected') "
           "ORDER BY household_id LIMIT " +
           std::to_string(kMaxOpenProposals))))
    out.push_back(r.i64(0));
  return out;
}

Result<std::vector<Notice>> notices_in(db::Session& s, std::string_view region_code,
                                       const Clock& clock) {
  std::vector<Notice> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT id, household_id, notice_ends_at FROM exit_proposals WHERE status = 'in_notice' "
           "AND notice_ends_at > ? ORDER BY notice_ends_at",
           {clock.now_ms()}))) {
    auto h = CUNHUO_TRY(marketplace::find_household(s, marketplace::HouseholdId{r.i64(1)}));
    if (!h || !region_within(h->village_code, region_code)) continue;
    out.push_back(Notice{r.i64(0), r.i64(1), r.i64(2), h->village_code, mask_name(h->head_name),
                         h->member_count});
  }
  return out;
}

std::string ExitNoticeOpened::encode() const {
  JsonWriter w;
  w.begin_object().field("proposal_id", proposal_id).field("household_id", household_id);
  w.end_object();
  return w.take();
}

Result<ExitNoticeOpened> ExitNoticeOpened::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("ExitNoticeOpened", payload));
  return ExitNoticeOpened{.proposal_id = CUNHUO_TRY(p.integer("proposal_id")),
                          .household_id = CUNHUO_TRY(p.integer("household_id"))};
}

std::string ExitObjectionLodged::encode() const {
  JsonWriter w;
  w.begin_object().field("objection_id", objection_id).field("proposal_id", proposal_id);
  w.field("household_id", household_id).end_object();
  return w.take();
}

Result<ExitObjectionLodged> ExitObjectionLodged::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("ExitObjectionLodged", payload));
  return ExitObjectionLodged{.objection_id = CUNHUO_TRY(p.integer("objection_id")),
                             .proposal_id = CUNHUO_TRY(p.integer("proposal_id")),
                             .household_id = CUNHUO_TRY(p.integer("household_id"))};
}

}  // namespace cunhuo::alleviation
