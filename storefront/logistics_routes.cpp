#include "storefront/logistics_routes.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <map>

#include "core/json.hpp"
#include "core/region.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "storefront/centre_moves.hpp"
#include "storefront/route_support.hpp"
#include "storefront/schema.hpp"
#include "storefront/station_moves.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

constexpr std::int64_t kMaxTelemetryBody = 8 << 20;  // a sensor's day of buffered readings
namespace lg = cunhuo::logistics;

// The limits the handlers read their bodies with, published in the request schemas.
constexpr std::size_t kMaxCodeBytes = 40;  // a node's or a sensor's business code
constexpr std::size_t kMaxWordBytes = 20;  // a node kind, link mode, step or disposition
constexpr std::size_t kMaxNodeNameBytes = 200;
constexpr std::size_t kMaxTimetableBytes = 2000;
constexpr std::size_t kMaxClassBytes = 10;               // a temperature class
constexpr std::int64_t kEarliestMs = 1'500'000'000'000;  // 2017: no plan or scan before
constexpr std::int64_t kLatestMs = 4'000'000'000'000;    // 2096
constexpr std::int64_t kMaxShelfLifeHours = 24 * 365;
constexpr std::int64_t kMaxPlanCrates = 1000;
constexpr std::int64_t kMaxVehicleCrates = 1000;

// ---- schema parts ------------------------------------------------------------------

// An optional field of a body: the reader takes null as absent.
schema::Property maybe(std::string name, const schema::Schema& s) {
  return schema::optional(std::move(name), schema::nullable(s));
}

// Milliseconds since the epoch within the years a body may name.
schema::Schema body_time(std::string_view meaning) {
  return schema::integer(kEarliestMs, kLatestMs)
      .described(std::string(meaning) + ", in milliseconds since 1970-01-01 UTC");
}

// ---- the network -------------------------------------------------------------------

// A centre changes the network only inside its own county; admin anywhere.
bool may_edit_network(const Account& a, std::string_view region_code) {
  if (a.role == Role::admin) return true;
  return a.role == Role::county_centre && region_within(region_code, a.region_code);
}

Error outside_area(const char* field) {
  return make_error(ErrorKind::forbidden, "outside_your_area",
                    "you change the network only in your own county", field);
}

// A new node, as create_node reads it.
schema::Schema new_node_schema() {
  using namespace schema;
  const Schema centi = integer(lg::kMinCenti, lg::kMaxCenti).described("hundredths of a degree");
  return object({
      required("code", text(kMaxCodeBytes)),
      required("kind", schema::name_among(kMaxWordBytes, schema::enum_names<lg::NodeKind>())),
      required("name", text(kMaxNodeNameBytes)),
      required("region_code", text(kVillageCodeDigits)),
      maybe("cold_capacity_crates",
            integer(std::numeric_limits<int>::min(), std::numeric_limits<int>::max())),
      maybe("lat_e6", integer().described("microdegrees")),
      maybe("lon_e6", integer().described("microdegrees")),
      maybe("min_centi", centi),
      maybe("max_centi", centi),
  });
}

// The node create_node answers with.
schema::Schema created_node_schema() {
  using namespace schema;
  return object({required("id", id()), required("code", text())});
}

Result<Response> create_node(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"code", "kind", "name", "region_code", "cold_capacity_crates", "lat_e6",
                          "lon_e6", "min_centi", "max_centi"}));
  lg::NewNode n{CUNHUO_TRY(body.string("code", 40)),
                CUNHUO_TRY(lg::parse_node_kind(CUNHUO_TRY(body.string("kind", 20)))),
                CUNHUO_TRY(body.string("name", 200)),
                CUNHUO_TRY(body.string("region_code", 12)),
                static_cast<int>(
                    CUNHUO_TRY(body.optional_integer("cold_capacity_crates", INT32_MIN, INT32_MAX))
                        .value_or(0)),
                CUNHUO_TRY(body.optional_integer("lat_e6", INT64_MIN, INT64_MAX)),
                CUNHUO_TRY(body.optional_integer("lon_e6", INT64_MIN, INT64_MAX)),
                std::nullopt,
                std::nullopt};
  if (auto v = CUNHUO_TRY(body.optional_integer("min_centi", -8000, 8000)))
    n.min_centi = static_cast<int>(*v);
  if (auto v = CUNHUO_TRY(body.optional_integer("max_centi", -8000, 8000)))
    n.max_centi = static_cast<int>(*v);
  if (!may_edit_network(account, n.region_code)) return outside_area("region_code");
  auto id =
      CUNHUO_TRY(ctx.db.write([&](db::Session& tx) { return lg::create_node(tx, n, ctx.clock); }));
  ctx.planner.invalidate();
  JsonWriter w;
  w.begin_object().field("id", id.value).field("code", n.code).end_object();
  return Response::json(201, w.take());
}

// A new link, as create_link reads it.
schema::Schema new_link_schema() {
  using namespace schema;
  return object({
      required("from_code", text(kMaxCodeBytes)),
      required("to_code", text(kMaxCodeBytes)),
      required("mode", schema::name_among(kMaxWordBytes, schema::enum_names<lg::LinkMode>())),
      required("refrigerated", boolean()),
      required("duration_min",
               integer(std::numeric_limits<int>::min(), std::numeric_limits<int>::max())),
      required("cost_fen", integer().described("fen (1/100 yuan)")),
      maybe("timetable", text(kMaxTimetableBytes)
                             .described("on_demand (the default) or \"Mon-Fri 08:00; Sat 09:00\"")),
  });
}

// The link create_link answers with: its id.
schema::Schema created_link_schema() {
  return schema::object({schema::required("id", schema::id())});
}

