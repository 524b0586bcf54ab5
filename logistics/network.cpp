#include "logistics/network.hpp"

#include <array>

#include "core/enum_names.hpp"

#include "core/region.hpp"

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
};

constexpr std::array<std::pair<NodeKind, std::string_view>, 5> kKindNames = {{
    {NodeKind::village_point, "village_point"},
    {NodeKind::township_station, "township_station"},
    {NodeKind::county_centre, "county_centre"},
    {NodeKind::cold_store, "cold_store"},
    {NodeKind::city_hub, "city_hub"},
}};

constexpr int kMaxCapacity = 1'000'000;

}  // namespace

std::span<const db::Migration> migrations() { return kMigrations; }

std::string_view to_string(NodeKind kind) { return name_of(kKindNames, kind); }

Result<NodeKind> parse_node_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_kind", "unknown node kind", "kind");
}

Result<NodeId> create_node(db::Session& tx, const NewNode& node, const Clock& clock) {
  if (node.code.empty() || node.code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "node code must be 1 to 40 bytes", "code");
  if (node.name.empty() || node.name.size() > 200)
    return make_error(ErrorKind::invalid, "invalid_name", "node name must be 1 to 200 bytes", "name");
  CUNHUO_TRY(region_level(node.region_code));
  if (node.cold_capacity_crates < 0 || node.cold_capacity_crates > kMaxCapacity)
    return make_error(ErrorKind::invalid, "out_of_range", "cold capacity must be 0 to 1000000 crates",
                      "cold_capacity_crates");
  if (node.kind == NodeKind::cold_store && node.cold_capacity_crates == 0)
    return make_error(ErrorKind::invalid, "out_of_range", "a cold store needs a capacity", "cold_capacity_crates");
  auto inserted = tx.exec(
      "INSERT INTO network_nodes (code, kind, name, region_code, cold_capacity_crates, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      {node.code, to_string(node.kind), node.name, node.region_code, node.cold_capacity_crates, clock.now_ms()});
  if (!inserted.ok()) {
    if (inserted.error().code == db::kDuplicate)
      return make_error(ErrorKind::conflict, "duplicate_code", "a node with this code exists", "code");
    return inserted.error();
  }
  return NodeId{CUNHUO_TRY(tx.last_insert_id())};
}

Result<std::vector<Node>> nodes_in(db::Session& s, std::string_view region_code) {
  CUNHUO_TRY(region_level(region_code));
  auto rows = CUNHUO_TRY(s.query(
      "SELECT id, code, kind, name, region_code, cold_capacity_crates FROM network_nodes WHERE region_code LIKE ? "
      "ORDER BY id",
      {std::string(region_code) + "%"}));
  std::vector<Node> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto kind = parse_node_kind(r.str(2));
    assert(kind.ok());
    out.push_back(Node{NodeId{r.i64(0)}, r.str(1), kind.ok() ? *kind : NodeKind::village_point, r.str(3), r.str(4),
                       static_cast<int>(r.i64(5))});
  }
  return out;
}

}  // namespace cunhuo::logistics
