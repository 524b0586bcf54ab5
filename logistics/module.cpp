#include "logistics/module.hpp"

#include "logistics/network.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"

namespace cunhuo::logistics {

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list : {network_migrations(), shipment_migrations(), telemetry_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

}  // namespace cunhuo::logistics
