#include "logistics/shipments.hpp"

#include <sodium.h>

#include <algorithm>
#include <set>

#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup_codes.hpp"

namespace cunhuo::logistics {
namespace {

constexpr db::Migration kMigrations[] = {
    {"logistics", 3, "shipments and their EPCIS-shaped scan events",
     "CREATE TABLE IF NOT EXISTS shipments (\n"
     "  id {{ID}},\n"
     "  tracking_number VARCHAR(20) NOT NULL UNIQUE,\n"
     "  order_id BIGINT NOT NULL,\n"
     "  origin_node BIGINT NOT NULL,\n"
     "  destination_node BIGINT NOT NULL,\n"
     "  current_node BIGINT NOT NULL,\n"
     "  current_link BIGINT,\n"
     "  temperature_class VARCHAR(10) NOT NULL,\n"
     "  lot VARCHAR(60) NOT NULL,\n"
     "  crates INT NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  note VARCHAR(300) NOT NULL,\n"
     "  ready_at BIGINT NOT NULL,\n"
     "  shelf_deadline BIGINT NOT NULL,\n"
     "  eta BIGINT,\n"
     "  route TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id);\n"
     "CREATE INDEX IF NOT EXISTS shipments_node ON shipments (current_node, status);\n"
     "CREATE TABLE IF NOT EXISTS scan_events (\n"
     "  id {{ID}},\n"
     "  shipment_id BIGINT NOT NULL,\n"
     "  event_time BIGINT NOT NULL,\n"
     "  event_zone VARCHAR(6) NOT NULL,\n"
     "  record_time BIGINT NOT NULL,\n"
     "  read_point VARCHAR(40) NOT NULL,\n"
     "  biz_location VARCHAR(40) NOT NULL,\n"
     "  biz_step VARCHAR(20) NOT NULL,\n"
     "  disposition VARCHAR(20) NOT NULL,\n"
     "  actor VARCHAR(60) NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS scan_events_shipment ON scan_events (shipment_id, id);\n"},
    // The next hop of the planned remainder, kept in columns so that a station's and a
    // centre's lists are read by index, not by parsing every route; ran_late marks a
    // parcel once scanned later than planned. Rows from before keep nulls until scanned.
    {"logistics", 7, "shipments' next hop and lateness, for the station and centre lists",
     "ALTER TABLE shipments ADD COLUMN next_node BIGINT;\n"
     "ALTER TABLE shipments ADD COLUMN next_depart BIGINT;\n"
     "ALTER TABLE shipments ADD COLUMN next_arrive BIGINT;\n"
     "ALTER TABLE shipments ADD COLUMN ran_late INT NOT NULL DEFAULT 0;\n"
     "CREATE INDEX IF NOT EXISTS shipments_next ON shipments (next_node, status);\n"
     "CREATE INDEX IF NOT EXISTS shipments_status ON shipments (status, id);\n"},
    // Every node a shipment was planned through, with its order: a station's orders are
    // read from here by node (orders_through_node). Shipments made before it get their
    // origin, current and destination nodes.
    {"logistics", 9, "the nodes each shipment passes through",
     "CREATE TABLE IF NOT EXISTS shipment_stops (\n"
     "  node_id BIGINT NOT NULL,\n"
     "  order_id BIGINT NOT NULL,\n"
     "  shipment_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (node_id, order_id, shipment_id)\n"
     ");\n"
     "INSERT INTO shipment_stops (node_id, order_id, shipment_id) "
     "SELECT DISTINCT origin_node, order_id, id FROM shipments;\n"
     "INSERT INTO shipment_stops (node_id, order_id, shipment_id) "
     "SELECT DISTINCT destination_node, order_id, id FROM shipments s WHERE NOT EXISTS "
     "(SELECT 1 FROM shipment_stops t WHERE t.node_id = s.destination_node "
     "AND t.shipment_id = s.id);\n"
     "INSERT INTO shipment_stops (node_id, order_id, shipment_id) "
     "SELECT DISTINCT current_node, order_id, id FROM shipments s WHERE NOT EXISTS "
     "(SELECT 1 FROM shipment_stops t WHERE t.node_id = s.current_node "
     "AND t.shipment_id = s.id);\n"},
    // The live feed asks, for each order event, which nodes the order passes (nodes_of_order).
    {"logistics", 10, "the nodes of an order found by the order",
     "CREATE INDEX IF NOT EXISTS shipment_stops_by_order ON shipment_stops (order_id, node_id);\n"},
};

constexpr EnumNames<ShipmentView, 7> kViewNames = {{
    {ShipmentView::arriving, "arriving"},
    {ShipmentView::in_store, "in_store"},
    {ShipmentView::to_dispatch, "to_dispatch"},
    {ShipmentView::late, "late"},
    {ShipmentView::held, "held"},
    {ShipmentView::unroutable, "unroutable"},
    {ShipmentView::excursion, "excursion"},
}};

const std::set<std::string, std::less<>> kBizSteps = {"receiving", "storing",    "departing",
                                                      "arriving",  "delivering", "holding"};
const std::set<std::string, std::less<>> kDispositions = {"in_progress", "in_transit", "damaged",
                                                          "expired",     "held",       "delivered"};
constexpr std::int64_t kLateToleranceMs =
    30 * 60 * 1000;  // later than this against the plan: re-plan

std::string route_json(const std::vector<PlannedHop>& hops) {
  JsonWriter w;
  w.begin_array();
  for (const auto& h : hops)
    w.begin_object()
        .field("link_id", h.link_id)
        .field("from", h.from_code)
        .field("to", h.to_code)
        .field("mode", h.mode)
        .field("refrigerated", h.refrigerated)
        .field("depart_ms", h.depart_ms)
        .field("arrive_ms", h.arrive_ms)
        .field("cost_fen", h.cost_fen)
        .end_object();
  w.end_array();
  return w.take();
}

std::vector<PlannedHop> route_from(const std::string& text) {
  std::vector<PlannedHop> out;
  auto doc = Json::parse(text);
  if (!doc.ok() || doc->type() != Json::Type::array) return out;
  for (const auto& h : doc->as_array())
    out.push_back(PlannedHop{h.find("link_id")->as_integer(), h.find("from")->as_string(),
                             h.find("to")->as_string(), h.find("mode")->as_string(),
                             h.find("refrigerated")->as_bool(), h.find("depart_ms")->as_integer(),
                             h.find("arrive_ms")->as_integer(), h.find("cost_fen")->as_integer()});
  return out;
}

constexpr const char* kShipmentColumns =
    "s.id, s.order_id, s.tracking_number, o.code, d.code, s.temperature_class, s.lot, s.status, "
    "c.code, s.note, s.crates, "
    "s.ready_at, s.shelf_deadline, s.eta, s.route FROM shipments s JOIN network_nodes o ON o.id = "
    "s.origin_node "
    "JOIN network_nodes d ON d.id = s.destination_node JOIN network_nodes c ON c.id = "
    "s.current_node";

Result<Shipment> shipment_from(db::Session& s, const db::Row& r) {
  Shipment sh;
  sh.id = r.i64(0);
  sh.order_id = r.i64(1);
  sh.tracking_number = r.str(2);
  sh.origin_code = r.str(3);
  sh.destination_code = r.str(4);
  sh.temperature_class = CUNHUO_TRY(parse_temperature_class(r.str(5)));
  sh.lot = r.str(6);
  sh.status = r.str(7);
  sh.current_code = r.str(8);
  sh.note = r.str(9);
  sh.crates = static_cast<int>(r.i64(10));
  sh.ready_at_ms = r.i64(11);
  sh.shelf_deadline_ms = r.i64(12);
  sh.eta_ms = r.opt_i64(13);
  sh.route = route_from(r.str(14));
  for (const auto& e : CUNHUO_TRY(s.query("SELECT read_point, biz_location, biz_step, disposition, "
                                          "actor, event_time, record_time, event_zone "
                                          "FROM scan_events WHERE shipment_id = ? ORDER BY id",
                                          {sh.id})))
    sh.scans.push_back(
        ScanEvent{e.str(0), e.str(1), e.str(2), e.str(3), e.str(4), e.i64(5), e.i64(6), e.str(7)});
  return sh;
}

Result<std::int64_t> node_id(db::Session& tx, std::string_view code, const char* field) {
  auto n = CUNHUO_TRY(find_node(tx, code));
  if (!n)
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + std::string(code), field);
  return n->id.value;
}

constexpr int kTrackingDigits = 12;
// 250 is the largest multiple of 10 a byte holds: bytes above it are drawn again, so
// every digit is equally likely.
constexpr unsigned char kUnbiasedByteLimit = 250;

// Twelve digits from libsodium's CSPRNG: a number one has seen tells nothing of the
// next (a seeded mt19937 would, after a few hundred numbers).
std::string random_tracking_number() {
  std::string digits = "CH";
  unsigned char bytes[kTrackingDigits * 2];
  while (digits.size() < 2 + kTrackingDigits) {
    randombytes_buf(bytes, sizeof bytes);
    for (unsigned char b : bytes)
      if (b < kUnbiasedByteLimit && digits.size() < 2 + kTrackingDigits)
        digits += static_cast<char>('0' + b % 10);
  }
  return digits;
}

// Tracking numbers are random, not counted, so one cannot guess the next parcel's.
Result<std::string> fresh_tracking_number(db::Session& tx) {
  if (sodium_init() < 0)
    return make_error(ErrorKind::internal, "no_random", "libsodium did not start");
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string digits = random_tracking_number();
    if (!CUNHUO_TRY(tx.query_one("SELECT 1 FROM shipments WHERE tracking_number = ?", {digits})))
      return digits;
  }
  return make_error(ErrorKind::unavailable, "busy", "could not pick a tracking number");
}

