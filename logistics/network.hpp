// The logistics network: village service points, township service stations, county
// e-commerce centres, cold stores and city hubs, each at a place (region code).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"

namespace cunhuo::logistics {

using NodeId = Id<struct NodeTag>;

enum class NodeKind { village_point, township_station, county_centre, cold_store, city_hub };
std::string_view to_string(NodeKind kind);
Result<NodeKind> parse_node_kind(std::string_view text);

struct NewNode {
  std::string code;  // stable business code, e.g. "MQ-TS-01"
  NodeKind kind = NodeKind::village_point;
  std::string name;
  std::string region_code;  // where it stands
  int cold_capacity_crates = 0;
  std::optional<std::int64_t> lat_e6, lon_e6;  // position in microdegrees, for pickup runs
  std::optional<int> min_centi, max_centi;     // a cold store's rated range, hundredths of a degree
};

struct Node {
  NodeId id;
  std::string code;
  NodeKind kind = NodeKind::village_point;
  std::string name;
  std::string region_code;
  int cold_capacity_crates = 0;
};

struct NewLink {
  std::string from_code, to_code;
  std::string mode;  // tricycle, van, refrigerated_van, refrigerated_trunk, ambient_trunk
  bool refrigerated = false;
  int duration_min = 0;
  std::int64_t cost_fen = 0;
  std::string timetable = "on_demand";  // or "Mon-Fri 08:00,14:00; Sat 09:00"
};

struct Link {
  std::int64_t id = 0;
  std::string from_code, to_code, mode, timetable;
  bool refrigerated = false;
  int duration_min = 0;
  std::int64_t cost_fen = 0;
};

std::span<const db::Migration> network_migrations();

Result<NodeId> create_node(db::Session& tx, const NewNode& node, const Clock& clock);
// Nodes whose region lies within `region_code` (a county, township or village).
Result<std::vector<Node>> nodes_in(db::Session& s, std::string_view region_code);
// The village service point where goods from a village start: the village's own, else its
// township's station; none when the network does not reach it.
Result<std::optional<std::string>> origin_point(db::Session& s, std::string_view village_code);
// The city hub serving a buyer's region (same prefecture), else the first hub there is.
Result<std::optional<std::string>> destination_hub(db::Session& s, std::string_view region_code);
Result<std::optional<Node>> find_node(db::Session& s, std::string_view code);
// The node of an id (a station operator's account names its station by id).
Result<std::optional<Node>> find_node_by_id(db::Session& s, std::int64_t id);

// A link between two known nodes; refuses what makes no sense (a node to itself, a
// duration or cost out of range, a refrigerated tricycle, a timetable it cannot read).
Result<std::int64_t> create_link(db::Session& tx, const NewLink& link, const Clock& clock);
Result<std::vector<Link>> all_links(db::Session& s);
Result<std::optional<Link>> find_link(db::Session& s, std::int64_t id);

}  // namespace cunhuo::logistics
