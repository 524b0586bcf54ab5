// The flows between modules: which module's event sets off which other module's work.
// Each flow is one row of the table in flows.cpp (name, topic, handler of the topic's
// typed event, decoded from its payload by the publishing module's decode); the outbox runs
// every handler at least once per event and commits its effects exactly once.
#pragma once

#include "core/clock.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/planner.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::storefront {

struct FlowContext {
  const Clock& clock;
  payments::FeeRules fees;
  logistics::Planner& planner;
};

// Subscribes every flow to the dispatcher (before it starts).
void subscribe_flows(outbox::Dispatcher& dispatcher, FlowContext context);

}  // namespace cunhuo::storefront