Status publish(db::Session& tx, const char* topic, const Shipment& sh,
               std::optional<std::string> bearer, const Clock& clock) {
  const ShipmentEvent event{.order_id = sh.order_id,
                            .shipment_id = sh.id,
                            .tracking_number = sh.tracking_number,
                            .bearer = std::move(bearer)};
  CUNHUO_TRY(outbox::publish(tx, topic, event.encode(), clock));
  return {};
}

// Records that shipment `id` passes through the node `code` (a repeat changes nothing).
Status record_stop(db::Session& tx, std::int64_t id, std::string_view code) {
  CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                         " INTO shipment_stops (node_id, order_id, shipment_id) "
                         "SELECT n.id, s.order_id, s.id FROM shipments s "
                         "JOIN network_nodes n ON n.code = ? WHERE s.id = ?",
                     {code, id}));
  return {};
}

// Every stop of a (re-)planned route is kept: a station sees the orders once routed
// through it, even when a re-plan later takes them elsewhere.
Status record_stops(db::Session& tx, std::int64_t id, const std::vector<PlannedHop>& route) {
  for (const auto& hop : route) {
    CUNHUO_CHECK(record_stop(tx, id, hop.from_code));
    CUNHUO_CHECK(record_stop(tx, id, hop.to_code));
  }
  return {};
}

