// The events modules publish through the outbox. Each encodes to the payload its publisher
// has always written, so rows already in an outbox decode; each decodes back to itself;
// and a payload without a field its event requires, or with one of the wrong type, is a
// "bad_event" naming the field.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "core/json.hpp"
#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "core/outbox/payload.hpp"
#include "logistics/pickup.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/orders.hpp"
#include "payments/intents.hpp"
#include "payments/payouts.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"

using namespace cunhuo;
namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;
namespace al = cunhuo::alleviation;
namespace pay = cunhuo::payments;

namespace {

const pay::PaymentCaptured kCaptured{.checkout_id = 11, .intent_id = 12, .order_ids = {21, 22}};
const pay::PaymentReturned kReturned{.intent_id = 13, .checkout_id = 11};
const pay::OrderRefunded kRefunded{.order_id = 21, .amount = Money::fen(3980), .full = true};
const pay::IncomeSettled kSettled{.order_id = 21, .household_ids = {1, 4}};
const mk::OrderStatusChanged kChanged{.order_id = mk::OrderId{21},
                                      .shop_id = mk::ShopId{3},
                                      .buyer_id = 7,
                                      .total = Money::fen(7960)};
const mk::CardChanged kCard{.household_id = mk::HouseholdId{4}};
const lg::ShipmentEvent kDeparted{
    .order_id = 21, .shipment_id = 5, .tracking_number = "CH123456789012"};
const lg::ShipmentEvent kSpoiled{
    .order_id = 21, .shipment_id = 5, .tracking_number = "CH123456789012", .bearer = "logistics"};
const lg::ExcursionRaised kRaised{.excursion_id = 9, .node_code = "MQ-CS-XQ", .kind = "continuous"};
const lg::PickupRunsPlanned kPickup{.plan_id = 8, .station_code = "MQ-TS-XQ", .date = "2026-12-07"};
const al::AlertRaised kAlert{.alert_id = 3, .household_id = 1, .rule = "large_expense"};
const al::ExitNoticeOpened kNotice{.proposal_id = 6, .household_id = 1};
const al::ExitObjectionLodged kObjection{.objection_id = 2, .proposal_id = 6, .household_id = 1};
const pay::PayoutSent kPayout{.batch_id = 4, .household_id = 1, .amount = Money::fen(12345)};

template <class Event>
void check_round_trip(const Event& event) {
  auto back = Event::decode(event.encode());
  REQUIRE(back.ok());
  CHECK(*back == event);
}

template <class Event>
Status decodes(std::string_view payload) {
  auto event = Event::decode(payload);
  if (!event.ok()) return event.error();
  return {};
}

using Decoder = Status (*)(std::string_view);

// The payload with `key` left out.
std::string without(const std::string& payload, std::string_view key) {
  auto doc = Json::parse(payload);
  REQUIRE(doc.ok());
  JsonWriter w;
  w.begin_object();
  for (const auto& [k, v] : doc->as_object())
    if (k != key) w.key(k).value(v);
  w.end_object();
  return w.take();
}

void check_bad_event(const Status& decoded, std::string_view field) {
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().kind == ErrorKind::internal);
  CHECK(decoded.error().code == outbox::kBadEvent);
  CHECK(decoded.error().field == field);
}

}  // namespace

TEST_CASE("every event decodes back to what it encoded", "[unit][events]") {
  check_round_trip(kCaptured);
  check_round_trip(kReturned);
  check_round_trip(kRefunded);
  check_round_trip(kSettled);
  check_round_trip(kChanged);
  check_round_trip(kCard);
  check_round_trip(kDeparted);
  check_round_trip(kSpoiled);
  check_round_trip(kRaised);
  check_round_trip(kPickup);
  check_round_trip(kAlert);
  check_round_trip(kNotice);
  check_round_trip(kObjection);
  check_round_trip(kPayout);
}

