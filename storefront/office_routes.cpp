#include "storefront/office_routes.hpp"

#include <functional>
#include <map>
#include <set>

#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/registry.hpp"
#include "storefront/policy.hpp"
#include "storefront/route_support.hpp"
#include "storefront/schema.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace mk = cunhuo::marketplace;

// A queue whose area is known only after its rows are read (a proposal's household lives
// somewhere) is read in batches and filtered; one call reads at most kMaxScannedRows, and
// when it stops short its cursor resumes after the last row read, so a page may be short
// yet never wrong.
constexpr std::int64_t kScanBatch = 200;
constexpr std::int64_t kMaxScannedRows = 2000;
static_assert(kScanBatch <= static_cast<std::int64_t>(al::kMaxStandingsPerCall) &&
              kScanBatch <= static_cast<std::int64_t>(al::kMaxRiskPerCall) &&
              kScanBatch <= static_cast<std::int64_t>(mk::kMaxPlacesPerCall));

template <class Item>
struct Scanned {
  std::vector<Item> items;
  std::optional<std::int64_t> next_after;  // where the next page starts; none: the end
};

// Reads rows by id after `after` with `fetch(after, n)`, keeps those `keep` says of each
// batch, up to `limit`.
template <class Item>
Result<Scanned<Item>> scan_page(
    std::int64_t after, std::int64_t limit,
    const std::function<Result<std::vector<Item>>(std::int64_t, std::int64_t)>& fetch,
    const std::function<Result<std::vector<bool>>(const std::vector<Item>&)>& keep,
    const std::function<std::int64_t(const Item&)>& id_of) {
  Scanned<Item> out;
  std::int64_t scanned = 0;
  while (scanned < kMaxScannedRows) {
    const auto batch = CUNHUO_TRY(fetch(after, kScanBatch));
    const auto kept = CUNHUO_TRY(keep(batch));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!kept[i]) continue;
      if (static_cast<std::int64_t>(out.items.size()) == limit) {
        out.next_after = id_of(out.items.back());
        return out;
      }
      out.items.push_back(batch[i]);
    }
    if (static_cast<std::int64_t>(batch.size()) < kScanBatch) return out;
    after = id_of(batch.back());
    scanned += kScanBatch;
  }
  out.next_after = after;
  return out;
}

// The area a caller's queues cover: an office's or centre's own region, admin everything ("").
std::string area_of(const Account& a) { return a.role == Role::admin ? "" : a.region_code; }

// ?village=: a village code within the caller's area.
Result<std::optional<std::string>> village_filter(const Account& a, const Request& req) {
  auto village = req.query_param("village");
  if (!village) return village;
  auto level = region_level(*village, "village");
  if (!level.ok() || *level != RegionLevel::village)
    return make_error(ErrorKind::invalid, "invalid_region_code", "name a 12-digit village code",
                      "village");
  if (!region_within(*village, area_of(a)))
    return make_error(ErrorKind::forbidden, "outside_your_area", "that village is not in your area",
                      "village");
  return village;
}

Result<PageRequest> page_of(const OfficeContext& ctx, const Request& req, const std::string& list) {
  return read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1);
}

void write_next(JsonWriter& w, const OfficeContext& ctx, const std::string& list,
                std::optional<std::int64_t> after) {
  w.key("next_cursor");
  if (after)
    w.value(ctx.cursors.seal(list, {*after}));
  else
    w.null();
}

std::vector<QueryParam> paging() {
  return {{.name = "limit", .type = "integer", .description = "1 to 100; 20 by default"},
          {.name = "cursor", .description = "next_cursor of the page before"}};
}

std::vector<QueryParam> with_paging(std::vector<QueryParam> params) {
  for (auto& p : paging()) params.push_back(std::move(p));
  return params;
}

schema::Schema page_schema(const char* key, const schema::Schema& item) {
  using namespace schema;
  return object({required(key, array(item)), required("next_cursor", nullable(text()))});
}

// Households in their villages, as households_for their ids says.
Result<std::vector<bool>> in_area(db::Session& s, const std::string& area,
                                  const std::vector<std::int64_t>& households,
                                  std::map<std::int64_t, mk::HouseholdPlace>& places) {
  places = CUNHUO_TRY(mk::household_places(s, households));
  std::vector<bool> keep;
  for (auto id : households) {
    auto p = places.find(id);
    keep.push_back(p != places.end() && region_within(p->second.village_code, area));
  }
  return keep;
}

// ---- households --------------------------------------------------------------------

struct HouseholdFilter {
  std::optional<std::string> village;
  std::optional<mk::PovertyStatus> status;
  std::optional<al::Band> band;
  std::optional<bool> at_risk;
};