Result<Response> create_link(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only(
      {"from_code", "to_code", "mode", "refrigerated", "duration_min", "cost_fen", "timetable"}));
  lg::NewLink l;
  l.from_code = CUNHUO_TRY(body.string("from_code", 40));
  l.to_code = CUNHUO_TRY(body.string("to_code", 40));
  l.mode = CUNHUO_TRY(body.string("mode", 20));
  l.refrigerated = CUNHUO_TRY(body.boolean("refrigerated"));
  l.duration_min = static_cast<int>(CUNHUO_TRY(body.integer("duration_min", INT32_MIN, INT32_MAX)));
  l.cost_fen = CUNHUO_TRY(body.integer("cost_fen", INT64_MIN, INT64_MAX));
  l.timetable = CUNHUO_TRY(body.optional_string("timetable", 2000)).value_or("on_demand");
  auto id = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::int64_t> {
    // Only the origin must lie in the centre's county: a trunk from the county to a city
    // hub elsewhere is the centre's to run, but a link leaving another county is not.
    auto from = CUNHUO_TRY(lg::find_node(tx, l.from_code));
    if (!from)
      return make_error(ErrorKind::not_found, "unknown_node", "no node " + l.from_code,
                        "from_code");
    if (!may_edit_network(account, from->region_code)) return outside_area("from_code");
    return lg::create_link(tx, l, ctx.clock);
  }));
  ctx.planner.invalidate();
  JsonWriter w;
  w.begin_object().field("id", id).end_object();
  return Response::json(201, w.take());
}

// A link as list_links writes it.
schema::Schema link_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("from_code", text()),
      required("to_code", text()),
      required("mode", choice(schema::enum_names<lg::LinkMode>())),
      required("refrigerated", boolean()),
      required("duration_min", integer(1)),
      required("cost_fen", fen()),
      required("timetable", text()),
  });
}

Result<Response> list_links(LogisticsContext& ctx, const Call&) {
  auto links = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return lg::all_links(s); }));
  JsonWriter w;
  w.begin_object().key("links").begin_array();
  for (const auto& l : links)
    w.begin_object()
        .field("id", l.id)
        .field("from_code", l.from_code)
        .field("to_code", l.to_code)
        .field("mode", l.mode)
        .field("refrigerated", l.refrigerated)
        .field("duration_min", l.duration_min)
        .field("cost_fen", l.cost_fen)
        .field("timetable", l.timetable)
        .end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// A hop as write_hops writes it.
schema::Schema hop_schema() {
  using namespace schema;
  return object({
      required("from", text()),
      required("to", text()),
      required("mode", choice(schema::enum_names<lg::LinkMode>())),
      required("refrigerated", boolean()),
      required("depart_at", schema::shanghai_time()),
      required("arrive_at", schema::shanghai_time()),
  });
}

void write_hops(JsonWriter& w, const std::vector<lg::PlannedHop>& hops) {
  w.begin_array();
  for (const auto& h : hops)
    w.begin_object()
        .field("from", h.from_code)
        .field("to", h.to_code)
        .field("mode", h.mode)
        .field("refrigerated", h.refrigerated)
        .field("depart_at", format_shanghai(h.depart_ms))
        .field("arrive_at", format_shanghai(h.arrive_ms))
        .end_object();
  w.end_array();
}

// A planning request, as plan_route reads it.
schema::Schema plan_request_schema() {
  using namespace schema;
  return object({
      required("origin_code", text(kMaxCodeBytes)),
      required("destination_code", text(kMaxCodeBytes)),
      required("temperature_class",
               schema::name_among(kMaxClassBytes, schema::enum_names<mk::TemperatureClass>())),
      maybe("ready_at_ms", body_time("when the goods are ready; default now")),
      maybe("shelf_life_hours", integer(1, kMaxShelfLifeHours)),
      maybe("crates", integer(1, kMaxPlanCrates)),
      maybe("arrive_by_ms", body_time("set: the cheapest route arriving by then")),
  });
}

// The plan plan_route answers with.
schema::Schema plan_schema() {
  using namespace schema;
  return object({
      required("arrive_at", schema::shanghai_time()),
      required("arrival_ms", timestamp()),
      required("cost_fen", fen()),
      required("unrefrigerated_min", integer(0)),
      required("hops", array(hop_schema())),
  });
}

// Planning is search work with a label and a time budget: for logistics staff, not for
// any client that can log in.
Result<Response> plan_route(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"origin_code", "destination_code", "temperature_class", "ready_at_ms",
                          "shelf_life_hours", "crates", "arrive_by_ms"}));
  lg::PlanRequest r;
  r.origin_code = CUNHUO_TRY(body.string("origin_code", 40));
  r.destination_code = CUNHUO_TRY(body.string("destination_code", 40));
  const std::string temperature = CUNHUO_TRY(body.string("temperature_class", 10));
  r.temperature_class = CUNHUO_TRY(parse_temperature_class(temperature));
  r.ready_at_ms =
      CUNHUO_TRY(body.optional_integer("ready_at_ms", 1'500'000'000'000, 4'000'000'000'000))
          .value_or(ctx.clock.now_ms());
  if (auto h = CUNHUO_TRY(body.optional_integer("shelf_life_hours", 1, 24 * 365)))
    r.shelf_deadline_ms = r.ready_at_ms + *h * 3'600'000;
  r.crates = static_cast<int>(CUNHUO_TRY(body.optional_integer("crates", 1, 1000)).value_or(1));
  r.arrive_by_ms =
      CUNHUO_TRY(body.optional_integer("arrive_by_ms", 1'500'000'000'000, 4'000'000'000'000));
  auto plan = CUNHUO_TRY(ctx.planner.plan(r));
  JsonWriter w;
  w.begin_object()
      .field("arrive_at", format_shanghai(plan.arrival_ms))
      .field("arrival_ms", plan.arrival_ms);
  w.field("cost_fen", plan.cost_fen)
      .field("unrefrigerated_min", plan.unrefrigerated_min)
      .key("hops");
  write_hops(w, plan.hops);
  w.end_object();
  return Response::json(200, w.take());
}

