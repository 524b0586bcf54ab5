// The logistics module: the network of nodes and timetabled links (network.hpp),
// cold-chain routing (routing.hpp, planner.hpp), shipments and their scans
// (shipments.hpp), and temperature telemetry with excursions (telemetry.hpp).
#pragma once

#include <vector>

#include "core/db/migrations.hpp"

namespace cunhuo::logistics {

// Every logistics migration, in order.
std::vector<db::Migration> migrations();

}  // namespace cunhuo::logistics