// The route ahead and, in their own columns, its next hop.
Status save_route(db::Session& tx, std::int64_t id, const std::vector<PlannedHop>& route,
                  std::optional<std::int64_t> eta, std::string_view note, std::int64_t now) {
  db::Value next, depart, arrive;
  if (!route.empty()) {
    next = CUNHUO_TRY(node_id(tx, route.front().to_code, "route"));
    depart = route.front().depart_ms;
    arrive = route.front().arrive_ms;
  }
  CUNHUO_TRY(
      tx.exec("UPDATE shipments SET route = ?, eta = ?, note = ?, next_node = ?, next_depart = ?, "
              "next_arrive = ?, updated_at = ? WHERE id = ?",
              {route_json(route), eta, note, next, depart, arrive, now, id}));
  return record_stops(tx, id, route);
}

}  // namespace

std::span<const db::Migration> shipment_migrations() { return kMigrations; }

Result<Shipment> create_shipment(db::Session& tx, Planner& planner, const NewShipment& n,
                                 const Clock& clock) {
  const std::int64_t origin = CUNHUO_TRY(node_id(tx, n.origin_code, "origin_code"));
  const std::int64_t destination = CUNHUO_TRY(node_id(tx, n.destination_code, "destination_code"));
  std::vector<PlannedHop> route;
  std::optional<std::int64_t> eta;
  std::string status = "planned", note;
  auto plan = planner.plan(PlanRequest{.origin_code = n.origin_code,
                                       .destination_code = n.destination_code,
                                       .temperature_class = n.temperature_class,
                                       .ready_at_ms = n.ready_at_ms,
                                       .shelf_deadline_ms = n.shelf_deadline_ms,
                                       .crates = n.crates,
                                       .arrive_by_ms = std::nullopt});
  if (plan.ok()) {
    route = plan->hops;
    eta = plan->arrival_ms;
  } else if (plan.error().code == "no_route") {
    status = "unroutable";  // the centre sees it and arranges something else
    note = plan.error().message;
  } else {
    return plan.error();
  }
  const std::string tracking = CUNHUO_TRY(fresh_tracking_number(tx));
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO shipments (tracking_number, order_id, origin_node, destination_node, "
              "current_node, temperature_class, lot, crates, "
              "status, note, ready_at, shelf_deadline, eta, route, created_at, updated_at) VALUES "
              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {tracking, n.order_id, origin, destination, origin, to_string(n.temperature_class),
               n.lot, n.crates, status, note, n.ready_at_ms, n.shelf_deadline_ms, eta,
               route_json(route), now, now}));
  auto made = CUNHUO_TRY(find_shipment(tx, tracking));
  CUNHUO_CHECK(record_stop(tx, made->id, n.origin_code));
  CUNHUO_CHECK(record_stop(tx, made->id, n.destination_code));
  CUNHUO_CHECK(save_route(tx, made->id, route, eta, note, now));
  return std::move(*made);
}