// ---- shipments ---------------------------------------------------------------------

// The business steps and dispositions record_scan admits (EPCIS's, as far as a parcel's
// journey needs them).
std::vector<std::string> biz_steps() {
  return {"receiving", "storing", "departing", "arriving", "delivering", "holding"};
}
std::vector<std::string> dispositions() {
  return {"in_progress", "in_transit", "damaged", "expired", "held", "delivered"};
}

// A scan event as write_shipment writes it; staff also see when it was recorded and by whom.
schema::Schema scan_event_schema(bool full) {
  using namespace schema;
  std::vector<Property> fields = {
      required("event_time", schema::shanghai_time()),
      required("event_zone", text()),
      required("read_point", text()),
      required("biz_location", text()),
      required("biz_step", choice(biz_steps())),
      required("disposition", choice(dispositions())),
  };
  if (full)
    fields.insert(fields.end(), {required("record_time", utc_time()), required("actor", text())});
  return object(fields);
}

// A shipment as write_shipment writes it: `full` for those who may see its order.
schema::Schema shipment_schema(bool full) {
  using namespace schema;
  std::vector<Property> fields = {
      required("tracking_number", text()),
      required("status", choice({"planned", "at_node", "in_transit", "held", "delivered", "spoiled",
                                 "unroutable", "cancelled"})),
      required("temperature_class", choice(schema::enum_names<mk::TemperatureClass>())),
      required("origin", text()),
      required("destination", text()),
      required("at", text()),
      required("eta", nullable(schema::shanghai_time())),
      required("route_ahead", array(hop_schema())),
      required("events", array(scan_event_schema(full))),
  };
  if (full)
    fields.insert(fields.end(), {required("order_id", id()), required("lot", text()),
                                 required("crates", integer(1)), required("note", text())});
  return object(fields);
}

// The public view carries no personal data and no order: where the parcel has been and
// where it goes next.
void write_shipment(JsonWriter& w, const lg::Shipment& s, bool full) {
  w.begin_object().field("tracking_number", s.tracking_number).field("status", s.status);
  w.field("temperature_class", to_string(s.temperature_class));
  w.field("origin", s.origin_code)
      .field("destination", s.destination_code)
      .field("at", s.current_code);
  w.key("eta");
  if (s.eta_ms)
    w.value(format_shanghai(*s.eta_ms));
  else
    w.null();
  if (full)
    w.field("order_id", s.order_id)
        .field("lot", s.lot)
        .field("crates", s.crates)
        .field("note", s.note);
  w.key("route_ahead");
  write_hops(w, s.route);
  w.key("events").begin_array();
  for (const auto& e : s.scans) {
    w.begin_object()
        .field("event_time", format_shanghai(e.event_time_ms))
        .field("event_zone", e.event_zone);
    w.field("read_point", e.read_point)
        .field("biz_location", e.biz_location)
        .field("biz_step", e.biz_step)
        .field("disposition", e.disposition);
    if (full) w.field("record_time", format_utc(e.record_time_ms)).field("actor", e.actor);
    w.end_object();
  }
  w.end_array().end_object();
}

Result<Response> track(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::string number = req.params.at("number");
  if (number.size() > 20) return no_such("shipment");
  auto s = CUNHUO_TRY(ctx.db.read([&](db::Session& r) { return lg::find_shipment(r, number); }));
  if (!s) return no_such("shipment");
  JsonWriter w;
  write_shipment(w, *s, false);
  auto r = Response::json(200, w.take());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Result<Response> order_shipments(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::OrderId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto order = CUNHUO_TRY(mk::find_order(s, id));
    if (!order || !CUNHUO_TRY(may_see_order(s, account, *order))) return no_such("order");
    JsonWriter w;
    w.begin_object().key("shipments").begin_array();
    for (const auto& sh : CUNHUO_TRY(lg::shipments_of_order(s, id.value)))
      write_shipment(w, sh, true);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

// A station operator scans at their own station only; the centre anywhere in its county.
Result<bool> may_scan_at(db::Session& s, const Account& a, const lg::Node& node) {
  if (a.role == Role::admin) return true;
  if (a.role == Role::station_operator) return a.node_id && *a.node_id == node.id.value;
  if (a.role == Role::county_centre) return region_within(node.region_code, a.region_code);
  (void)s;
  return false;
}

// A scan, as scan reads it: the module answers invalid_biz_step or invalid_disposition
// for a step or disposition it does not know.
schema::Schema scan_request_schema() {
  using namespace schema;
  return object({
      required("node_code", text(kMaxCodeBytes)),
      required("biz_step", schema::name_among(kMaxWordBytes, biz_steps())),
      required("disposition", schema::name_among(kMaxWordBytes, dispositions())),
      maybe("event_time_ms", body_time("when it happened; default now")),
  });
}

Result<Response> scan(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string number = req.params.at("number");
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"node_code", "biz_step", "disposition", "event_time_ms"}));
  lg::ScanInput in{
      CUNHUO_TRY(body.string("node_code", 40)), CUNHUO_TRY(body.string("biz_step", 20)),
      CUNHUO_TRY(body.string("disposition", 20)),
      CUNHUO_TRY(body.optional_integer("event_time_ms", 1'500'000'000'000, 4'000'000'000'000))
          .value_or(0)};
  auto response = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto node = CUNHUO_TRY(lg::find_node(tx, in.node_code));
    if (!node)
      return make_error(ErrorKind::not_found, "unknown_node", "no node " + in.node_code,
                        "node_code");
    if (!CUNHUO_TRY(may_scan_at(tx, account, *node)))
      return make_error(ErrorKind::forbidden, "forbidden", "you scan only at your own station",
                        "node_code");
    JsonWriter w;
    write_shipment(
        w, CUNHUO_TRY(lg::record_scan(tx, ctx.planner, number, in, actor_of(account), ctx.clock)),
        true);
    return Response::json(201, w.take());
  });
  ctx.dispatcher.wake();
  return response;
}

