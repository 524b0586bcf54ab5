#include "logistics/network.hpp"

#include <array>

#include "core/enum_names.hpp"

#include "core/region.hpp"
#include "logistics/routing.hpp"

namespace cunhuo::logistics {
namespace {

constexpr db::Migration kMigrations[] = {
    {"logistics", 1, "network nodes",
     "CREATE TABLE IF NOT EXISTS network_nodes (\n"
     "  id {{ID}},\n"
     "  code VARCHAR(40) NOT NULL UNIQUE,\n"
     "  kind VARCHAR(20) NOT NULL,\n"
     "  name VARCHAR(200) NOT NULL,\n"
     "  region_code VARCHAR(12) NOT NULL,\n"
     "  cold_capacity_crates INTEGER NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS network_nodes_region ON network_nodes (region_code);\n"},
    {"logistics", 2, "network links with timetables",
     "CREATE TABLE IF NOT EXISTS network_links (\n"
     "  id {{ID}},\n"
     "  from_node BIGINT NOT NULL,\n"
     "  to_node BIGINT NOT NULL,\n"
     "  mode VARCHAR(20) NOT NULL,\n"
     "  refrigerated INT NOT NULL,\n"
     "  duration_min INT NOT NULL,\n"
     "  cost_fen BIGINT NOT NULL,\n"
     "  timetable VARCHAR(2000) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS network_links_from ON network_links (from_node);\n"},
    {"logistics", 5, "node positions, cold store ranges and pickup runs",
     "ALTER TABLE network_nodes ADD COLUMN lat_e6 BIGINT;\n"
     "ALTER TABLE network_nodes ADD COLUMN lon_e6 BIGINT;\n"
     "ALTER TABLE network_nodes ADD COLUMN min_centi INT;\n"
     "ALTER TABLE network_nodes ADD COLUMN max_centi INT;\n"
     "CREATE TABLE IF NOT EXISTS pickup_runs (\n"
     "  id {{ID}},\n"
     "  station_node BIGINT NOT NULL,\n"
     "  run_date VARCHAR(10) NOT NULL,\n"
     "  plan TEXT NOT NULL,\n"
     "  total_m BIGINT NOT NULL,\n"
     "  baseline_m BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS pickup_runs_station ON pickup_runs (station_node, run_date);\n"},
};

constexpr std::array<std::pair<NodeKind, std::string_view>, 5> kKindNames = {{
    {NodeKind::village_point, "village_point"},
    {NodeKind::township_station, "township_station"},
    {NodeKind::county_centre, "county_centre"},
    {NodeKind::cold_store, "cold_store"},
    {NodeKind::city_hub, "city_hub"},
}};

constexpr int kMaxCapacity = 1'000'000;
// A position is microdegrees: latitude within ±90°, longitude within ±180°. Compared
// directly, never through llabs, which has no answer for INT64_MIN.
constexpr std::int64_t kMaxLatE6 = 90'000'000, kMaxLonE6 = 180'000'000;

bool within(std::int64_t v, std::int64_t limit) { return v >= -limit && v <= limit; }

}  // namespace

std::span<const db::Migration> network_migrations() { return kMigrations; }

std::string_view to_string(NodeKind kind) { return name_of(kKindNames, kind); }

Result<NodeKind> parse_node_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_kind", "unknown node kind", "kind");
}

Result<NodeId> create_node(db::Session& tx, const NewNode& node, const Clock& clock) {
  if (node.code.empty() || node.code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "node code must be 1 to 40 bytes",
                      "code");
  if (node.name.empty() || node.name.size() > 200)
    return make_error(ErrorKind::invalid, "invalid_name", "node name must be 1 to 200 bytes",
                      "name");
  CUNHUO_TRY(region_level(node.region_code));
  if (node.cold_capacity_crates < 0 || node.cold_capacity_crates > kMaxCapacity)
    return make_error(ErrorKind::invalid, "out_of_range",
                      "cold capacity must be 0 to 1000000 crates", "cold_capacity_crates");
  if (node.kind == NodeKind::cold_store && node.cold_capacity_crates == 0)
    return make_error(ErrorKind::invalid, "out_of_range", "a cold store needs a capacity",
                      "cold_capacity_crates");
  if (node.lat_e6.has_value() != node.lon_e6.has_value() ||
      (node.lat_e6 && (!within(*node.lat_e6, kMaxLatE6) || !within(*node.lon_e6, kMaxLonE6))))
    return make_error(ErrorKind::invalid, "out_of_range",
                      "a position is latitude and longitude in microdegrees", "lat_e6");
  if (node.min_centi.has_value() != node.max_centi.has_value() ||
      (node.min_centi &&
       (*node.min_centi >= *node.max_centi || *node.min_centi < -8000 || *node.max_centi > 8000)))
    return make_error(ErrorKind::invalid, "out_of_range",
                      "a temperature range is min below max, within -80 to +80 degrees",
                      "min_centi");
  auto inserted = tx.exec(
      "INSERT INTO network_nodes (code, kind, name, region_code, cold_capacity_crates, lat_e6, "
      "lon_e6, min_centi, max_centi, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {node.code, to_string(node.kind), node.name, node.region_code, node.cold_capacity_crates,
       node.lat_e6, node.lon_e6, node.min_centi, node.max_centi, clock.now_ms()});
  if (!inserted.ok()) {
    if (inserted.error().code == db::kDuplicate)
      return make_error(ErrorKind::conflict, "duplicate_code", "a node with this code exists",
                        "code");
    return inserted.error();
  }
  return NodeId{CUNHUO_TRY(tx.last_insert_id())};
}