Result<std::optional<Shipment>> find_shipment(db::Session& s, std::string_view tracking_number) {
  auto row = CUNHUO_TRY(
      s.query_one(std::string("SELECT ") + kShipmentColumns + " WHERE s.tracking_number = ?",
                  {tracking_number}));
  if (!row) return std::optional<Shipment>();
  return std::optional<Shipment>(CUNHUO_TRY(shipment_from(s, *row)));
}

Result<std::vector<Shipment>> shipments_of_order(db::Session& s, std::int64_t order_id) {
  std::vector<Shipment> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string("SELECT ") + kShipmentColumns + " WHERE s.order_id = ? ORDER BY s.id",
           {order_id})))
    out.push_back(CUNHUO_TRY(shipment_from(s, r)));
  return out;
}

Result<Shipment> record_scan(db::Session& tx, Planner& planner, std::string_view tracking_number,
                             const ScanInput& scan, std::string_view actor, const Clock& clock) {
  if (!kBizSteps.contains(scan.biz_step))
    return make_error(ErrorKind::invalid, "invalid_biz_step",
                      "receiving, storing, departing, arriving, delivering or holding", "biz_step");
  if (!kDispositions.contains(scan.disposition))
    return make_error(ErrorKind::invalid, "invalid_disposition",
                      "in_progress, in_transit, damaged, expired, held or delivered",
                      "disposition");
  auto found = CUNHUO_TRY(find_shipment(tx, tracking_number));
  if (!found)
    return make_error(ErrorKind::not_found, "not_found", "no such shipment", "tracking_number");
  Shipment sh = std::move(*found);
  if (sh.status == "delivered" || sh.status == "spoiled" || sh.status == "unroutable" ||
      sh.status == "cancelled")
    return make_error(ErrorKind::conflict, "shipment_closed", "this shipment is " + sh.status,
                      "tracking_number");
  // Where the parcel may be scanned: where it is, or a stop ahead on its route.
  std::size_t at = sh.route.size() + 1;
  if (scan.node_code == sh.current_code) at = 0;
  for (std::size_t i = 0; i < sh.route.size() && at > sh.route.size(); ++i)
    if (sh.route[i].to_code == scan.node_code) at = i + 1;
  if (at > sh.route.size())
    return make_error(ErrorKind::unprocessable, "not_on_route",
                      "node " + scan.node_code + " is not on this shipment's route", "node_code");
  const auto now = clock.now_ms();
  const std::int64_t when = scan.event_time_ms > 0 ? scan.event_time_ms : now;
  if (when > now + 5 * 60 * 1000)
    return make_error(ErrorKind::invalid, "in_the_future", "a scan cannot be in the future",
                      "event_time_ms");
  const std::int64_t node = CUNHUO_TRY(node_id(tx, scan.node_code, "node_code"));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO scan_events (shipment_id, event_time, event_zone, record_time, read_point, "
      "biz_location, biz_step, "
      "disposition, actor) VALUES (?, ?, '+08:00', ?, ?, ?, ?, ?, ?)",
      {sh.id, when, now, scan.node_code, scan.node_code, scan.biz_step, scan.disposition, actor}));
  const bool delivered = scan.biz_step == "delivering" && scan.node_code == sh.destination_code;
  std::string status = delivered                                                  ? "delivered"
                       : scan.biz_step == "holding" || scan.disposition == "held" ? "held"
                       : scan.biz_step == "departing"                             ? "in_transit"
                                                                                  : "at_node";
  if (scan.disposition == "damaged" || scan.disposition == "expired") status = "held";
  if (sh.status == "held") {  // on hold until the centre decides: it may move, not be delivered
    if (delivered)
      return make_error(ErrorKind::conflict, "on_hold", "this parcel is on hold after an excursion",
                        "tracking_number");
    status = "held";
  }
  // Riding a link, the parcel is exposed to what the vehicle's sensor reads.
  std::optional<std::int64_t> riding;
  if (status == "in_transit")
    for (const auto& h : sh.route)
      if (h.from_code == scan.node_code) {
        riding = h.link_id;
        break;
      }
  CUNHUO_TRY(
      tx.exec("UPDATE shipments SET status = ?, current_node = ?, current_link = ?, updated_at = ? "
              "WHERE id = ?",
              {status, node, riding, now, sh.id}));
  // The route ahead: what is left after this stop; re-planned when the parcel runs late.
  std::vector<PlannedHop> rest(sh.route.begin() + static_cast<std::ptrdiff_t>(at), sh.route.end());
  const bool late = at > 0 && when > sh.route[at - 1].arrive_ms + kLateToleranceMs;
  std::string note = sh.note;
  std::optional<std::int64_t> eta = sh.eta_ms;
  if (late) CUNHUO_TRY(tx.exec("UPDATE shipments SET ran_late = 1 WHERE id = ?", {sh.id}));
  if (!delivered && status != "held" && late) {
    auto again = planner.plan(PlanRequest{.origin_code = scan.node_code,
                                          .destination_code = sh.destination_code,
                                          .temperature_class = sh.temperature_class,
                                          .ready_at_ms = when,
                                          .shelf_deadline_ms = sh.shelf_deadline_ms,
                                          .crates = sh.crates,
                                          .arrive_by_ms = std::nullopt});
    if (again.ok()) {
      rest = again->hops;
      eta = again->arrival_ms;
      note = "re-planned at " + scan.node_code + " after running late";
    } else {
      note = again.error().message;
    }
  }
  if (delivered) {
    rest.clear();
    eta = when;
    if (!scan.proof.empty()) note = "delivered against " + scan.proof;
  }
  CUNHUO_CHECK(save_route(tx, sh.id, rest, eta, note, now));
  auto updated = CUNHUO_TRY(find_shipment(tx, tracking_number));
  if (!has_left_origin(sh) && has_left_origin(*updated))
    CUNHUO_CHECK(publish(tx, kShipmentDeparted, *updated, std::nullopt, clock));
  if (delivered) CUNHUO_CHECK(publish(tx, kShipmentDelivered, *updated, std::nullopt, clock));
  // Scanned in where its recipient collects it: the recipient is sent a pickup code.
  const bool in_at_destination = status == "at_node" && scan.node_code == sh.destination_code;
  if (in_at_destination && !(sh.status == "at_node" && sh.current_code == sh.destination_code))
    CUNHUO_CHECK(publish(tx, kShipmentReadyForPickup, *updated, std::nullopt, clock));
  return std::move(*updated);
}

