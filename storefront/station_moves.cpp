#include "storefront/station_moves.hpp"

#include <algorithm>
#include <cctype>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "marketplace/orders.hpp"
#include "messaging/sms.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;

constexpr EnumNames<StationScan, 4> kScanNames = {{
    {StationScan::arriving, "arriving"},
    {StationScan::stored, "stored"},
    {StationScan::departing, "departing"},
    {StationScan::delivered, "delivered"},
}};

constexpr std::size_t kTrackingPrefix = 2;  // "CH"
constexpr std::size_t kMaxTrackingBytes = 20;

bool is_tracking_number(std::string_view s) {
  if (s.size() <= kTrackingPrefix || s.size() > kMaxTrackingBytes) return false;
  if (s.substr(0, kTrackingPrefix) != "CH") return false;
  return std::all_of(s.begin() + kTrackingPrefix, s.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

Error unknown_label() {
  return make_error(ErrorKind::not_found, "unknown_label", "no parcel has this label", "label");
}

// The station is on the parcel's way: where it starts, ends or stands, a stop ahead, or a
// stop it was scanned at.
bool passes(const lg::Shipment& sh, std::string_view code) {
  if (sh.origin_code == code || sh.destination_code == code || sh.current_code == code) return true;
  for (const auto& h : sh.route)
    if (h.from_code == code || h.to_code == code) return true;
  for (const auto& e : sh.scans)
    if (e.read_point == code) return true;
  return false;
}

Result<lg::Shipment> station_parcel(db::Session& s, const lg::Node& station,
                                    std::string_view label) {
  const auto number = label_number(label);
  if (!number) return unknown_label();
  auto sh = CUNHUO_TRY(lg::find_shipment(s, *number));
  if (!sh) return unknown_label();
  if (!passes(*sh, station.code))
    return make_error(ErrorKind::not_found, "not_at_this_station",
                      "this parcel does not pass your station", "label");
  if (sh->status == "delivered")
    return make_error(ErrorKind::conflict, "already_delivered", "this parcel was delivered",
                      "label");
  return std::move(*sh);
}

lg::ScanInput scan_input(StationScan kind, const std::string& node) {
  switch (kind) {
    case StationScan::arriving:
      return {.node_code = node, .biz_step = "arriving", .disposition = "in_progress"};
    case StationScan::stored:
      return {.node_code = node, .biz_step = "storing", .disposition = "in_progress"};
    case StationScan::departing:
      return {.node_code = node, .biz_step = "departing", .disposition = "in_transit"};
    case StationScan::delivered:
      return {.node_code = node, .biz_step = "delivering", .disposition = "delivered"};
  }
  CUNHUO_ASSERT(false);
  return {};
}

Result<bool> code_outstanding(db::Session& s, std::int64_t shipment_id) {
  const auto code = CUNHUO_TRY(lg::pickup_code_of(s, shipment_id));
  return code && !code->used_at_ms;
}

}  // namespace

Result<StationScan> parse_station_scan(std::string_view text) {
  if (auto kind = value_of(kScanNames, text)) return *kind;
  return make_error(ErrorKind::invalid, "invalid_scan_kind",
                    "arriving, stored, departing or delivered", "kind");
}

std::string_view to_string(StationScan kind) { return name_of(kScanNames, kind); }

std::optional<std::string> label_number(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.size() > kMaxLabelBytes) return std::nullopt;
  if (const auto cut = text.find_first_of("?#"); cut != std::string_view::npos)
    text = text.substr(0, cut);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  if (const auto slash = text.rfind('/'); slash != std::string_view::npos)
    text = text.substr(slash + 1);
  std::string number(text);
  std::transform(number.begin(), number.end(), number.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (!is_tracking_number(number)) return std::nullopt;
  return number;
}

Result<lg::Node> station_of(db::Session& s, const Account& who, std::optional<std::string> named) {
  std::optional<lg::Node> node;
  if (who.role == Role::station_operator) {
    if (!who.node_id)
      return make_error(ErrorKind::forbidden, "no_station", "your account names no station");
    node = CUNHUO_TRY(lg::find_node_by_id(s, *who.node_id));
  } else if (who.role == Role::admin) {
    if (!named || named->empty())
      return make_error(ErrorKind::invalid, "missing_node", "name the station as ?node=", "node");
    node = CUNHUO_TRY(lg::find_node(s, *named));
  } else {
    return make_error(ErrorKind::forbidden, "forbidden", "these pages are a station's");
  }
  if (!node) return make_error(ErrorKind::not_found, "unknown_node", "no such station", "node");
  return std::move(*node);
}

Result<lg::Shipment> scan_at_station(db::Session& tx, lg::Planner& planner, const Account& who,
                                     const lg::Node& station, std::string_view label,
                                     StationScan kind, const Clock& clock) {
  const lg::Shipment sh = CUNHUO_TRY(station_parcel(tx, station, label));
  if (sh.status == "spoiled" || sh.status == "cancelled" || sh.status == "unroutable")
    return make_error(ErrorKind::conflict, "shipment_closed", "this parcel is " + sh.status,
                      "label");
  if (kind == StationScan::delivered) {
    if (sh.destination_code != station.code)
      return make_error(ErrorKind::conflict, "not_the_destination",
                        "this parcel is collected elsewhere", "label");
    if (CUNHUO_TRY(code_outstanding(tx, sh.id)))
      return make_error(ErrorKind::conflict, "pickup_code_required",
                        "hand it over against its pickup code", "label");
  }
  return lg::record_scan(tx, planner, sh.tracking_number, scan_input(kind, station.code),
                         actor_of(who), clock);
}

Result<lg::Shipment> parcel_for_pickup(db::Session& s, const lg::Node& station,
                                       std::string_view label) {
  lg::Shipment sh = CUNHUO_TRY(station_parcel(s, station, label));
  if (sh.destination_code != station.code || sh.current_code != station.code ||
      sh.status != "at_node")
    return make_error(ErrorKind::conflict, "not_ready_for_pickup",
                      "this parcel is not waiting here for its recipient", "label");
  return sh;
}

Result<std::int64_t> send_pickup_code(db::Session& tx, const lg::Shipment& parcel,
                                      const Clock& clock) {
  if (parcel.status != "at_node" || parcel.current_code != parcel.destination_code)
    return make_error(ErrorKind::conflict, "not_ready_for_pickup",
                      "this parcel is not waiting for its recipient", "label");
  auto order = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{parcel.order_id}));
  if (!order) return make_error(ErrorKind::not_found, "not_found", "the parcel has no order");
  auto place = CUNHUO_TRY(lg::find_node(tx, parcel.destination_code));
  const auto issued = CUNHUO_TRY(lg::issue_pickup_code(tx, parcel.id, clock));
  messaging::SmsMessage message{
      .phone = order->ship_to.phone,
      .template_code = std::string(messaging::kPickupCode),
      .params = {{"parcel", parcel.tracking_number},
                 {"place", place ? place->name : parcel.destination_code},
                 {"code", issued.code},
                 {"days", std::to_string(lg::kPickupCodeLifetimeMs / 86'400'000)}}};
  CUNHUO_TRY(messaging::queue_sms(
      tx, message, "pickup-code:" + std::to_string(parcel.id) + ":" + std::to_string(issued.sends),
      clock));
  return issued.expires_at_ms;
}