// ---- the station's and the centre's lists -------------------------------------------

constexpr std::int64_t kDayMs = 86'400'000;

std::vector<std::string> shipment_views() { return schema::enum_names<lg::ShipmentView>(); }

// A shipment as list_shipments writes it.
schema::Schema shipment_line_schema() {
  using namespace schema;
  return object({
      required("tracking_number", text()),
      required("order_id", id()),
      required("status", choice({"planned", "at_node", "in_transit", "held", "delivered", "spoiled",
                                 "unroutable", "cancelled"})),
      required("temperature_class", choice(schema::enum_names<mk::TemperatureClass>())),
      required("current_node", text()),
      required("next_node", nullable(text())),
      required("planned_departure", nullable(shanghai_time()).described("from where it is")),
      required("planned_arrival", nullable(shanghai_time()).described("at the next node")),
      required("flags", array(choice({"late", "held", "unroutable", "excursion"}))),
  });
}

schema::Schema shipment_page_schema() {
  using namespace schema;
  return object({required("view", choice(shipment_views())),
                 required("shipments", array(shipment_line_schema())),
                 required("next_cursor", nullable(text()))});
}

void write_time(JsonWriter& w, const char* key, std::optional<std::int64_t> ms) {
  w.key(key);
  if (ms)
    w.value(format_shanghai(*ms));
  else
    w.null();
}

void write_shipment_line(JsonWriter& w, const lg::ShipmentLine& l) {
  w.begin_object().field("tracking_number", l.tracking_number).field("order_id", l.order_id);
  w.field("status", l.status).field("temperature_class", to_string(l.temperature_class));
  w.field("current_node", l.current_code).key("next_node");
  if (l.next_code)
    w.value(*l.next_code);
  else
    w.null();
  write_time(w, "planned_departure", l.planned_departure_ms);
  write_time(w, "planned_arrival", l.planned_arrival_ms);
  w.key("flags").begin_array();
  for (const auto& f : l.flags) w.value(f);
  w.end_array().end_object();
}

Error not_your_view(lg::ShipmentView view) {
  return make_error(ErrorKind::forbidden, "view_not_for_your_role",
                    "the " + std::string(to_string(view)) +
                        " view is a station's (arriving, in_store, to_dispatch) or the county "
                        "centre's (late, held, unroutable, excursion)",
                    "view");
}

// The node a node view reads: the operator's own station; for the centre a node of its
// county named as ?node=; for admin any node named.
Result<std::int64_t> node_to_read(db::Session& s, const Account& a, const Request& req) {
  const auto named = req.query_param("node");
  if (!named) {
    if (a.role == Role::station_operator && a.node_id) return *a.node_id;
    return make_error(ErrorKind::invalid, "missing_node", "name the node as ?node=", "node");
  }
  auto node = CUNHUO_TRY(lg::find_node(s, *named));
  if (!node) return make_error(ErrorKind::invalid, "unknown_node", "no node " + *named, "node");
  const bool yours = a.role == Role::admin ||
                     (a.role == Role::station_operator && a.node_id == node->id.value) ||
                     (a.role == Role::county_centre &&
                      region_within(node->region_code, a.region_code.substr(0, 6)));
  if (!yours)
    return make_error(ErrorKind::forbidden, "outside_your_area", "that node is not yours", "node");
  return node->id.value;
}

// The county a county view reads: the centre's own, or one an admin names as ?county=.
Result<std::string> county_to_watch(const Account& a, const Request& req) {
  const auto named = req.query_param("county");
  if (!named && a.role == Role::admin)
    return make_error(ErrorKind::invalid, "missing_county",
                      "name the county as ?county=", "county");
  const std::string county = named.value_or(a.region_code.substr(0, 6));
  if (county.size() != kCountyCodeDigits || !region_level(county, "county").ok())
    return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code",
                      "county");
  if (a.role != Role::admin && county != a.region_code.substr(0, 6))
    return make_error(ErrorKind::forbidden, "outside_your_area", "another county's parcels",
                      "county");
  return county;
}

// The role's views: a station's own node, the centre's county (and its nodes), admin all.
Status check_view_for_role(const Account& a, lg::ShipmentView view, const Request& req) {
  if (a.role == Role::station_operator && !lg::is_node_view(view)) return not_your_view(view);
  if (lg::is_node_view(view) && req.query_param("county"))
    return make_error(ErrorKind::invalid, "not_for_this_view",
                      "a node's view takes ?node=", "county");
  if (!lg::is_node_view(view) && req.query_param("node"))
    return make_error(ErrorKind::invalid, "not_for_this_view",
                      "a county's view takes ?county=", "node");
  return {};
}