Result<HouseholdFilter> household_filter(const Account& a, const Request& req) {
  HouseholdFilter f;
  f.village = CUNHUO_TRY(village_filter(a, req));
  if (auto s = req.query_param("status")) f.status = CUNHUO_TRY(mk::parse_poverty_status(*s));
  if (auto b = req.query_param("band")) f.band = CUNHUO_TRY(al::parse_band(*b));
  if (auto r = req.query_param("risk")) {
    if (*r != "true" && *r != "false")
      return make_error(ErrorKind::invalid, "invalid_risk", "risk is true or false", "risk");
    f.at_risk = *r == "true";
  }
  return f;
}

struct HouseholdLine {
  mk::Household household;
  std::optional<al::Standing> standing;
  bool at_risk = false;
};

schema::Schema household_line_schema() {
  using namespace schema;
  using S = mk::PovertyStatus;
  auto name = [](S s) { return mk::to_string(s); };
  return object({
      required("id", id()),
      required("village_code", text()),
      required("head_name", text()),
      required("phone", text()),
      required("member_count", integer(0)),
      required("status", choice({name(S::registered_poor), name(S::at_risk), name(S::exited),
                                 name(S::returned_to_poverty), name(S::not_registered)})),
      required("score", nullable(integer(0))),
      required("band", nullable(choice(schema::enum_names<al::Band>()))),
      required("at_risk", boolean().described("a monitoring alert is open")),
  });
}

void write_household_line(JsonWriter& w, const HouseholdLine& l, View view) {
  const bool full = view == View::full;
  const auto& h = l.household;
  w.begin_object().field("id", h.id.value).field("village_code", h.village_code);
  w.field("head_name", full ? h.head_name : mask_name(h.head_name));
  w.field("phone", full ? h.phone : mask_phone(h.phone));
  w.field("member_count", h.member_count).field("status", mk::to_string(h.status));
  w.key("score");
  if (l.standing)
    w.value(l.standing->score);
  else
    w.null();
  w.key("band");
  if (l.standing)
    w.value(al::to_string(l.standing->band));
  else
    w.null();
  w.field("at_risk", l.at_risk).end_object();
}

Result<Response> list_households(OfficeContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const auto filter = CUNHUO_TRY(household_filter(account, req));
  const std::string list =
      "households:" + std::to_string(account.id) + ":" + req.query_param("status").value_or("") +
      ":" + filter.village.value_or("") + ":" + req.query_param("band").value_or("") + ":" +
      req.query_param("risk").value_or("");
  const auto page = CUNHUO_TRY(page_of(ctx, req, list));
  const View view = view_of(ObjectKind::household_card, account.role, Relation::in_area);
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto fetch = [&](std::int64_t after, std::int64_t n) -> Result<std::vector<HouseholdLine>> {
      std::vector<HouseholdLine> out;
      for (auto& h : CUNHUO_TRY(mk::households_page(s, {.area = area_of(account),
                                                       .village = filter.village,
                                                       .status = filter.status,
                                                       .after_id = after,
                                                       .limit = n})))
        out.push_back(HouseholdLine{.household = std::move(h)});
      return out;
    };
    auto keep = [&](const std::vector<HouseholdLine>& batch) -> Result<std::vector<bool>> {
      std::vector<std::int64_t> ids;
      for (const auto& l : batch) ids.push_back(l.household.id.value);
      const auto standings = CUNHUO_TRY(al::latest_standings(s, ids));
      const auto risky = CUNHUO_TRY(al::households_at_risk(s, ids));
      std::vector<bool> out;
      for (const auto& l : batch) {
        auto st = standings.find(l.household.id.value);
        const bool band_ok =
            !filter.band || (st != standings.end() && st->second.band == *filter.band);
        const bool risk_ok =
            !filter.at_risk || risky.contains(l.household.id.value) == *filter.at_risk;
        out.push_back(band_ok && risk_ok);
      }
      return out;
    };
    auto scanned = CUNHUO_TRY(
        scan_page<HouseholdLine>(page.after ? page.after->front() : 0, page.limit, fetch, keep,
                                 [](const HouseholdLine& l) { return l.household.id.value; }));
    // The standing of what is shown (the filter read it for the rows it kept).
    std::vector<std::int64_t> ids;
    for (const auto& l : scanned.items) ids.push_back(l.household.id.value);
    const auto standings = CUNHUO_TRY(al::latest_standings(s, ids));
    const auto risky = CUNHUO_TRY(al::households_at_risk(s, ids));
    JsonWriter w;
    w.begin_object().key("households").begin_array();
    for (auto& l : scanned.items) {
      if (auto st = standings.find(l.household.id.value); st != standings.end())
        l.standing = st->second;
      l.at_risk = risky.contains(l.household.id.value);
      write_household_line(w, l, view);
    }
    w.end_array();
    write_next(w, ctx, list, scanned.next_after);
    w.end_object();
    return Response::json(200, w.take());
  });
}

