// GET /api/v1/queue: what needs the caller now. A few groups for the caller's role, each
// counted, with a few of its items; every item links to an object the caller may GET
// (its order, parcel, household, listing...), so the queue never points where its reader
// would meet a 404.
#include <string>
#include <vector>

#include "alleviation/funds.hpp"
#include "alleviation/work_queue.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "logistics/telemetry.hpp"
#include "logistics/work_queue.hpp"
#include "marketplace/work_queue.hpp"
#include "payments/work_queue.hpp"
#include "storefront/notification_routes.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;

// The groups a queue may hold, each named once.
namespace group {
constexpr std::string_view orders_to_pack = "orders_to_pack";
constexpr std::string_view deliveries_to_confirm = "deliveries_to_confirm";
constexpr std::string_view parcels_arriving = "parcels_arriving";
constexpr std::string_view parcels_at_station = "parcels_at_station";
constexpr std::string_view open_excursions = "open_excursions";
constexpr std::string_view refund_claims_to_decide = "refund_claims_to_decide";
constexpr std::string_view certifications_to_review = "certifications_to_review";
constexpr std::string_view exit_proposals_to_review = "exit_proposals_to_review";
constexpr std::string_view objections_to_resolve = "objections_to_resolve";
constexpr std::string_view open_alerts = "open_alerts";
constexpr std::string_view fund_flags = "fund_flags";
}  // namespace group

constexpr std::string_view kGroups[] = {
    group::orders_to_pack,
    group::deliveries_to_confirm,
    group::parcels_arriving,
    group::parcels_at_station,
    group::open_excursions,
    group::refund_claims_to_decide,
    group::certifications_to_review,
    group::exit_proposals_to_review,
    group::objections_to_resolve,
    group::open_alerts,
    group::fund_flags,
};

struct Item {
  std::string title, link;
  std::int64_t since_ms = 0;
};

struct Group {
  std::string_view kind;
  std::int64_t count = 0;
  std::vector<Item> items;
};

std::string num(std::int64_t v) { return std::to_string(v); }
std::string household_link(std::int64_t id) { return "/api/v1/households/" + num(id); }

Group orders_group(const mk::Waiting& w) {
  Group g{group::orders_to_pack, w.count, {}};
  for (const auto& o : w.items)
    g.items.push_back(
        {"订单 #" + num(o.id) + " 待打包", "/api/v1/orders/" + num(o.id), o.since_ms});
  return g;
}

Group deliveries_group(const mk::Waiting& w) {
  Group g{group::deliveries_to_confirm, w.count, {}};
  for (const auto& o : w.items)
    g.items.push_back(
        {"订单 #" + num(o.id) + " 已送达，请确认收货", "/api/v1/orders/" + num(o.id), o.since_ms});
  return g;
}

Group parcels_group(std::string_view kind, const lg::WaitingParcels& w) {
  Group g{kind, w.count, {}};
  for (const auto& p : w.parcels)
    g.items.push_back(
        {"包裹 " + p.tracking_number, "/api/v1/tracking/" + p.tracking_number, p.since_ms});
  return g;
}

Group certifications_group(const mk::Waiting& w) {
  Group g{group::certifications_to_review, w.count, {}};
  for (const auto& c : w.items)
    g.items.push_back(
        {"扶贫产品认定申请 #" + num(c.id), "/api/v1/products/" + num(c.subject), c.since_ms});
  return g;
}

// Proposals and objections link to the household's proposals, where each is with its steps.
Group cases_group(std::string_view kind, const char* title, const al::WaitingCases& w,
                  bool to_proposals) {
  Group g{kind, w.count, {}};
  for (const auto& c : w.items)
    g.items.push_back({title + num(c.id) + "（" + c.what + "）",
                       household_link(c.household_id) + (to_proposals ? "/exit-proposals" : ""),
                       c.since_ms});
  return g;
}

Group excursions_group(const lg::WaitingExcursions& w) {
  Group g{group::open_excursions, w.count, {}};
  for (const auto& e : w.items)
    g.items.push_back({"冷链超温 " + e.node_code + "（" + e.kind + "）",
                       "/api/v1/excursions?status=open", e.detected_at_ms});
  return g;
}

Group funds_group(std::int64_t count, const al::FundFlagPage& first, std::int64_t now_ms) {
  Group g{group::fund_flags, count, {}};
  for (const auto& f : first.flags) {
    const std::string link = f.allocation_id ? "/api/v1/fund-allocations/" + num(*f.allocation_id)
                                             : "/api/v1/fund-projects/" + num(f.project_id);
    g.items.push_back({"资金预警：" + f.kind, link, now_ms});
  }
  return g;
}

constexpr int kN = kQueueItemsPerGroup;

Result<std::vector<Group>> farmer_queue(db::Session& s, const Account& a) {
  if (!a.household_id) return std::vector<Group>();
  const auto shops = CUNHUO_TRY(mk::own_shops_of(s, mk::HouseholdId{*a.household_id}));
  return std::vector<Group>{orders_group(CUNHUO_TRY(mk::orders_to_pack(s, shops, kN)))};
}

Result<std::vector<Group>> shop_queue(db::Session& s, const Account& a) {
  if (!a.shop_id) return std::vector<Group>();
  const mk::ShopId shop{*a.shop_id};
  return std::vector<Group>{orders_group(CUNHUO_TRY(mk::orders_to_pack(s, {&shop, 1}, kN)))};
}