Result<Response> list_shipments(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const auto view = CUNHUO_TRY(lg::parse_shipment_view(req.query_param("view").value_or("")));
  CUNHUO_CHECK(check_view_for_role(account, view, req));
  const std::int64_t now = ctx.clock.now_ms();
  lg::ShipmentListQuery q{
      .view = view, .now_ms = now, .day_end_ms = shanghai_midnight_ms(shanghai_date(now)) + kDayMs};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    std::string list = "shipments:" + std::string(to_string(view)) + ":";
    if (lg::is_node_view(view)) {
      q.node_id = CUNHUO_TRY(node_to_read(s, account, req));
      list += std::to_string(q.node_id);
    } else {
      q.county_code = CUNHUO_TRY(county_to_watch(account, req));
      list += q.county_code;
    }
    const auto page = CUNHUO_TRY(
        read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
    q.limit = page.limit + 1;  // one more says whether a next page exists
    if (page.after) q.after_id = page.after->front();
    auto lines = CUNHUO_TRY(lg::list_shipments(s, q));
    std::optional<std::string> next;
    if (static_cast<std::int64_t>(lines.size()) > page.limit) {
      lines.resize(static_cast<std::size_t>(page.limit));
      next = ctx.cursors.seal(list, {lines.back().id});
    }
    JsonWriter w;
    w.begin_object().field("view", to_string(view)).key("shipments").begin_array();
    for (const auto& l : lines) write_shipment_line(w, l);
    w.end_array().key("next_cursor");
    if (next)
      w.value(*next);
    else
      w.null();
    w.end_object();
    return Response::json(200, w.take());
  });
}

// ---- sensors, telemetry and excursions ---------------------------------------------

// Where a new sensor would stand: its node, or for a vehicle sensor where its link starts.
Result<std::optional<lg::Node>> sensor_node(db::Session& tx, const std::optional<std::string>& node,
                                            std::optional<std::int64_t> link) {
  if (node) return lg::find_node(tx, *node);
  auto found = CUNHUO_TRY(lg::find_link(tx, *link));
  if (!found)
    return make_error(ErrorKind::not_found, "unknown_link", "no link " + std::to_string(*link),
                      "link_id");
  return lg::find_node(tx, found->from_code);
}

// A new sensor, as create_sensor reads it: at a node or in the vehicle of a link.
schema::Schema new_sensor_schema() {
  using namespace schema;
  return object({
      required("sensor_code", text(kMaxCodeBytes)),
      maybe("node_code", text(kMaxCodeBytes).described("a cold store's sensor; or link_id")),
      maybe("link_id", id().described("a vehicle's sensor; or node_code")),
  });
}

// The sensor create_sensor answers with, where it stands.
schema::Schema created_sensor_schema() {
  using namespace schema;
  return object(
      {required("sensor_code", text()), optional("node_code", text()), optional("link_id", id())});
}

Result<Response> create_sensor(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"sensor_code", "node_code", "link_id"}));
  const std::string code = CUNHUO_TRY(body.string("sensor_code", 40));
  const auto node = CUNHUO_TRY(body.optional_string("node_code", 40));
  const auto link = CUNHUO_TRY(body.optional_integer("link_id", 1, INT64_MAX));
  if (node.has_value() == link.has_value())
    return make_error(ErrorKind::invalid, "missing_field",
                      "a sensor is in a cold store (node_code) or a vehicle (link_id)",
                      "node_code");
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) -> Status {
    auto at = CUNHUO_TRY(sensor_node(tx, node, link));
    if (at && !may_edit_network(account, at->region_code))
      return outside_area(node ? "node_code" : "link_id");
    return node ? lg::register_sensor(tx, code, *node, ctx.clock)
                : lg::register_vehicle_sensor(tx, code, *link, ctx.clock);
  }));
  JsonWriter w;
  w.begin_object().field("sensor_code", code);
  if (node)
    w.field("node_code", *node);
  else
    w.field("link_id", *link);
  w.end_object();
  return Response::json(201, w.take());
}

// The device key rotate_device_key answers with, as hex.
schema::Schema device_key_schema() {
  using namespace schema;
  constexpr std::size_t kHexDigits = 2 * lg::kDeviceKeyBytes;
  return object(
      {required("sensor_code", text()), required("device_key", text(kHexDigits, kHexDigits))});
}

// A new device key for a sensor of the centre's county, shown this once.
Result<Response> rotate_device_key(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string code = req.params.at("code");
  auto key = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::string> {
    auto sensor = CUNHUO_TRY(lg::find_sensor(tx, code));
    if (!sensor || !may_edit_network(account, sensor->region_code)) return no_such("sensor");
    return lg::rotate_device_key(tx, code);
  }));
  JsonWriter w;
  w.begin_object().field("sensor_code", code).field("device_key", key).end_object();
  auto r = Response::json(201, w.take());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// A batch comes from a device with its sensor's key, or from staff: each reading is taken
// only for the sensors the sender answers for.
Result<lg::ReadingSender> reading_sender(LogisticsContext& ctx, const Request& req) {
  if (auto key = req.header("x-device-key")) {
    auto sensor =
        CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return lg::sensor_of_device_key(s, *key); }));
    if (!sensor)
      return make_error(ErrorKind::unauthorized, "bad_device_key", "this device key is not valid");
    return lg::ReadingSender{.sensor_code = *sensor};
  }
  auto account = CUNHUO_TRY(
      require_role(ctx.auth, req, {Role::county_centre, Role::station_operator, Role::admin}));
  if (account.role == Role::admin) return lg::ReadingSender{.anywhere = true};
  if (account.role == Role::station_operator) {
    if (!account.node_id)
      return make_error(ErrorKind::forbidden, "forbidden", "your account has no station");
    return lg::ReadingSender{.node_id = *account.node_id};
  }
  return lg::ReadingSender{.region_code = account.region_code};
}

// A batch of readings, as readings_from_json reads it. Absurd times and temperatures are
// left to check_readings, which names them absurd_time and absurd_value.
schema::Schema telemetry_schema() {
  using namespace schema;
  const Schema reading = object({
      required("sensor", text(kMaxCodeBytes)),
      required("at_ms", integer().described("milliseconds since 1970-01-01 UTC")),
      required("centi", integer().described("hundredths of a degree")),
  });
  return object({required("readings", array(reading, lg::kMaxReadingsPerBatch))});
}

