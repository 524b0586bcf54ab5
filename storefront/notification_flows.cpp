#include "storefront/notification_flows.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <string>
#include <vector>

#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "logistics/work_queue.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "messaging/sms.hpp"
#include "payments/payouts.hpp"
#include "storefront/notifications.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;
namespace kind = notification_kind;

// ---- who: accounts, by what they answer for ----------------------------------------

struct Recipient {
  std::int64_t account_id = 0;
  std::string phone;
};

Result<std::vector<Recipient>> accounts_where(db::Session& s, const std::string& condition,
                                              std::initializer_list<db::Value> params) {
  std::vector<db::Value> args(params);
  args.emplace_back(static_cast<std::int64_t>(kMaxRecipientsPerEvent));
  auto rows = CUNHUO_TRY(s.query_with(
      "SELECT id, phone FROM accounts WHERE " + condition + " ORDER BY id LIMIT ?", args));
  std::vector<Recipient> out;
  for (const auto& r : rows) out.push_back(Recipient{r.i64(0), r.str(1)});
  return out;
}

// The area codes an account working over `code` may have: the code itself, its township,
// county, prefecture and province (620621104201 → ..., 620621104, 620621, 620600, 620000).
// A prefecture's code is its first 4 digits and "00", a province's its first 2 and "0000".
constexpr std::size_t kPrefectureDigits = 4, kProvinceDigits = 2;
constexpr std::size_t kAreasOver = 5;  // village, township, county, prefecture, province

std::vector<std::string> areas_over(std::string_view code) {
  std::vector<std::string> out{std::string(code)};
  if (code.size() > kTownshipCodeDigits) out.emplace_back(code.substr(0, kTownshipCodeDigits));
  if (code.size() > kCountyCodeDigits) out.emplace_back(code.substr(0, kCountyCodeDigits));
  if (code.size() >= kPrefectureDigits)
    out.push_back(std::string(code.substr(0, kPrefectureDigits)) + "00");
  if (code.size() >= kProvinceDigits)
    out.push_back(std::string(code.substr(0, kProvinceDigits)) + "0000");
  while (out.size() < kAreasOver) out.push_back(out.back());  // the query takes one of each
  return out;
}

// Accounts of `role` working over the place `code` (a village or a node's region).
Result<std::vector<Recipient>> staff_over(db::Session& s, std::string_view role,
                                          std::string_view code) {
  const auto a = areas_over(code);
  return accounts_where(s, "role = ? AND region_code IN (?, ?, ?, ?, ?)",
                        {role, a[0], a[1], a[2], a[3], a[4]});
}

// Who manages a shop, as may_see_order has it: its managers, and for a household's own
// shop that household's farmers. A cooperative's members do not open its orders.
Result<std::vector<Recipient>> shop_managers(db::Session& s, mk::ShopId shop_id) {
  auto out =
      CUNHUO_TRY(accounts_where(s, "role = 'shop_manager' AND shop_id = ?", {shop_id.value}));
  auto shop = CUNHUO_TRY(mk::find_shop(s, shop_id));
  if (!shop || shop->kind != mk::ShopKind::household) return out;
  for (auto member : shop->members) {
    auto farmers =
        CUNHUO_TRY(accounts_where(s, "role = 'farmer' AND household_id = ?", {member.value}));
    out.insert(out.end(), farmers.begin(), farmers.end());
  }
  return out;
}

// ---- what: one notification per (event, account), and the urgent SMS ----------------

struct Message {
  std::string_view kind;
  std::string title, body, link;
  std::string_view sms_template;  // empty: the inbox only
  std::vector<std::pair<std::string, std::string>> sms_params;
};

Status deliver(db::Session& tx, const outbox::Event& event, const std::vector<Recipient>& to,
               const Message& m, const Clock& clock) {
  for (const auto& r : to) {
    const std::string key = notification_key(event.id, r.account_id);
    CUNHUO_TRY(notify(tx,
                      NewNotification{.account_id = r.account_id,
                                      .kind = std::string(m.kind),
                                      .title = m.title,
                                      .body = m.body,
                                      .link = m.link,
                                      .dedupe_key = key},
                      clock));
    if (m.sms_template.empty() || !is_mobile_number(r.phone)) continue;
    const messaging::SmsMessage sms{
        .phone = r.phone, .template_code = std::string(m.sms_template), .params = m.sms_params};
    if (CUNHUO_TRY(messaging::queue_sms(tx, sms, "notify:" + key, clock)))
      spdlog::info("{} by SMS to {} (event {})", m.kind, mask_phone(r.phone), event.id);
  }
  return {};
}

std::string num(std::int64_t v) { return std::to_string(v); }