Result<std::vector<Node>> nodes_in(db::Session& s, std::string_view region_code) {
  CUNHUO_TRY(region_level(region_code));
  auto rows =
      CUNHUO_TRY(s.query("SELECT id, code, kind, name, region_code, cold_capacity_crates FROM "
                         "network_nodes WHERE region_code LIKE ? "
                         "ORDER BY id",
                         {std::string(region_code) + "%"}));
  std::vector<Node> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto kind = parse_node_kind(r.str(2));
    assert(kind.ok());
    out.push_back(Node{NodeId{r.i64(0)}, r.str(1), kind.ok() ? *kind : NodeKind::village_point,
                       r.str(3), r.str(4), static_cast<int>(r.i64(5))});
  }
  return out;
}

}  // namespace cunhuo::logistics

namespace cunhuo::logistics {

Result<std::optional<Node>> find_node(db::Session& s, std::string_view code) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT id, code, kind, name, region_code, cold_capacity_crates FROM "
                             "network_nodes WHERE code = ?",
                             {code}));
  if (!r) return std::optional<Node>();
  return std::optional<Node>(Node{NodeId{r->i64(0)}, r->str(1),
                                  CUNHUO_TRY(parse_node_kind(r->str(2))), r->str(3), r->str(4),
                                  static_cast<int>(r->i64(5))});
}

Result<std::int64_t> create_link(db::Session& tx, const NewLink& l, const Clock& clock) {
  const LinkMode mode = CUNHUO_TRY(parse_link_mode(l.mode));
  auto from = CUNHUO_TRY(find_node(tx, l.from_code));
  if (!from)
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + l.from_code, "from_code");
  auto to = CUNHUO_TRY(find_node(tx, l.to_code));
  if (!to)
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + l.to_code, "to_code");
  if (from->id == to->id)
    return make_error(ErrorKind::invalid, "same_node", "a link joins two different nodes",
                      "to_code");
  if (l.duration_min < 1 || l.duration_min > 7 * 24 * 60)
    return make_error(ErrorKind::invalid, "out_of_range", "a duration is 1 minute to 7 days",
                      "duration_min");
  if (l.cost_fen < 0 || l.cost_fen > 100'000'000)
    return make_error(ErrorKind::invalid, "out_of_range", "cost must be 0 to 1,000,000 yuan",
                      "cost_fen");
  const bool cold_mode = mode == LinkMode::refrigerated_van || mode == LinkMode::refrigerated_trunk;
  if (l.refrigerated != cold_mode)
    return make_error(ErrorKind::invalid, "inconsistent",
                      "only refrigerated vans and trunks are refrigerated", "refrigerated");
  const Timetable timetable = CUNHUO_TRY(parse_timetable(l.timetable));
  (void)timetable;
  CUNHUO_TRY(
      tx.exec("INSERT INTO network_links (from_node, to_node, mode, refrigerated, duration_min, "
              "cost_fen, timetable, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {from->id.value, to->id.value, l.mode, l.refrigerated ? 1 : 0, l.duration_min,
               l.cost_fen, l.timetable, clock.now_ms()}));
  return tx.last_insert_id();
}

namespace {

constexpr const char* kLinkColumns =
    "SELECT l.id, f.code, t.code, l.mode, l.timetable, l.refrigerated, l.duration_min, l.cost_fen "
    "FROM network_links l "
    "JOIN network_nodes f ON f.id = l.from_node JOIN network_nodes t ON t.id = l.to_node";

Link link_from(const db::Row& r) {
  return Link{
      r.i64(0), r.str(1), r.str(2), r.str(3), r.str(4), r.i64(5) != 0, static_cast<int>(r.i64(6)),
      r.i64(7)};
}

}  // namespace

Result<std::vector<Link>> all_links(db::Session& s) {
  std::vector<Link> out;
  for (const auto& r : CUNHUO_TRY(s.query(std::string(kLinkColumns) + " ORDER BY l.id")))
    out.push_back(link_from(r));
  return out;
}

Result<std::optional<Link>> find_link(db::Session& s, std::int64_t id) {
  auto r = CUNHUO_TRY(s.query_one(std::string(kLinkColumns) + " WHERE l.id = ?", {id}));
  if (!r) return std::optional<Link>();
  return std::optional<Link>(link_from(*r));
}

Result<std::optional<std::string>> origin_point(db::Session& s, std::string_view village_code) {
  if (village_code.size() < kTownshipCodeDigits) return std::optional<std::string>();
  const auto nodes = CUNHUO_TRY(nodes_in(s, village_code.substr(0, kTownshipCodeDigits)));
  for (const auto& n : nodes)
    if (n.kind == NodeKind::village_point && n.region_code == village_code)
      return std::optional<std::string>(n.code);
  for (const auto& n : nodes)
    if (n.kind == NodeKind::township_station) return std::optional<std::string>(n.code);
  return std::optional<std::string>();
}

Result<std::optional<std::string>> destination_hub(db::Session& s, std::string_view region_code) {
  constexpr std::size_t kPrefectureDigits = 4;
  auto rows = CUNHUO_TRY(
      s.query("SELECT code, region_code FROM network_nodes WHERE kind = 'city_hub' ORDER BY id"));
  for (const auto& r : rows)
    if (r.str(1).substr(0, kPrefectureDigits) == region_code.substr(0, kPrefectureDigits))
      return std::optional<std::string>(r.str(0));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front().str(0));
}

Result<std::optional<Node>> find_node_by_id(db::Session& s, std::int64_t id) {
  auto r = CUNHUO_TRY(s.query_one("SELECT code FROM network_nodes WHERE id = ?", {id}));
  if (!r) return std::optional<Node>();
  return find_node(s, r->str(0));
}

}  // namespace cunhuo::logistics