bool has_left_origin(const Shipment& shipment) {
  return std::ranges::any_of(shipment.scans, [&](const ScanEvent& e) {
    return e.biz_step == "departing" || e.read_point != shipment.origin_code;
  });
}

std::string_view to_string(ShipmentView view) { return name_of(kViewNames, view); }

Result<ShipmentView> parse_shipment_view(std::string_view text) {
  if (auto v = value_of(kViewNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_view",
                    "arriving, in_store, to_dispatch, late, held, unroutable or excursion", "view");
}

bool is_node_view(ShipmentView view) {
  return view == ShipmentView::arriving || view == ShipmentView::in_store ||
         view == ShipmentView::to_dispatch;
}

namespace {

constexpr const char* kOpenExcursion =
    "EXISTS (SELECT 1 FROM excursion_shipments x JOIN excursions e ON e.id = x.excursion_id "
    "WHERE x.shipment_id = s.id AND e.status = 'open')";
constexpr const char* kMoving = "s.status IN ('planned', 'at_node', 'in_transit')";
constexpr const char* kStanding =
    "s.current_node = ? AND s.current_link IS NULL AND s.status IN ('planned', 'at_node', 'held')";

// The view's condition and its parameters.
std::pair<std::string, std::vector<db::Value>> view_condition(const ShipmentListQuery& q) {
  using enum ShipmentView;
  const std::string county = q.county_code + "%";
  const std::string in_county = "(o.region_code LIKE ? OR c.region_code LIKE ?)";
  switch (q.view) {
    case arriving: return {std::string("s.next_node = ? AND ") + kMoving, {q.node_id}};
    case in_store: return {kStanding, {q.node_id}};
    case to_dispatch:
      return {std::string(kStanding) + " AND s.status <> 'held' AND s.next_depart < ?",
              {q.node_id, q.day_end_ms}};
    case late:
      return {in_county + " AND s.status IN ('planned', 'at_node', 'in_transit', 'held') AND " +
                  "(s.ran_late = 1 OR s.next_arrive < ?)",
              {county, county, q.now_ms}};
    case held: return {in_county + " AND s.status = 'held'", {county, county}};
    case unroutable: return {in_county + " AND s.status = 'unroutable'", {county, county}};
    case excursion: return {in_county + " AND " + kOpenExcursion, {county, county}};
  }
  return {"1 = 0", {}};
}

Result<ShipmentLine> line_from(const db::Row& r, std::int64_t now) {
  ShipmentLine l{.id = r.i64(0),
                 .order_id = r.i64(1),
                 .tracking_number = r.str(2),
                 .status = r.str(3),
                 .current_code = r.str(4),
                 .next_code = r.is_null(5) ? std::nullopt : std::optional<std::string>(r.str(5)),
                 .planned_departure_ms = r.opt_i64(6),
                 .planned_arrival_ms = r.opt_i64(7),
                 .temperature_class = CUNHUO_TRY(parse_temperature_class(r.str(8)))};
  const bool open = l.status == "planned" || l.status == "at_node" || l.status == "in_transit" ||
                    l.status == "held";
  if (open && (r.i64(9) == 1 || (l.planned_arrival_ms && *l.planned_arrival_ms < now)))
    l.flags.emplace_back("late");
  if (l.status == "held") l.flags.emplace_back("held");
  if (l.status == "unroutable") l.flags.emplace_back("unroutable");
  if (r.i64(10) == 1) l.flags.emplace_back("excursion");
  return l;
}

}  // namespace

Result<std::vector<ShipmentLine>> list_shipments(db::Session& s, const ShipmentListQuery& q) {
  auto [where, params] = view_condition(q);
  params.insert(params.end(), {q.after_id.value_or(0), q.limit});
  std::vector<ShipmentLine> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(
           std::string(
               "SELECT s.id, s.order_id, s.tracking_number, s.status, c.code, nx.code, "
               "s.next_depart, s.next_arrive, s.temperature_class, s.ran_late, CASE WHEN ") +
               kOpenExcursion +
               " THEN 1 ELSE 0 END FROM shipments s "
               "JOIN network_nodes o ON o.id = s.origin_node "
               "JOIN network_nodes c ON c.id = s.current_node "
               "LEFT JOIN network_nodes nx ON nx.id = s.next_node WHERE " +
               where + " AND s.id > ? ORDER BY s.id LIMIT ?",
           params)))
    out.push_back(CUNHUO_TRY(line_from(r, q.now_ms)));
  return out;
}