// The payloads as the publishers wrote them before events were typed.
TEST_CASE("every event encodes to the payload its publisher has always written", "[unit][events]") {
  CHECK(kCaptured.encode() == R"({"checkout_id":11,"intent_id":12,"order_ids":[21,22]})");
  CHECK(kReturned.encode() == R"({"intent_id":13,"checkout_id":11})");
  CHECK(kRefunded.encode() == R"({"order_id":21,"amount_fen":3980,"full":true})");
  CHECK(kSettled.encode() == R"({"order_id":21,"household_ids":[1,4]})");
  CHECK(kChanged.encode() == R"({"order_id":21,"shop_id":3,"buyer_id":7,"total_fen":7960})");
  CHECK(kCard.encode() == R"({"household_id":4})");
  CHECK(kDeparted.encode() ==
        R"({"order_id":21,"shipment_id":5,"tracking_number":"CH123456789012"})");
  CHECK(kSpoiled.encode() == R"({"order_id":21,"shipment_id":5,"tracking_number":"CH123456789012",)"
                             R"("bearer":"logistics"})");
  CHECK(kRaised.encode() == R"({"excursion_id":9,"node":"MQ-CS-XQ","kind":"continuous"})");
  CHECK(kPickup.encode() == R"({"plan_id":8,"station":"MQ-TS-XQ","date":"2026-12-07"})");
  CHECK(kAlert.encode() == R"({"alert_id":3,"household_id":1,"rule":"large_expense"})");
  CHECK(kNotice.encode() == R"({"proposal_id":6,"household_id":1})");
  CHECK(kObjection.encode() == R"({"objection_id":2,"proposal_id":6,"household_id":1})");
  CHECK(kPayout.encode() == R"({"batch_id":4,"household_id":1,"amount_fen":12345})");
}

TEST_CASE("a payload's fields decode in any order, and fields an event does not know are ignored",
          "[unit][events]") {
  auto captured = pay::PaymentCaptured::decode(
      R"({"order_ids":[21,22],"intent_id":12,"checkout_id":11,"provider":"sandbox"})");
  REQUIRE(captured.ok());
  CHECK(*captured == kCaptured);
}

TEST_CASE("a payload without a field its event requires is a bad_event naming the field",
          "[unit][events]") {
  struct Required {
    Decoder decode;
    std::string payload;  // complete
    const char* field;
  };
  const Required table[] = {
      {decodes<pay::PaymentCaptured>, kCaptured.encode(), "checkout_id"},
      {decodes<pay::PaymentCaptured>, kCaptured.encode(), "intent_id"},
      {decodes<pay::PaymentCaptured>, kCaptured.encode(), "order_ids"},
      {decodes<pay::PaymentReturned>, kReturned.encode(), "intent_id"},
      {decodes<pay::PaymentReturned>, kReturned.encode(), "checkout_id"},
      {decodes<pay::OrderRefunded>, kRefunded.encode(), "order_id"},
      {decodes<pay::OrderRefunded>, kRefunded.encode(), "amount_fen"},
      {decodes<pay::OrderRefunded>, kRefunded.encode(), "full"},
      {decodes<pay::IncomeSettled>, kSettled.encode(), "order_id"},
      {decodes<pay::IncomeSettled>, kSettled.encode(), "household_ids"},
      {decodes<mk::OrderStatusChanged>, kChanged.encode(), "order_id"},
      {decodes<mk::OrderStatusChanged>, kChanged.encode(), "shop_id"},
      {decodes<mk::OrderStatusChanged>, kChanged.encode(), "buyer_id"},
      {decodes<mk::OrderStatusChanged>, kChanged.encode(), "total_fen"},
      {decodes<mk::CardChanged>, kCard.encode(), "household_id"},
      {decodes<lg::ShipmentEvent>, kSpoiled.encode(), "order_id"},
      {decodes<lg::ShipmentEvent>, kSpoiled.encode(), "shipment_id"},
      {decodes<lg::ShipmentEvent>, kSpoiled.encode(), "tracking_number"},
      {decodes<lg::ExcursionRaised>, kRaised.encode(), "excursion_id"},
      {decodes<lg::ExcursionRaised>, kRaised.encode(), "node"},
      {decodes<lg::ExcursionRaised>, kRaised.encode(), "kind"},
      {decodes<lg::PickupRunsPlanned>, kPickup.encode(), "plan_id"},
      {decodes<lg::PickupRunsPlanned>, kPickup.encode(), "station"},
      {decodes<lg::PickupRunsPlanned>, kPickup.encode(), "date"},
      {decodes<al::AlertRaised>, kAlert.encode(), "alert_id"},
      {decodes<al::AlertRaised>, kAlert.encode(), "household_id"},
      {decodes<al::AlertRaised>, kAlert.encode(), "rule"},
      {decodes<al::ExitNoticeOpened>, kNotice.encode(), "proposal_id"},
      {decodes<al::ExitNoticeOpened>, kNotice.encode(), "household_id"},
      {decodes<al::ExitObjectionLodged>, kObjection.encode(), "objection_id"},
      {decodes<al::ExitObjectionLodged>, kObjection.encode(), "proposal_id"},
      {decodes<al::ExitObjectionLodged>, kObjection.encode(), "household_id"},
      {decodes<pay::PayoutSent>, kPayout.encode(), "batch_id"},
      {decodes<pay::PayoutSent>, kPayout.encode(), "household_id"},
      {decodes<pay::PayoutSent>, kPayout.encode(), "amount_fen"},
  };
  for (const auto& row : table) {
    INFO(row.payload << " without " << row.field);
    REQUIRE(row.decode(row.payload).ok());
    check_bad_event(row.decode(without(row.payload, row.field)), row.field);
  }
}