// What post_telemetry answers: the batch's counts, the readings refused on their own and
// the excursions it opened.
schema::Schema ingest_report_schema() {
  using namespace schema;
  const Schema refused = object({required("index", integer(0)),
                                 required("code", choice({"future_time", "not_your_sensor"})),
                                 required("message", text())});
  return object({
      required("stored", integer(0)),
      required("duplicates", integer(0)),
      required("late", integer(0)),
      required("unknown_sensor", integer(0)),
      required("checked", integer(0)),
      required("refused", array(refused)),
      required("excursions", array(id())),
  });
}

Result<Response> post_telemetry(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const lg::ReadingSender sender = CUNHUO_TRY(reading_sender(ctx, req));
  const auto readings = CUNHUO_TRY(lg::readings_from_json(req.body));
  CUNHUO_CHECK(lg::check_readings(readings));
  auto report = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) {
    return lg::ingest(tx, readings, sender, ctx.excursions, ctx.clock);
  }));
  if (!report.excursions.empty()) ctx.dispatcher.wake();
  JsonWriter w;
  w.begin_object()
      .field("stored", static_cast<std::int64_t>(report.stored))
      .field("duplicates", static_cast<std::int64_t>(report.duplicates));
  w.field("late", static_cast<std::int64_t>(report.late))
      .field("unknown_sensor", static_cast<std::int64_t>(report.unknown_sensor));
  w.field("checked", static_cast<std::int64_t>(report.checked)).key("refused").begin_array();
  for (const auto& r : report.refused)
    w.begin_object()
        .field("index", static_cast<std::int64_t>(r.index))
        .field("code", r.code)
        .field("message", r.message)
        .end_object();
  w.end_array().key("excursions").begin_array();
  for (auto id : report.excursions) w.value(id);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// An excursion as write_excursion writes it.
schema::Schema excursion_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("node", text()),
      required("sensor", text()),
      required("kind", choice({"continuous", "cumulative", "silent"})),
      required("status", choice({"open", "spoiled", "released"})),
      required("detail", text()),
      required("started_at", schema::shanghai_time()),
      required("detected_at", schema::shanghai_time()),
      required("shipment_ids", array(id())),
  });
}

void write_excursion(JsonWriter& w, const lg::Excursion& e) {
  w.begin_object()
      .field("id", e.id)
      .field("node", e.node_code)
      .field("sensor", e.sensor_code)
      .field("kind", e.kind);
  w.field("status", e.status)
      .field("detail", e.detail)
      .field("started_at", format_shanghai(e.started_at_ms));
  w.field("detected_at", format_shanghai(e.detected_at_ms)).key("shipment_ids").begin_array();
  for (auto id : e.shipments) w.value(id);
  w.end_array().end_object();
}

Result<Response> list_excursions(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string status = req.query_param("status").value_or("open");
  if (status != "open" && status != "spoiled" && status != "released")
    return make_error(ErrorKind::invalid, "invalid_status", "open, spoiled or released", "status");
  auto list = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return lg::excursions_in(
        s, account.role == Role::admin ? std::string() : account.region_code.substr(0, 6), status);
  }));
  JsonWriter w;
  w.begin_object().key("excursions").begin_array();
  for (const auto& e : list) write_excursion(w, e);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// The centre's verdict, as decide_excursion reads it.
schema::Schema decision_schema() {
  return schema::object({schema::required("spoiled", schema::boolean())});
}

Result<Response> decide_excursion(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"spoiled"}));
  const bool spoiled = CUNHUO_TRY(body.boolean("spoiled"));
  auto response = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    JsonWriter w;
    write_excursion(w, CUNHUO_TRY(decide_excursion_as(tx, account, id, spoiled, ctx.clock)));
    return Response::json(200, w.take());
  });
  ctx.dispatcher.wake();
  return response;
}

// ---- pickup runs ------------------------------------------------------------------

// A day's pickup runs, as pickup_runs reads the request.
schema::Schema pickup_request_schema() {
  using namespace schema;
  return object(
      {required("date", date()), maybe("vehicle_capacity_crates", integer(1, kMaxVehicleCrates))});
}

// The plan pickup_runs answers with; distances in kilometres to a tenth.
schema::Schema pickup_plan_schema() {
  using namespace schema;
  const Schema run = object({
      required("stops", array(text())),
      required("km", number()),
      required("crates", integer(0)),
      required("start", text().described("HH:MM")),
      required("end", text().described("HH:MM")),
  });
  return object({
      required("id", id()),
      required("station", text()),
      required("date", date()),
      required("parcels", integer(0)),
      required("total_km", number()),
      required("baseline_km", number()),
      required("runs", array(run)),
      required("unserved", array(text())),
  });
}

void write_pickup_plan(JsonWriter& w, const lg::StationPickups& p) {
  w.begin_object()
      .field("id", p.id)
      .field("station", p.station_code)
      .field("date", p.date)
      .field("parcels", p.parcels);
  w.field("total_km", std::round(p.total_km * 10) / 10)
      .field("baseline_km", std::round(p.baseline_km * 10) / 10)
      .key("runs")
      .begin_array();
  for (const auto& r : p.runs) {
    w.begin_object().key("stops").begin_array();
    for (const auto& s : r.stops) w.value(s);
    w.end_array()
        .field("km", std::round(r.km * 10) / 10)
        .field("crates", r.crates)
        .field("start", r.start)
        .field("end", r.end)
        .end_object();
  }
  w.end_array().key("unserved").begin_array();
  for (const auto& u : p.unserved) w.value(u);
  w.end_array().end_object();
}