// ---- certifications ----------------------------------------------------------------

// `pending` is what awaits the caller: a township office reviews applications, a county
// office approves what its townships reviewed, admin sees both.
Result<std::vector<mk::CertificationStatus>> certification_statuses(const Account& a,
                                                                    const std::string& status) {
  using S = mk::CertificationStatus;
  if (status != "pending")
    return std::vector<S>{CUNHUO_TRY(mk::parse_certification_status(status))};
  if (a.role == Role::admin) return std::vector<S>{S::applied, S::township_reviewed};
  if (a.region_code.size() == kTownshipCodeDigits) return std::vector<S>{S::applied};
  return std::vector<S>{S::township_reviewed};
}

schema::Schema certification_line_schema() {
  using namespace schema;
  return object({required("id", id()), required("product_id", id()), required("title", text()),
                 required("origin_code", text()),
                 required("status", choice({"applied", "township_reviewed", "approved", "rejected",
                                            "revoked"})),
                 required("updated_at", utc_time())});
}

Result<Response> list_certifications(OfficeContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string status = req.query_param("status").value_or("pending");
  const auto statuses = CUNHUO_TRY(certification_statuses(account, status));
  const std::string list = "certifications:" + std::to_string(account.id) + ":" + status;
  const auto page = CUNHUO_TRY(page_of(ctx, req, list));
  auto lines = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return mk::certifications_in(s, area_of(account), statuses,
                                 page.after ? page.after->front() : 0, page.limit + 1);
  }));
  std::optional<std::int64_t> next;
  if (static_cast<std::int64_t>(lines.size()) > page.limit) {
    lines.resize(static_cast<std::size_t>(page.limit));
    next = lines.back().id;
  }
  JsonWriter w;
  w.begin_object().key("certifications").begin_array();
  for (const auto& c : lines) {
    w.begin_object().field("id", c.id).field("product_id", c.product_id);
    w.field("title", c.product_title).field("origin_code", c.origin_code);
    w.field("status", mk::to_string(c.status)).field("updated_at", format_utc(c.updated_at_ms));
    w.end_object();
  }
  w.end_array();
  write_next(w, ctx, list, next);
  w.end_object();
  return Response::json(200, w.take());
}

// ---- exit proposals and objections -------------------------------------------------

schema::Schema proposal_line_schema() {
  using namespace schema;
  return object({required("id", id()), required("household_id", id()),
                 required("village_code", text()), required("status", text()),
                 required("stage", choice(schema::enum_names<al::ExitStage>())),
                 required("notice_ends", nullable(shanghai_time())),
                 required("open_objections", integer(0)), required("updated_at", utc_time())});
}

