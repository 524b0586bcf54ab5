#include "storefront/flows.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup_codes.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "payments/closes.hpp"
#include "payments/intents.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "storefront/station_moves.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;

// ---- payments → marketplace --------------------------------------------------------

Status mark_paid(db::Session& tx, const pay::PaymentCaptured& e, const FlowContext& ctx) {
  for (std::int64_t id : e.order_ids) {
    auto order = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{id}));
    if (!order) continue;
    if (order->status == mk::OrderStatus::pending_payment) {
      CUNHUO_TRY(mk::change_order_status(tx, order->id, mk::OrderStatus::paid, "payments",
                                         "payment captured", ctx.clock));
    } else if (order->status == mk::OrderStatus::cancelled) {
      // Paid after the hold ran out and the stock went back: the money goes back too.
      CUNHUO_CHECK(pay::refund_order(tx, order->id.value, pay::LossBearer::none,
                                     "paid after the order was cancelled", ctx.fees, ctx.clock));
    }
  }
  return {};
}

Status mark_refunded(db::Session& tx, const pay::OrderRefunded& e, const FlowContext& ctx) {
  if (!e.full) return {};
  auto order = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{e.order_id}));
  if (!order || !mk::transition_allowed(order->status, mk::OrderStatus::refunded)) return {};
  CUNHUO_TRY(mk::change_order_status(tx, order->id, mk::OrderStatus::refunded, "payments",
                                     "refunded in full", ctx.clock));
  return {};
}

// ---- marketplace → payments --------------------------------------------------------

Status settle(db::Session& tx, const mk::OrderStatusChanged& e, const FlowContext& ctx) {
  CUNHUO_TRY(pay::complete_order(tx, e.order_id.value, ctx.fees, ctx.clock));
  return {};
}

// A paid order cancelled by staff: its money goes back (refund_order is a no-op for an
// order that was never paid, or was refunded or settled before).
Status refund_cancelled(db::Session& tx, const mk::OrderStatusChanged& e, const FlowContext& ctx) {
  return pay::refund_order(tx, e.order_id.value, pay::LossBearer::none, "the order was cancelled",
                           ctx.fees, ctx.clock);
}

// An unpaid order cancelled (its payment window ran out, or the buyer cancelled): the
// provider's orders of its checkout are closed, so the payer can no longer pay them.
Status close_unpaid(db::Session& tx, const mk::OrderStatusChanged& e, const FlowContext& ctx) {
  return pay::close_intents_of_order(tx, e.order_id.value, ctx.clock);
}

Status return_second_payment(db::Session& tx, const pay::PaymentReturned& e,
                             const FlowContext& ctx) {
  return pay::return_payment(tx, e.intent_id, ctx.clock);
}

// ---- logistics → payments ----------------------------------------------------------

// The loss is logistics' unless the event names another bearer payments knows.
Status refund_spoiled(db::Session& tx, const lg::ShipmentEvent& e, const FlowContext& ctx) {
  auto named = e.bearer ? pay::parse_loss_bearer(*e.bearer)
                        : Result<pay::LossBearer>(pay::LossBearer::logistics);
  return pay::refund_order(tx, e.order_id, named.ok() ? *named : pay::LossBearer::logistics,
                           "goods spoiled", ctx.fees, ctx.clock);
}

// ---- marketplace → logistics -------------------------------------------------------

// A paid order becomes one shipment per origin village point, at the temperature its most
// demanding product needs, due before the first of its products would spoil.
Status ship_order(db::Session& tx, const mk::OrderStatusChanged& e, const FlowContext& ctx) {
  const std::int64_t order_id = e.order_id.value;
  auto order = CUNHUO_TRY(mk::find_order(tx, e.order_id));
  // Unknown, or shipped before.
  if (!order || !CUNHUO_TRY(lg::shipments_of_order(tx, order_id)).empty()) return {};
  // A delivery of order.paid retried after a staff cancellation ships nothing.
  if (order->status == mk::OrderStatus::cancelled || order->status == mk::OrderStatus::refunded)
    return {};
  auto destination = CUNHUO_TRY(lg::destination_hub(tx, order->ship_to.region_code));
  if (!destination) return {};
  std::vector<mk::ProductId> ids;
  for (const auto& l : order->lines) ids.push_back(l.product);
  std::map<std::string, lg::NewShipment> by_origin;
  for (const auto& p : CUNHUO_TRY(mk::find_products(tx, ids))) {
    auto origin = CUNHUO_TRY(lg::origin_point(tx, p.origin_code));
    if (!origin) continue;
    auto& sh = by_origin[*origin];
    if (sh.order_id == 0)
      sh = lg::NewShipment{.order_id = order_id,
                           .origin_code = *origin,
                           .destination_code = *destination,
                           .crates = 0,
                           .ready_at_ms = ctx.clock.now_ms()};
    sh.temperature_class = lg::colder_class(sh.temperature_class, p.temperature);
    sh.crates += 1;
    lg::add_lot(sh.lot, p.lot);
    if (p.shelf_life_days > 0)
      sh.shelf_deadline_ms =
          std::min(sh.shelf_deadline_ms,
                   sh.ready_at_ms + static_cast<std::int64_t>(p.shelf_life_days) * 86'400'000);
  }
  for (const auto& [origin, sh] : by_origin) {
    auto made = CUNHUO_TRY(lg::create_shipment(tx, ctx.planner, sh, ctx.clock));
    spdlog::info("order {}: shipment {} from {} to {} ({})", order_id, made.tracking_number,
                 made.origin_code, made.destination_code, made.status);
  }
  return {};
}