// The plans made for a station's day (?date=, today in Asia/Shanghai by default).
Result<Response> list_pickup_runs(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string code = req.params.at("code");
  const auto named = req.query_param("date");
  const auto date = named ? parse_date(*named) : shanghai_date(ctx.clock.now_ms());
  if (!date) return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto node = CUNHUO_TRY(lg::find_node(s, code));
    if (!node || !CUNHUO_TRY(may_scan_at(s, account, *node))) return no_such("station");
    auto plans = CUNHUO_TRY(lg::station_pickups_on(s, code, *date));
    JsonWriter w;
    w.begin_object().field("station", code).field("date", format_date(*date));
    w.key("plans").begin_array();
    for (const auto& p : plans) write_pickup_plan(w, p);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

Result<Response> pickup_runs(LogisticsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string code = req.params.at("code");
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"date", "vehicle_capacity_crates"}));
  auto date = parse_date(CUNHUO_TRY(body.string("date", 10)));
  if (!date) return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  lg::PickupVehicle vehicle;
  vehicle.capacity_crates = static_cast<int>(
      CUNHUO_TRY(body.optional_integer("vehicle_capacity_crates", 1, 1000)).value_or(40));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto node = CUNHUO_TRY(lg::find_node(tx, code));
    if (!node || !CUNHUO_TRY(may_scan_at(tx, account, *node))) return no_such("station");
    auto p = CUNHUO_TRY(lg::plan_station_pickups(tx, code, *date, vehicle, ctx.clock));
    JsonWriter w;
    write_pickup_plan(w, p);
    return Response::json(201, w.take());
  });
}

// ---- pickup codes and handover --------------------------------------------------

// The parcel `:number` waiting for its recipient at the caller's station (an operator's
// own; for admin and the centre, the parcel's destination).
Result<lg::Shipment> parcel_waiting(db::Session& s, const Account& a, const std::string& number) {
  auto sh = CUNHUO_TRY(lg::find_shipment(s, number));
  if (!sh) return no_such("shipment");
  auto node = CUNHUO_TRY(lg::find_node(s, sh->destination_code));
  if (!node || !CUNHUO_TRY(may_scan_at(s, a, *node))) return no_such("shipment");
  return parcel_for_pickup(s, *node, number);
}

schema::Schema pickup_code_sent_schema() {
  using namespace schema;
  return object({required("tracking_number", text()),
                 required("expires_at", shanghai_time().described("the new code's expiry"))});
}

// A new pickup code for a parcel waiting for its recipient (the last one lost, expired or
// locked by wrong tries): sent by SMS to the recipient, never in the answer.
Result<Response> resend_pickup_code(LogisticsContext& ctx, const Call& call) {
  const std::string number = call.request.params.at("number");
  const Account& account = call.caller();
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto parcel = CUNHUO_TRY(parcel_waiting(tx, account, number));
    const auto expires = CUNHUO_TRY(send_pickup_code(tx, parcel, ctx.clock));
    JsonWriter w;
    w.begin_object().field("tracking_number", parcel.tracking_number);
    w.field("expires_at", format_shanghai(expires)).end_object();
    return Response::json(201, w.take());
  });
}

schema::Schema handover_schema() {
  using namespace schema;
  return object({required("code", text(lg::kPickupCodeDigits).described("the 6-digit code"))});
}

// Hands a parcel to its recipient against the pickup code: the delivered scan, with the
// code as its proof. A wrong code writes nothing but the try it costs.
Result<Response> hand_over_parcel(LogisticsContext& ctx, const Call& call) {
  const std::string number = call.request.params.at("number");
  const Account& account = call.caller();
  const Json doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"code"}));
  const std::string code = CUNHUO_TRY(body.string("code", lg::kPickupCodeDigits));
  lg::PickupCheck check = lg::PickupCheck::missing;
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<std::optional<Response>> {
    const auto parcel = CUNHUO_TRY(parcel_waiting(tx, account, number));
    check = CUNHUO_TRY(hand_over(tx, ctx.planner, account, parcel, code, ctx.clock));
    if (check != lg::PickupCheck::accepted) return std::optional<Response>();  // commits the try
    JsonWriter w;
    write_shipment(w, *CUNHUO_TRY(lg::find_shipment(tx, number)), true);
    return std::optional<Response>(Response::json(200, w.take()));
  });
  ctx.dispatcher.wake();
  if (!answer.ok()) return answer.error();
  if (!*answer) return pickup_refusal(check);
  return std::move(**answer);
}

}  // namespace

