// The service's flows between modules, subscribed on a test's own dispatcher, with the
// route planner the shipping flow needs. Keep it alive as long as the dispatcher runs.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/planner.hpp"
#include "payments/settlement.hpp"
#include "storefront/flows.hpp"

namespace cunhuo::test {

struct ServiceFlows {
  ServiceFlows(db::Database& db, outbox::Dispatcher& dispatcher, const Clock& clock,
               payments::FeeRules fees = {})
      : planner(db, logistics::ColdChainRules{}) {
    storefront::subscribe_flows(
        dispatcher, storefront::FlowContext{.clock = clock, .fees = fees, .planner = planner});
  }
  logistics::Planner planner;
};

}  // namespace cunhuo::test