Status cancel_shipments(db::Session& tx, const mk::OrderStatusChanged& e, const FlowContext& ctx) {
  return lg::cancel_order_shipments(tx, e.order_id.value, ctx.clock);
}

// ---- logistics → marketplace -------------------------------------------------------

// An order follows its parcels: shipped once every parcel has left its origin, delivered
// once every parcel is delivered (parcels spoiled or cancelled aside: their refund or the
// order's cancellation decides). It moves as far as its state machine lets it, in the
// transaction that handles the scan's event.
Status follow_shipments(db::Session& tx, const lg::ShipmentEvent& e, const FlowContext& ctx) {
  std::vector<lg::Shipment> live;
  for (auto& sh : CUNHUO_TRY(lg::shipments_of_order(tx, e.order_id)))
    if (sh.status != "spoiled" && sh.status != "cancelled") live.push_back(std::move(sh));
  if (live.empty()) return {};
  const bool left = std::ranges::all_of(live, [](const auto& s) { return lg::has_left_origin(s); });
  const bool delivered =
      std::ranges::all_of(live, [](const auto& s) { return s.status == "delivered"; });
  std::vector<mk::OrderStatus> steps;
  if (left) steps = {mk::OrderStatus::packed, mk::OrderStatus::shipped};
  if (left && delivered) steps.push_back(mk::OrderStatus::delivered);
  for (auto step : steps) {
    auto order = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{e.order_id}));
    if (!order || !mk::transition_allowed(order->status, step)) continue;
    CUNHUO_TRY(
        mk::change_order_status(tx, order->id, step, "logistics", "parcels scanned", ctx.clock));
  }
  return {};
}

// ---- marketplace and payments → alleviation ----------------------------------------

Status rescore(db::Session& tx, std::int64_t household, const Clock& clock) {
  CUNHUO_TRY(al::rescore_household(tx, household, clock));
  CUNHUO_TRY(al::monitor_household(tx, household, clock));
  return {};
}

Status rescore_on_card(db::Session& tx, const mk::CardChanged& e, const FlowContext& ctx) {
  return rescore(tx, e.household_id.value, ctx.clock);
}

Status rescore_on_income(db::Session& tx, const pay::IncomeSettled& e, const FlowContext& ctx) {
  for (std::int64_t household : e.household_ids) CUNHUO_CHECK(rescore(tx, household, ctx.clock));
  return {};
}

// ---- the table -----------------------------------------------------------------------

using FlowHandler = Status (*)(db::Session&, const outbox::Event&, const FlowContext&);

// The event a flow handler takes: the type of its second parameter.
// ---- logistics → messaging ---------------------------------------------------------

// A parcel in where its recipient collects it: the recipient gets its pickup code by SMS.
Status text_pickup_code(db::Session& tx, const lg::ShipmentEvent& e, const FlowContext& ctx) {
  return send_first_pickup_code(tx, e, ctx.clock);
}

template <class Handler>
struct EventOf;
template <class Event>
struct EventOf<Status (*)(db::Session&, const Event&, const FlowContext&)> {
  using type = Event;
};

// Decodes the payload into the event `handler` takes, then runs it: a payload that does
// not decode is a "bad_event", retried and in the end parked.
template <auto handler>
Status decoded(db::Session& tx, const outbox::Event& e, const FlowContext& ctx) {
  using Event = typename EventOf<decltype(handler)>::type;
  return handler(tx, CUNHUO_TRY(Event::decode(e.payload)), ctx);
}

struct Flow {
  const char* name;     // the handler's name in the outbox's records: never rename one
  std::string topic;    // the event it follows
  FlowHandler handler;  // decoded<f>, where f takes the topic's typed event
};

std::vector<Flow> flows() {
  using mk::order_topic;
  using enum mk::OrderStatus;
  return {
      {"marketplace.mark_paid", pay::kPaymentCaptured, decoded<mark_paid>},
      {"marketplace.mark_refunded", pay::kOrderRefunded, decoded<mark_refunded>},
      {"payments.settle", order_topic(completed), decoded<settle>},
      {"payments.refund_cancelled", order_topic(cancelled), decoded<refund_cancelled>},
      {"payments.close_unpaid", order_topic(cancelled), decoded<close_unpaid>},
      {"payments.return_second_payment", pay::kPaymentReturned, decoded<return_second_payment>},
      {"payments.refund_spoiled", lg::kShipmentSpoiledTopic, decoded<refund_spoiled>},
      {"logistics.ship", order_topic(paid), decoded<ship_order>},
      {"logistics.cancel_shipments", order_topic(cancelled), decoded<cancel_shipments>},
      {"marketplace.mark_shipped", lg::kShipmentDeparted, decoded<follow_shipments>},
      {"marketplace.mark_delivered", lg::kShipmentDelivered, decoded<follow_shipments>},
      {"alleviation.rescore_on_card", mk::kCardChanged, decoded<rescore_on_card>},
      {"alleviation.rescore_on_income", pay::kIncomeSettled, decoded<rescore_on_income>},
      {"logistics.send_pickup_code", lg::kShipmentReadyForPickup, decoded<text_pickup_code>},
  };
}

}  // namespace

void subscribe_flows(outbox::Dispatcher& dispatcher, FlowContext context) {
  for (const auto& flow : flows()) {
    auto handler = [context, run = flow.handler](db::Session& tx, const outbox::Event& e) {
      return run(tx, e, context);
    };
    dispatcher.subscribe(flow.name, flow.topic, std::move(handler));
  }
}

}  // namespace cunhuo::storefront