Result<Response> list_proposals(OfficeContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string stage_name = req.query_param("stage").value_or("");
  const auto stage = CUNHUO_TRY(al::parse_exit_stage(stage_name));
  const std::string list = "exit-proposals:" + std::to_string(account.id) + ":" + stage_name;
  const auto page = CUNHUO_TRY(page_of(ctx, req, list));
  const std::string area = area_of(account);
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    std::map<std::int64_t, mk::HouseholdPlace> places;
    auto fetch = [&](std::int64_t after, std::int64_t n) {
      return al::proposals_at(s, stage, after, n);
    };
    auto keep = [&](const std::vector<al::ProposalLine>& batch) -> Result<std::vector<bool>> {
      std::vector<std::int64_t> ids;
      for (const auto& p : batch) ids.push_back(p.household_id);
      std::map<std::int64_t, mk::HouseholdPlace> found;
      auto kept = CUNHUO_TRY(in_area(s, area, ids, found));
      places.insert(found.begin(), found.end());
      return kept;
    };
    auto scanned = CUNHUO_TRY(
        scan_page<al::ProposalLine>(page.after ? page.after->front() : 0, page.limit, fetch, keep,
                                    [](const al::ProposalLine& p) { return p.id; }));
    JsonWriter w;
    w.begin_object().key("proposals").begin_array();
    for (const auto& p : scanned.items) {
      w.begin_object().field("id", p.id).field("household_id", p.household_id);
      w.field("village_code", places[p.household_id].village_code).field("status", p.status);
      w.field("stage", al::to_string(stage)).key("notice_ends");
      if (p.notice_ends_ms)
        w.value(format_shanghai(*p.notice_ends_ms));
      else
        w.null();
      w.field("open_objections", p.open_objections);
      w.field("updated_at", format_utc(p.updated_at_ms)).end_object();
    }
    w.end_array();
    write_next(w, ctx, list, scanned.next_after);
    w.end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema objection_line_schema() {
  using namespace schema;
  return object({required("id", id()), required("proposal_id", id()),
                 required("household_id", id()), required("village_code", text()),
                 required("text", text()),
                 required("status", choice({"open", "upheld", "dismissed"})),
                 required("resolution", text()), required("lodged_at", utc_time())});
}

Result<Response> list_objections(OfficeContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string status = req.query_param("status").value_or("open");
  CUNHUO_CHECK(al::check_objection_status(status));
  const std::string list = "objections:" + std::to_string(account.id) + ":" + status;
  const auto page = CUNHUO_TRY(page_of(ctx, req, list));
  const std::string area = area_of(account);
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    std::map<std::int64_t, mk::HouseholdPlace> places;
    auto fetch = [&](std::int64_t after, std::int64_t n) {
      return al::objections_with(s, status, after, n);
    };
    auto keep = [&](const std::vector<al::ObjectionLine>& batch) -> Result<std::vector<bool>> {
      std::vector<std::int64_t> ids;
      for (const auto& o : batch) ids.push_back(o.household_id);
      std::map<std::int64_t, mk::HouseholdPlace> found;
      auto kept = CUNHUO_TRY(in_area(s, area, ids, found));
      places.insert(found.begin(), found.end());
      return kept;
    };
    auto scanned = CUNHUO_TRY(
        scan_page<al::ObjectionLine>(page.after ? page.after->front() : 0, page.limit, fetch, keep,
                                     [](const al::ObjectionLine& o) { return o.objection.id; }));
    JsonWriter w;
    w.begin_object().key("objections").begin_array();
    for (const auto& l : scanned.items) {
      const auto& o = l.objection;
      w.begin_object().field("id", o.id).field("proposal_id", o.proposal_id);
      w.field("household_id", l.household_id)
          .field("village_code", places[l.household_id].village_code);
      w.field("text", o.text).field("status", o.status).field("resolution", o.resolution);
      w.field("lodged_at", format_utc(o.lodged_at_ms)).end_object();
    }
    w.end_array();
    write_next(w, ctx, list, scanned.next_after);
    w.end_object();
    return Response::json(200, w.take());
  });
}

}  // namespace

void add_office_routes(RouteTable& table, OfficeContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  const std::vector<std::string> paging_errors = {"invalid_limit", "invalid_cursor"};
  auto errors = [&](std::vector<std::string> own) {
    own.insert(own.end(), paging_errors.begin(), paging_errors.end());
    return own;
  };
  table.add({.method = "GET",
             .pattern = "/api/v1/households",
             .access = only({Role::poverty_office, Role::county_centre, Role::admin}),
             .response_schema = page_schema("households", household_line_schema()),
             .query = with_paging(
                 {{.name = "status", .description = "a registration status"},
                  {.name = "village", .description = "a 12-digit village code in your area"},
                  {.name = "band",
                   .description = "the newest score's band: " +
                                  schema::one_of(schema::enum_names<al::Band>())},
                  {.name = "risk",
                   .type = "boolean",
                   .description = "true: a monitoring alert is open"}}),
             .errors = errors({"invalid_status", "invalid_region_code", "outside_your_area",
                               "invalid_band", "invalid_risk"}),
             .summary = "Your area's households with their band and risk (office; masked for the "
                        "centre and admin)",
             .handler = bind(list_households)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/certifications",
       .access = only({Role::poverty_office, Role::admin}),
       .response_schema = page_schema("certifications", certification_line_schema()),
       .query = with_paging({{.name = "status",
                              .description = "pending (default: what awaits your review), applied, "
                                             "township_reviewed, approved, rejected or revoked"}}),
       .errors = errors({"invalid_status"}),
       .summary = "Certifications of your area's listings: the township office's review "
                  "queue, the county's approval queue",
       .handler = bind(list_certifications)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/exit-proposals",
       .access = only({Role::poverty_office, Role::admin}),
       .response_schema = page_schema("proposals", proposal_line_schema()),
       .query = with_paging({{.name = "stage",
                              .description = schema::one_of(schema::enum_names<al::ExitStage>()),
                              .required = true}}),
       .errors = errors({"invalid_stage"}),
       .summary = "Your area's exit proposals at one stage",
       .handler = bind(list_proposals)});
  table.add({.method = "GET",
             .pattern = "/api/v1/objections",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = page_schema("objections", objection_line_schema()),
             .query = with_paging(
                 {{.name = "status", .description = "open (default), upheld or dismissed"}}),
             .errors = errors({"invalid_status"}),
             .summary = "Objections to your area's exit notices",
             .handler = bind(list_objections)});
}

}  // namespace cunhuo::storefront
