// What a township station (or a collection point) does to a parcel, shared by its pages
// (/station) and the API: a scan of its label in one of four moves, the pickup code sent to
// the recipient when the parcel is in where it is collected, and the handover against that
// code as proof of delivery. Every scan goes through logistics::record_scan, as the API's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup_codes.hpp"
#include "logistics/planner.hpp"
#include "logistics/shipments.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront {

inline constexpr std::size_t kMaxLabelBytes = 200;  // a label's text: a number or a URL

// The four moves of the station's scan box, each one EPCIS business step.
enum class StationScan { arriving, stored, departing, delivered };
Result<StationScan> parse_station_scan(std::string_view text);  // invalid_scan_kind
std::string_view to_string(StationScan kind);

// The tracking number a label names: its QR code holds the number itself (CH and digits);
// a tracking URL whose last path segment is the number is taken too. None for anything else.
std::optional<std::string> label_number(std::string_view text);

// The station whose parcels `who` works on: an operator's own; admin's the node `named`
// (missing_node without one; not_found for an unknown one). Other roles: forbidden.
Result<logistics::Node> station_of(db::Session& s, const Account& who,
                                   std::optional<std::string> named);

// Records a scan of `label` at `station`. Refused, with nothing written, in this order:
// unknown_label (no such parcel), not_at_this_station (it never passes this station),
// already_delivered, shipment_closed (spoiled, cancelled, unroutable), not_the_destination
// (delivered where it is not collected), pickup_code_required (delivered while its
// recipient holds a code: /station/handover), not_on_route (passed it already).
Result<logistics::Shipment> scan_at_station(db::Session& tx, logistics::Planner& planner,
                                            const Account& who, const logistics::Node& station,
                                            std::string_view label, StationScan kind,
                                            const Clock& clock);

// Makes the parcel's pickup code and queues it by SMS to the order's recipient. Refused:
// not_ready_for_pickup (not in at its destination), pickup_code_too_soon,
// pickup_code_sends_spent. Returns the code's expiry (never the code).
Result<std::int64_t> send_pickup_code(db::Session& tx, const logistics::Shipment& parcel,
                                      const Clock& clock);
// The outbox's handler of kShipmentReadyForPickup: the first code, once.
Status send_first_pickup_code(db::Session& tx, const logistics::ShipmentEvent& e,
                              const Clock& clock);

// The parcel at `station` named by `label`, for a handover or a new code: refused as
// scan_at_station refuses (unknown_label, not_at_this_station, already_delivered), then
// not_ready_for_pickup when it is not in at this station as its destination.
Result<logistics::Shipment> parcel_for_pickup(db::Session& s, const logistics::Node& station,
                                              std::string_view label);

// Hands the parcel over against `code`: accepted records the delivered scan with the code
// noted as its proof. Any other answer wrote nothing but the try it cost; the caller
// commits it and answers pickup_refusal.
Result<logistics::PickupCheck> hand_over(db::Session& tx, logistics::Planner& planner,
                                         const Account& who, const logistics::Shipment& parcel,
                                         std::string_view code, const Clock& clock);
// wrong_pickup_code, pickup_code_locked, pickup_code_expired, no_pickup_code.
Error pickup_refusal(logistics::PickupCheck check);

}  // namespace cunhuo::storefront