TEST_CASE("a shipment event without a bearer names none", "[unit][events]") {
  auto departed = lg::ShipmentEvent::decode(without(kSpoiled.encode(), "bearer"));
  REQUIRE(departed.ok());
  CHECK_FALSE(departed->bearer.has_value());
}

TEST_CASE("a field of the wrong type is a bad_event naming the field", "[unit][events]") {
  struct Wrong {
    Decoder decode;
    const char* payload;
    const char* field;
  };
  const Wrong table[] = {
      {decodes<pay::PaymentCaptured>, R"({"checkout_id":"11","intent_id":12,"order_ids":[21]})",
       "checkout_id"},
      {decodes<pay::PaymentCaptured>, R"({"checkout_id":11,"intent_id":12,"order_ids":21})",
       "order_ids"},
      {decodes<pay::PaymentCaptured>, R"({"checkout_id":11,"intent_id":12,"order_ids":[21,"22"]})",
       "order_ids"},
      {decodes<pay::OrderRefunded>, R"({"order_id":21,"amount_fen":39.8,"full":true})",
       "amount_fen"},
      {decodes<pay::OrderRefunded>, R"({"order_id":21,"amount_fen":3980,"full":1})", "full"},
      {decodes<mk::CardChanged>, R"({"household_id":null})", "household_id"},
      {decodes<lg::ShipmentEvent>, R"({"order_id":21,"shipment_id":5,"tracking_number":7})",
       "tracking_number"},
      {decodes<lg::ShipmentEvent>,
       R"({"order_id":21,"shipment_id":5,"tracking_number":"CH1","bearer":true})", "bearer"},
  };
  for (const auto& row : table) {
    INFO(row.payload);
    check_bad_event(row.decode(row.payload), row.field);
  }
}

TEST_CASE("a payload that is not a JSON object is a bad_event", "[unit][events]") {
  for (const char* payload : {"", "{", "[]", "null", R"("order_id")"}) {
    INFO(payload);
    auto decoded = mk::OrderStatusChanged::decode(payload);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().kind == ErrorKind::internal);
    CHECK(decoded.error().code == outbox::kBadEvent);
  }
}