Result<std::vector<Group>> station_queue(db::Session& s, const Account& a) {
  if (!a.node_id) return std::vector<Group>();
  return std::vector<Group>{
      parcels_group(group::parcels_arriving,
                    CUNHUO_TRY(lg::parcels_arriving_at(s, *a.node_id, kN))),
      parcels_group(group::parcels_at_station, CUNHUO_TRY(lg::parcels_at(s, *a.node_id, kN)))};
}

// Refund claims on orders of shops within the centre's county, as the centre decides them.
Group claims_group(const pay::WaitingClaims& w) {
  Group g{group::refund_claims_to_decide, w.count, {}};
  for (const auto& c : w.items)
    g.items.push_back({"退款申请 #" + num(c.id), "/api/v1/refund-claims/" + num(c.id), c.since_ms});
  return g;
}

Result<std::vector<Group>> centre_queue(db::Session& s, const Account& a) {
  const std::string county = a.role == Role::admin ? "" : county_of(a.region_code);
  return std::vector<Group>{excursions_group(CUNHUO_TRY(lg::open_excursions_in(s, county, kN))),
                            claims_group(CUNHUO_TRY(pay::requested_claims(s, county, kN)))};
}

// The township office reviews (for its villages too); the county office decides, resolves
// objections and watches its funds.
Result<std::vector<Group>> office_queue(db::Session& s, const Account& a,
                                        const NotificationContext& ctx) {
  const std::string& area = a.region_code;
  const bool county = area.size() == kCountyCodeDigits;
  std::vector<Group> out;
  const auto certification_step =
      county ? mk::CertificationStatus::township_reviewed : mk::CertificationStatus::applied;
  out.push_back(
      certifications_group(CUNHUO_TRY(mk::certifications_in(s, certification_step, area, kN))));
  const auto proposals = county ? al::proposals_at(s, {"township_reviewed"}, area, kN)
                                : al::proposals_at(s, {"proposed", "village_reviewed"}, area, kN);
  out.push_back(
      cases_group(group::exit_proposals_to_review, "退出提议 #", CUNHUO_TRY(proposals), true));
  if (county)
    out.push_back(cases_group(group::objections_to_resolve, "公示异议 #",
                              CUNHUO_TRY(al::open_objections(s, area, kN)), true));
  out.push_back(cases_group(group::open_alerts, "监测预警 #",
                            CUNHUO_TRY(al::open_alerts(s, area, std::nullopt, kN)), false));
  if (county) {
    const al::FundFlagQuery flags{
        .area = area, .idle_ms = ctx.fund_idle_ms, .after = std::nullopt, .limit = kN};
    out.push_back(
        funds_group(CUNHUO_TRY(al::count_fund_flags(s, area, ctx.fund_idle_ms, ctx.clock)),
                    CUNHUO_TRY(al::fund_flags_page(s, flags, ctx.clock)), ctx.clock.now_ms()));
  }
  return out;
}

Result<std::vector<Group>> helper_queue(db::Session& s, const Account& a) {
  return std::vector<Group>{cases_group(group::open_alerts, "监测预警 #",
                                        CUNHUO_TRY(al::open_alerts(s, "", a.id, kN)), false)};
}

Result<std::vector<Group>> queue_of(db::Session& s, const Account& a,
                                    const NotificationContext& ctx) {
  switch (a.role) {
    case Role::farmer: return farmer_queue(s, a);
    case Role::shop_manager: return shop_queue(s, a);
    case Role::station_operator: return station_queue(s, a);
    case Role::county_centre: return centre_queue(s, a);
    case Role::poverty_office: return office_queue(s, a, ctx);
    case Role::helper: return helper_queue(s, a);
    case Role::admin: {
      auto out = CUNHUO_TRY(centre_queue(s, a));
      out.push_back(cases_group(group::open_alerts, "监测预警 #",
                                CUNHUO_TRY(al::open_alerts(s, "", std::nullopt, kN)), false));
      return out;
    }
    case Role::consumer:
    case Role::org_buyer:
      return std::vector<Group>{
          deliveries_group(CUNHUO_TRY(mk::deliveries_to_confirm(s, a.id, kN)))};
  }
  return std::vector<Group>();
}

schema::Schema queue_schema() {
  using namespace schema;
  std::vector<std::string> kinds(std::begin(kGroups), std::end(kGroups));
  const Schema item = object({required("kind", choice(kinds)), required("title", text()),
                              required("link", text()), required("since", shanghai_time())});
  const Schema g = object({required("kind", choice(kinds)), required("count", integer(0)),
                           required("items", array(item, kQueueItemsPerGroup))});
  return object({required("role", text()), required("groups", array(g))});
}

Result<Response> get_queue(NotificationContext& ctx, const Call& call) {
  const Account& account = call.caller();
  auto groups = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return queue_of(s, account, ctx); }));
  JsonWriter w;
  w.begin_object().field("role", to_string(account.role)).key("groups").begin_array();
  for (const auto& g : groups) {
    w.begin_object().field("kind", g.kind).field("count", g.count).key("items").begin_array();
    for (const auto& item : g.items)
      w.begin_object()
          .field("kind", g.kind)
          .field("title", item.title)
          .field("link", item.link)
          .field("since", format_shanghai(item.since_ms))
          .end_object();
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return Response::json(200, w.take());
}

}  // namespace

void add_queue_routes(RouteTable& table, NotificationContext context) {
  auto ctx = std::make_shared<NotificationContext>(context);
  table.add({.method = "GET",
             .pattern = "/api/v1/queue",
             .access = signed_in(),
             .response_schema = queue_schema(),
             .summary = "What needs the caller now: counted groups for its role, each item "
                        "linking to an object the caller may open",
             .handler = [ctx](const Call& call) { return get_queue(*ctx, call); }});
}

}  // namespace cunhuo::storefront