Result<std::vector<std::int64_t>> hold_parcels_at(db::Session& tx, std::string_view node_code,
                                                  std::string_view reason, const Clock& clock) {
  const std::int64_t node = CUNHUO_TRY(node_id(tx, node_code, "node_code"));
  std::vector<std::int64_t> held;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT id FROM shipments WHERE current_node = ? AND status = 'at_node' ORDER BY id",
           {node})))
    held.push_back(r.i64(0));
  for (auto id : held)
    CUNHUO_TRY(
        tx.exec("UPDATE shipments SET status = 'held', note = ?, updated_at = ? WHERE id = ?",
                {reason, clock.now_ms(), id}));
  return held;
}

Result<std::vector<std::int64_t>> hold_parcels_on(db::Session& tx, std::int64_t link_id,
                                                  std::string_view reason, const Clock& clock) {
  std::vector<std::int64_t> held;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT id FROM shipments WHERE current_link = ? AND status = 'in_transit' ORDER BY id",
           {link_id})))
    held.push_back(r.i64(0));
  for (auto id : held)
    CUNHUO_TRY(
        tx.exec("UPDATE shipments SET status = 'held', note = ?, updated_at = ? WHERE id = ?",
                {reason, clock.now_ms(), id}));
  return held;
}

Status mark_spoiled(db::Session& tx, std::int64_t shipment_id, std::string_view bearer,
                    const Clock& clock) {
  auto moved = CUNHUO_TRY(tx.exec(
      "UPDATE shipments SET status = 'spoiled', updated_at = ? WHERE id = ? AND status = 'held'",
      {clock.now_ms(), shipment_id}));
  if (moved.affected_rows != 1)
    return make_error(ErrorKind::conflict, "not_held",
                      "only a held parcel can be confirmed spoiled", "id");
  auto row =
      CUNHUO_TRY(tx.query_one("SELECT tracking_number FROM shipments WHERE id = ?", {shipment_id}));
  auto sh = CUNHUO_TRY(find_shipment(tx, row->str(0)));
  auto named = bearer.empty() ? std::nullopt : std::optional<std::string>(bearer);
  return publish(tx, kShipmentSpoiledTopic, *sh, std::move(named), clock);
}

