#include "logistics/module.hpp"

#include "logistics/network.hpp"
#include "logistics/pickup_codes.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"

namespace cunhuo::logistics {

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list : {network_migrations(), shipment_migrations(), telemetry_migrations(),
                    pickup_code_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

}  // namespace cunhuo::logistics