void add_logistics_routes(RouteTable& table, LogisticsContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  table.add({.method = "POST",
             .pattern = "/api/v1/network/nodes",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = new_node_schema(),
             .response_schema = created_node_schema(),
             .success_status = 201,
             .summary = "Add a service point, station, cold store or hub (county centre)",
             .handler = bind(create_node)});
  table.add({.method = "POST",
             .pattern = "/api/v1/network/links",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = new_link_schema(),
             .response_schema = created_link_schema(),
             .success_status = 201,
             .summary = "Add a link with its mode, duration, cost and timetable (county centre)",
             .handler = bind(create_link)});
  table.add({.method = "GET",
             .pattern = "/api/v1/network/links",
             .access = anyone(),
             .response_schema = schema::list_of("links", link_schema()),
             .summary = "Every link with its timetable",
             .handler = bind(list_links)});
  table.add({.method = "POST",
             .pattern = "/api/v1/routes/plan",
             .access = only({Role::station_operator, Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = plan_request_schema(),
             .response_schema = plan_schema(),
             .summary = "The earliest cold-chain-feasible route (or the cheapest arriving by "
                        "arrive_by_ms; logistics staff)",
             .handler = bind(plan_route)});
  table.add({.method = "GET",
             .pattern = "/api/v1/tracking/:number",
             .access = anyone(),
             .response_schema = shipment_schema(false),
             .summary = "Public tracking: hops, events and ETA, no personal data",
             .handler = bind(track)});
  table.add({.method = "GET",
             .pattern = "/api/v1/orders/:id/shipments",
             .access = signed_in(),
             .response_schema = schema::list_of("shipments", shipment_schema(true)),
             .summary = "An order's shipments in full (its buyer, its shop, the county)",
             .handler = bind(order_shipments)});
  table.add({.method = "POST",
             .pattern = "/api/v1/shipments/:number/scans",
             .access = only({Role::station_operator, Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = scan_request_schema(),
             .response_schema = shipment_schema(true),
             .success_status = 201,
             .summary = "Record a scan (EPCIS-shaped) at your station",
             .handler = bind(scan)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/shipments",
       .access = only({Role::station_operator, Role::county_centre, Role::admin}),
       .response_schema = shipment_page_schema(),
       .query = {{.name = "view",
                  .description = schema::one_of(shipment_views()),
                  .required = true},
                 {.name = "node", .description = "a node's code (the centre, admin)"},
                 {.name = "county", .description = "a county's 6-digit code (admin)"},
                 {.name = "limit", .type = "integer", .description = "1 to 100; 20 by default"},
                 {.name = "cursor", .description = "next_cursor of the page before"}},
       .errors = {"invalid_view", "view_not_for_your_role", "not_for_this_view", "missing_node",
                  "unknown_node", "missing_county", "invalid_region_code", "outside_your_area",
                  "invalid_limit", "invalid_cursor"},
       .summary = "Parcels a station sees (arriving, in_store, to_dispatch at its node) or the "
                  "centre (late, held, unroutable, excursion in its county), oldest first",
       .handler = bind(list_shipments)});
  table.add({.method = "POST",
             .pattern = "/api/v1/stations/:code/pickup-runs",
             .access = only({Role::station_operator, Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = pickup_request_schema(),
             .response_schema = pickup_plan_schema(),
             .success_status = 201,
             .summary = "Plan the day's pickup runs to the township's village points (savings, "
                        "against a nearest-neighbour baseline)",
             .handler = bind(pickup_runs)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/stations/:code/pickup-runs",
       .access = only({Role::station_operator, Role::county_centre, Role::admin}),
       .response_schema = schema::object(
           {schema::required("station", schema::text()), schema::required("date", schema::date()),
            schema::required("plans", schema::array(pickup_plan_schema()))}),
       .query = {{.name = "date", .description = "YYYY-MM-DD; today (Asia/Shanghai) if absent"}},
       .errors = {"invalid_date"},
       .summary = "The pickup runs planned for a station's day, oldest plan first",
       .handler = bind(list_pickup_runs)});
  table.add({.method = "POST",
             .pattern = "/api/v1/sensors",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = new_sensor_schema(),
             .response_schema = created_sensor_schema(),
             .success_status = 201,
             .summary = "Register a temperature sensor at a node (county centre)",
             .handler = bind(create_sensor)});
  table.add({.method = "POST",
             .pattern = "/api/v1/sensors/:code/device-key",
             .access = only({Role::county_centre, Role::admin}),
             .response_schema = device_key_schema(),
             .success_status = 201,
             .summary = "A new device key for a sensor, shown once (county centre); a device sends "
                        "it as X-Device-Key",
             .handler = bind(rotate_device_key)});
  // Readings come from staff sessions or from a sensor's own device key: the handler asks
  // which and checks the sender against each sensor (telemetry_sender), not the table.
  table.add({.method = "POST",
             .pattern = "/api/v1/telemetry",
             .access = anyone(),
             .body = Body::json,
             .max_body = kMaxTelemetryBody,
             .request_schema = telemetry_schema(),
             .response_schema = ingest_report_schema(),
             .errors = {"unauthenticated", "bad_device_key", "batch_too_large", "absurd_time",
                        "absurd_value"},
             .summary = "A batch of sensor readings (hundredths of a degree), by staff or with a "
                        "sensor's X-Device-Key",
             .handler = bind(post_telemetry)});
  table.add({.method = "GET",
             .pattern = "/api/v1/excursions",
             .access = only({Role::county_centre, Role::admin}),
             .response_schema = schema::list_of("excursions", excursion_schema()),
             .query = {{.name = "status", .description = "open (default), spoiled or released"}},
             .summary = "Cold-chain excursions in the county (status=open|spoiled|released)",
             .handler = bind(list_excursions)});
  table.add({.method = "POST",
             .pattern = "/api/v1/excursions/:id/decision",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = decision_schema(),
             .response_schema = excursion_schema(),
             .summary = "Confirm the held parcels spoiled (refunded) or release them",
             .handler = bind(decide_excursion)});
  table.add({.method = "POST",
             .pattern = "/api/v1/shipments/:number/pickup-code",
             .access = only({Role::station_operator, Role::county_centre, Role::admin}),
             .response_schema = pickup_code_sent_schema(),
             .success_status = 201,
             .errors = {"not_ready_for_pickup", "pickup_code_too_soon", "pickup_code_sends_spent",
                        "pickup_code_used"},
             .summary = "Send the recipient a new pickup code (取件码) for a parcel waiting at "
                        "your station; the code goes by SMS only",
             .handler = bind(resend_pickup_code)});
  table.add({.method = "POST",
             .pattern = "/api/v1/shipments/:number/handover",
             .access = only({Role::station_operator, Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = handover_schema(),
             .response_schema = shipment_schema(true),
             .errors = {"not_ready_for_pickup", "wrong_pickup_code", "pickup_code_locked",
                        "pickup_code_expired", "no_pickup_code"},
             .summary = "Hand a parcel to its recipient against their pickup code: the "
                        "delivered scan, with the code as proof",
             .handler = bind(hand_over_parcel)});
}

}  // namespace cunhuo::storefront