// "12-08 10:00" (Asia/Shanghai): a time short enough for a text message.
std::string short_time(std::int64_t epoch_ms) {
  std::string t = format_shanghai(epoch_ms).substr(5, 11);  // from "2026-12-08T10:00:00+08:00"
  t[5] = ' ';
  return t;
}

// ---- the flows ---------------------------------------------------------------------------

Status order_to_pack(db::Session& tx, const outbox::Event& event, const mk::OrderStatusChanged& e,
                     const Clock& clock) {
  const std::string pack_by = format_shanghai(event.created_at_ms + kPackWindowMs);
  const std::string order = num(e.order_id.value);
  const Message m{.kind = kind::order_to_pack,
                  .title = "订单 #" + order + " 已付款，待打包",
                  .body = "请在 " + pack_by + " 前打包（合计 " + e.total.to_yuan() + " 元）",
                  .link = "/api/v1/orders/" + order,
                  .sms_template = sms_template::order_to_pack,
                  .sms_params = {{"order", order},
                                 {"pack_by", short_time(event.created_at_ms + kPackWindowMs)}}};
  return deliver(tx, event, CUNHUO_TRY(shop_managers(tx, e.shop_id)), m, clock);
}

// The parcel left its first node: the operators of the node it goes to next are told.
Status parcel_arriving(db::Session& tx, const outbox::Event& event, const lg::ShipmentEvent& e,
                       const Clock& clock) {
  auto shipment = CUNHUO_TRY(lg::find_shipment(tx, e.tracking_number));
  if (!shipment || shipment->route.empty()) return {};
  const auto& next = shipment->route.front();
  auto node = CUNHUO_TRY(lg::find_node(tx, next.to_code));
  if (!node) return {};
  const Message m{.kind = kind::parcel_arriving,
                  .title = "包裹 " + e.tracking_number + " 即将到站",
                  .body = "预计 " + format_shanghai(next.arrive_ms) + " 到达 " + node->name,
                  .link = "/api/v1/tracking/" + e.tracking_number};
  auto to =
      CUNHUO_TRY(accounts_where(tx, "role = 'station_operator' AND node_id = ?", {node->id.value}));
  return deliver(tx, event, to, m, clock);
}

// A station planned its pickup runs: whoever manages a shop with a parcel waiting at one of
// its village points is told the day, once per event, linked to the first such order.
Status pickup_run_planned(db::Session& tx, const outbox::Event& event,
                          const lg::PickupRunsPlanned& e, const Clock& clock) {
  std::set<std::int64_t> told;
  for (const auto& o : CUNHUO_TRY(lg::orders_to_collect(tx, e.station_code, kMaxOrdersToCollect))) {
    auto order = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{o.order_id}));
    if (!order) continue;
    std::vector<Recipient> to;
    for (auto& r : CUNHUO_TRY(shop_managers(tx, order->shop)))
      if (told.insert(r.account_id).second) to.push_back(std::move(r));
    const Message m{.kind = kind::pickup_run_planned,
                    .title = e.date + " 上门取件",
                    .body = "站点 " + e.station_code + " 将于 " + e.date + " 到 " + o.point_code +
                            " 收取订单 #" + num(o.order_id) + " 的包裹，请备好货",
                    .link = "/api/v1/orders/" + num(o.order_id)};
    CUNHUO_CHECK(deliver(tx, event, to, m, clock));
  }
  return {};
}

Status excursion_opened(db::Session& tx, const outbox::Event& event, const lg::ExcursionRaised& e,
                        const Clock& clock) {
  auto node = CUNHUO_TRY(lg::find_node(tx, e.node_code));
  if (!node) return {};
  const Message m{.kind = kind::excursion_opened,
                  .title = "冷链温度异常：" + e.node_code,
                  .body = "超温（" + e.kind + "），相关包裹已暂扣，请确认是否变质",
                  .link = "/api/v1/excursions?status=open",
                  .sms_template = sms_template::excursion_opened,
                  .sms_params = {{"node", e.node_code}, {"excursion", num(e.excursion_id)}}};
  return deliver(tx, event, CUNHUO_TRY(staff_over(tx, "county_centre", node->region_code)), m,
                 clock);
}

Status monitoring_alert(db::Session& tx, const outbox::Event& event, const al::AlertRaised& e,
                        const Clock& clock) {
  auto alert = CUNHUO_TRY(al::find_alert(tx, e.alert_id));
  if (!alert || !alert->helper_account) return {};
  const Message m{.kind = kind::monitoring_alert,
                  .title = "防返贫监测预警 #" + num(e.alert_id),
                  .body = "您帮扶的户触发监测规则 " + e.rule + "，请尽快走访",
                  .link = "/api/v1/households/" + num(e.household_id),
                  .sms_template = sms_template::monitoring_alert,
                  .sms_params = {{"alert", num(e.alert_id)}, {"rule", e.rule}}};
  auto to = CUNHUO_TRY(accounts_where(tx, "id = ? AND role = 'helper'", {*alert->helper_account}));
  return deliver(tx, event, to, m, clock);
}

