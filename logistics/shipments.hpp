// Shipments: a paid order's goods from their village service point to the buyer's city,
// each with a tracking number and a planned cold-chain route. Every hop is a scan event
// shaped after GS1 EPCIS (what: the parcel and its lot; when: event time with its zone
// and the record time; where: read point and business location; why: business step and
// disposition). A scan later than planned re-plans the rest of the route.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/temperature.hpp"
#include "logistics/planner.hpp"

namespace cunhuo::logistics {

struct NewShipment {
  std::int64_t order_id = 0;
  std::string origin_code, destination_code;
  TemperatureClass temperature_class = TemperatureClass::ambient;
  std::string lot;
  int crates = 1;
  std::int64_t ready_at_ms = 0, shelf_deadline_ms = INT64_MAX;
};

struct ScanEvent {
  std::string read_point, biz_location, biz_step, disposition, actor;
  std::int64_t event_time_ms = 0, record_time_ms = 0;
  std::string event_zone = "+08:00";
};

// planned (not yet picked up), at_node, in_transit, held, delivered, spoiled, unroutable
struct Shipment {
  std::int64_t id = 0, order_id = 0;
  std::string tracking_number, origin_code, destination_code;
  TemperatureClass temperature_class = TemperatureClass::ambient;
  std::string lot, status, current_code, note;
  int crates = 1;
  std::int64_t ready_at_ms = 0, shelf_deadline_ms = 0;
  std::optional<std::int64_t> eta_ms;
  std::vector<PlannedHop> route;  // the planned remainder
  std::vector<ScanEvent> scans;
};

struct ScanInput {
  std::string node_code, biz_step, disposition;
  std::int64_t event_time_ms = 0;
  std::string proof;  // of a delivery (a pickup code checked): noted on the shipment
};

std::span<const db::Migration> shipment_migrations();

// A shipment's lot field lists its products' lots, comma-separated, within this many bytes.
inline constexpr std::size_t kMaxShipmentLotBytes = 55;
// Of two temperature classes, the one that needs more cold: a parcel travels at the
// temperature its most demanding product needs.
TemperatureClass colder_class(TemperatureClass a, TemperatureClass b);
// Adds a product's lot to a shipment's list, while the list has room for it.
void add_lot(std::string& lots, std::string_view lot);
// The lots a shipment's lot field lists.
std::vector<std::string> lots_in(std::string_view lots);

// Topics published, each with a ShipmentEvent: the parcel left its first node, reached
// its buyer's city, or was confirmed spoiled (then it says who bears the loss).
inline constexpr const char* kShipmentDeparted = "shipment.departed";
inline constexpr const char* kShipmentDelivered = "shipment.delivered";
inline constexpr const char* kShipmentSpoiledTopic = "shipment.spoiled";
struct ShipmentEvent {
  std::int64_t order_id = 0, shipment_id = 0;
  std::string tracking_number;
  std::optional<std::string> bearer;  // on shipment.spoiled: who bears the loss, by name

  std::string encode() const;  // {"order_id", "shipment_id", "tracking_number", "bearer"?}
  static Result<ShipmentEvent> decode(std::string_view payload);
  bool operator==(const ShipmentEvent&) const = default;
};

Result<Shipment> create_shipment(db::Session& tx, Planner& planner, const NewShipment& shipment,
                                 const Clock& clock);
Result<std::optional<Shipment>> find_shipment(db::Session& s, std::string_view tracking_number);
Result<std::vector<Shipment>> shipments_of_order(db::Session& s, std::int64_t order_id);
Result<Shipment> record_scan(db::Session& tx, Planner& planner, std::string_view tracking_number,
                             const ScanInput& scan, std::string_view actor, const Clock& clock);
// Holds every parcel waiting at `node_code` (an excursion there); returns their ids.
Result<std::vector<std::int64_t>> hold_parcels_at(db::Session& tx, std::string_view node_code,
                                                  std::string_view reason, const Clock& clock);
// Holds every parcel riding the vehicle on `link_id` (an excursion in it); they are
// inspected where they arrive.
Result<std::vector<std::int64_t>> hold_parcels_on(db::Session& tx, std::int64_t link_id,
                                                  std::string_view reason, const Clock& clock);
// A parcel has left its origin once it was scanned departing, or scanned at another node.
bool has_left_origin(const Shipment& shipment);

// What a station or the county centre looks at. One node's (a station's):
//   arriving     its next stop is the node and it is not yet scanned there (on its way, or
//                waiting at the stop before to leave for it);
//   in_store     it stands at the node (last scanned there, not departed; held ones too);
//   to_dispatch  in store, not held, planned to leave before the end of the day.
// A county's (the centre's): parcels that start or stand in the county and are
//   late         open, and scanned at some stop later than planned (by more than the
//                re-planning tolerance), or past the planned arrival at its next stop;
//   held         on hold (an excursion, damage, a holding scan);
//   unroutable   no cold-chain-feasible route could be planned;
//   excursion    named by an excursion still open.
enum class ShipmentView { arriving, in_store, to_dispatch, late, held, unroutable, excursion };
std::string_view to_string(ShipmentView view);
Result<ShipmentView> parse_shipment_view(std::string_view text);  // invalid_view
bool is_node_view(ShipmentView view);                             // arriving, in_store, to_dispatch

struct ShipmentListQuery {
  ShipmentView view = ShipmentView::arriving;
  std::int64_t node_id = 0;  // for a node's view
  std::string county_code;   // for a county's view: 6 digits
  std::int64_t now_ms = 0, day_end_ms = 0;
  std::optional<std::int64_t> after_id;  // the page starts after this shipment
  std::int64_t limit = 20;
};

// A shipment as the lists show it.
struct ShipmentLine {
  std::int64_t id = 0, order_id = 0;
  std::string tracking_number, status, current_code;
  std::optional<std::string> next_code;
  std::optional<std::int64_t> planned_departure_ms, planned_arrival_ms;  // of the next hop
  TemperatureClass temperature_class = TemperatureClass::ambient;
  std::vector<std::string> flags;  // late, held, unroutable, excursion
};

// One page of a view, oldest shipment first.
Result<std::vector<ShipmentLine>> list_shipments(db::Session& s, const ShipmentListQuery& q);

// Confirms a held parcel spoiled: publishes the event that refunds its order.
Status mark_spoiled(db::Session& tx, std::int64_t shipment_id, std::string_view bearer,
                    const Clock& clock);
// Releases a held parcel (the excursion did not harm it).
Status release_hold(db::Session& tx, std::int64_t shipment_id, const Clock& clock);
// Cancels every shipment of an order not yet delivered or closed (the order was
// cancelled); a repeat changes nothing.
Status cancel_order_shipments(db::Session& tx, std::int64_t order_id, const Clock& clock);

// The orders whose shipments were planned through `node_id`, newest order first, those
// below `before_order` when given: a station's orders, by id only.
Result<std::vector<std::int64_t>> orders_through_node(db::Session& s, std::int64_t node_id,
                                                      std::optional<std::int64_t> before_order,
                                                      int limit);

// The nodes an order's shipments were planned through (its stations), by id only.
Result<std::vector<std::int64_t>> nodes_of_order(db::Session& s, std::int64_t order_id);

}  // namespace cunhuo::logistics