Status release_hold(db::Session& tx, std::int64_t shipment_id, const Clock& clock) {
  auto moved = CUNHUO_TRY(
      tx.exec("UPDATE shipments SET status = CASE WHEN current_link IS NULL THEN 'at_node' ELSE "
              "'in_transit' END, "
              "note = 'released after review', updated_at = ? WHERE id = ? AND status = 'held'",
              {clock.now_ms(), shipment_id}));
  if (moved.affected_rows != 1)
    return make_error(ErrorKind::conflict, "not_held", "only a held parcel can be released", "id");
  return {};
}

Status cancel_order_shipments(db::Session& tx, std::int64_t order_id, const Clock& clock) {
  CUNHUO_TRY(tx.exec(
      "UPDATE shipments SET status = 'cancelled', note = 'the order was cancelled', updated_at = ? "
      "WHERE order_id = ? AND status IN ('planned', 'at_node', 'in_transit', 'held', 'unroutable')",
      {clock.now_ms(), order_id}));
  return {};
}

// The classes are declared in order of the cold they need.
TemperatureClass colder_class(TemperatureClass a, TemperatureClass b) { return std::max(a, b); }

void add_lot(std::string& lots, std::string_view lot) {
  if (lot.empty() || lots.size() + lot.size() + 1 > kMaxShipmentLotBytes) return;
  if (!lots.empty()) lots += ',';
  lots += lot;
}