// The poverty offices over a household's village.
Result<std::vector<Recipient>> offices_of(db::Session& s, std::int64_t household_id) {
  auto h = CUNHUO_TRY(mk::find_household(s, mk::HouseholdId{household_id}));
  if (!h) return std::vector<Recipient>();
  return staff_over(s, "poverty_office", h->village_code);
}

Status exit_notice_opened(db::Session& tx, const outbox::Event& event,
                          const al::ExitNoticeOpened& e, const Clock& clock) {
  const Message m{.kind = kind::exit_notice_opened,
                  .title = "退出公示开始：提议 #" + num(e.proposal_id),
                  .body = "县级审定通过，公示期内可受理异议",
                  .link = "/api/v1/households/" + num(e.household_id) + "/exit-proposals"};
  return deliver(tx, event, CUNHUO_TRY(offices_of(tx, e.household_id)), m, clock);
}

Status exit_objection(db::Session& tx, const outbox::Event& event, const al::ExitObjectionLodged& e,
                      const Clock& clock) {
  const Message m{.kind = kind::exit_objection,
                  .title = "退出公示收到异议 #" + num(e.objection_id),
                  .body = "提议 #" + num(e.proposal_id) + " 收到异议，请核实后处理",
                  .link = "/api/v1/households/" + num(e.household_id) + "/exit-proposals"};
  return deliver(tx, event, CUNHUO_TRY(offices_of(tx, e.household_id)), m, clock);
}

Status payout_sent(db::Session& tx, const outbox::Event& event, const pay::PayoutSent& e,
                   const Clock& clock) {
  const Message m{.kind = kind::payout_sent,
                  .title = "收入已转账 " + e.amount.to_yuan() + " 元",
                  .body = "银行已确认打款（批次 #" + num(e.batch_id) + "）",
                  .link = "/api/v1/households/" + num(e.household_id) + "/balance"};
  auto to =
      CUNHUO_TRY(accounts_where(tx, "role = 'farmer' AND household_id = ?", {e.household_id}));
  return deliver(tx, event, to, m, clock);
}

// ---- the table -----------------------------------------------------------------------

template <class Handler>
struct EventOf;
template <class Event>
struct EventOf<Status (*)(db::Session&, const outbox::Event&, const Event&, const Clock&)> {
  using type = Event;
};

// Decodes the payload into the event `handler` takes; the handler also reads the outbox
// event itself, for its id (the dedupe keys) and its time.
template <auto handler>
Status decoded(db::Session& tx, const outbox::Event& e, const Clock& clock) {
  using Event = typename EventOf<decltype(handler)>::type;
  return handler(tx, e, CUNHUO_TRY(Event::decode(e.payload)), clock);
}

struct NotificationFlow {
  const char* name;  // the handler's name in the outbox's records: never rename one
  std::string topic;
  Status (*handler)(db::Session&, const outbox::Event&, const Clock&);
};

std::vector<NotificationFlow> notification_flows() {
  return {
      {"notify.order_to_pack", mk::order_topic(mk::OrderStatus::paid), decoded<order_to_pack>},
      {"notify.parcel_arriving", lg::kShipmentDeparted, decoded<parcel_arriving>},
      {"notify.pickup_run_planned", lg::kPickupRunsPlanned, decoded<pickup_run_planned>},
      {"notify.excursion_opened", lg::kExcursionRaised, decoded<excursion_opened>},
      {"notify.monitoring_alert", al::kAlertRaised, decoded<monitoring_alert>},
      {"notify.exit_notice_opened", al::kExitNoticeOpened, decoded<exit_notice_opened>},
      {"notify.exit_objection", al::kExitObjectionLodged, decoded<exit_objection>},
      {"notify.payout_sent", pay::kPayoutSent, decoded<payout_sent>},
  };
}

}  // namespace

void subscribe_notification_flows(outbox::Dispatcher& dispatcher, const Clock& clock) {
  for (const auto& flow : notification_flows()) {
    auto handler = [&clock, run = flow.handler](db::Session& tx, const outbox::Event& e) {
      return run(tx, e, clock);
    };
    dispatcher.subscribe(flow.name, flow.topic, std::move(handler));
  }
}

}  // namespace cunhuo::storefront