Status send_first_pickup_code(db::Session& tx, const lg::ShipmentEvent& e, const Clock& clock) {
  if (CUNHUO_TRY(lg::pickup_code_of(tx, e.shipment_id))) return {};  // sent before: a repeat
  auto parcel = CUNHUO_TRY(lg::find_shipment(tx, e.tracking_number));
  // It moved on or was handed over since: nothing to send.
  if (!parcel || parcel->status != "at_node" || parcel->current_code != parcel->destination_code)
    return {};
  CUNHUO_TRY(send_pickup_code(tx, *parcel, clock));
  return {};
}

Result<lg::PickupCheck> hand_over(db::Session& tx, lg::Planner& planner, const Account& who,
                                  const lg::Shipment& parcel, std::string_view code,
                                  const Clock& clock) {
  const auto check = CUNHUO_TRY(lg::check_pickup_code(tx, parcel.id, code, clock));
  if (check != lg::PickupCheck::accepted) return check;
  lg::ScanInput in = scan_input(StationScan::delivered, parcel.destination_code);
  in.proof = "pickup code";
  CUNHUO_TRY(lg::record_scan(tx, planner, parcel.tracking_number, in, actor_of(who), clock));
  return check;
}

Error pickup_refusal(lg::PickupCheck check) {
  switch (check) {
    case lg::PickupCheck::wrong:
      return make_error(ErrorKind::unprocessable, "wrong_pickup_code", "that is not its code",
                        "code");
    case lg::PickupCheck::locked:
      return make_error(ErrorKind::conflict, "pickup_code_locked",
                        "too many wrong codes: send the recipient a new one", "code");
    case lg::PickupCheck::expired:
      return make_error(ErrorKind::conflict, "pickup_code_expired",
                        "the code expired: send the recipient a new one", "code");
    case lg::PickupCheck::missing:
    case lg::PickupCheck::accepted: break;
  }
  return make_error(ErrorKind::conflict, "no_pickup_code",
                    "no code was sent for this parcel: send one", "code");
}

}  // namespace cunhuo::storefront