std::vector<std::string> lots_in(std::string_view lots) {
  std::vector<std::string> out;
  while (!lots.empty()) {
    const auto comma = lots.find(',');
    if (comma != 0) out.emplace_back(lots.substr(0, comma));
    if (comma == std::string_view::npos) break;
    lots.remove_prefix(comma + 1);
  }
  return out;
}

std::string ShipmentEvent::encode() const {
  JsonWriter w;
  w.begin_object().field("order_id", order_id).field("shipment_id", shipment_id);
  w.field("tracking_number", tracking_number);
  if (bearer) w.field("bearer", *bearer);
  w.end_object();
  return w.take();
}

Result<ShipmentEvent> ShipmentEvent::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("ShipmentEvent", payload));
  return ShipmentEvent{.order_id = CUNHUO_TRY(p.integer("order_id")),
                       .shipment_id = CUNHUO_TRY(p.integer("shipment_id")),
                       .tracking_number = CUNHUO_TRY(p.string("tracking_number")),
                       .bearer = CUNHUO_TRY(p.optional_string("bearer"))};
}

Result<std::vector<std::int64_t>> orders_through_node(db::Session& s, std::int64_t node_id,
                                                      std::optional<std::int64_t> before_order,
                                                      int limit) {
  std::vector<std::int64_t> out;
  const auto rows = CUNHUO_TRY(
      before_order ? s.query("SELECT DISTINCT order_id FROM shipment_stops WHERE node_id = ? "
                             "AND order_id < ? ORDER BY order_id DESC LIMIT ?",
                             {node_id, *before_order, limit})
                   : s.query("SELECT DISTINCT order_id FROM shipment_stops WHERE node_id = ? "
                             "ORDER BY order_id DESC LIMIT ?",
                             {node_id, limit}));
  for (const auto& r : rows) out.push_back(r.i64(0));
  return out;
}

Result<std::vector<std::int64_t>> nodes_of_order(db::Session& s, std::int64_t order_id) {
  std::vector<std::int64_t> out;
  const auto rows = CUNHUO_TRY(
      s.query("SELECT DISTINCT node_id FROM shipment_stops WHERE order_id = ? ORDER BY node_id",
              {order_id}));
  for (const auto& r : rows) out.push_back(r.i64(0));
  return out;
}

}  // namespace cunhuo::logistics
