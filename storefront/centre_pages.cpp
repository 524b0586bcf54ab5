#include "storefront/centre_pages.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/privacy.hpp"
#include "core/region.hpp"
#include "logistics/board.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "logistics/work_queue.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/order_counts.hpp"
#include "marketplace/registry.hpp"
#include "payments/county_days.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "payments/work_queue.hpp"
#include "storefront/centre_moves.hpp"
#include "storefront/order_moves.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"
#include "storefront/route_support.hpp"
#include "storefront/web/assets.hpp"
#include "storefront/web/charts.hpp"

namespace cunhuo::storefront {
namespace {

namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;
using web::Page, web::PageCall, web::ViewList;
using PageView = web::View;

constexpr std::int64_t kDayMs = 86'400'000;

Access centre_staff() { return only({Role::county_centre, Role::admin}); }

// The county the caller watches: the centre's own; admin's that of its own region code.
std::string county(const PageCall& call) {
  const auto& area = call.caller().region_code;
  return area.size() >= kCountyCodeDigits ? area.substr(0, kCountyCodeDigits) : "";
}

std::string num(std::int64_t v) { return std::to_string(v); }

std::string capped(std::int64_t count) {
  return count >= kBoardCountCap ? num(kBoardCountCap) + "+" : num(count);
}

std::string degrees(double centi) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f °C", centi / 100.0);
  return out;
}

std::string yuan_text(double fen) { return yuan(Money::fen(std::llround(fen))); }

std::string clock_label(std::int64_t ms) { return page_time(ms).substr(11, 5); }  // "14:05"
std::string day_label(std::int64_t ms) { return page_time(ms).substr(5, 5); }     // "12-07"

// The newest event of the outbox when the page was read: live.js resumes after it, so no
// event between the page and the feed's connection is missed. (The feed reads it the same
// way, storefront/live/feed.cpp.)
Result<std::int64_t> outbox_high_water(db::Session& s) {
  auto row = CUNHUO_TRY(s.query_one("SELECT MAX(id) FROM outbox_events"));
  return row && !row->is_null(0) ? row->i64(0) : 0;
}

// --- the board's parts ------------------------------------------------------------------

Result<std::string> place_of_node(db::Session& s, const std::string& code) {
  const auto node = CUNHUO_TRY(lg::find_node(s, code));
  return node ? node->name + "（" + code + "）" : code;
}

Result<PageView> orders_today(db::Session& s, const PageCall& call, std::int64_t now) {
  const std::int64_t midnight = shanghai_midnight_ms(shanghai_date(now));
  const auto counts =
      CUNHUO_TRY(mk::orders_by_status(s, county(call), midnight, midnight + kDayMs));
  ViewList rows;
  std::int64_t total = 0;
  for (const auto& [status, count] : counts) {
    PageView r;
    r.set("status", std::string(mk::to_string(status)));
    r.set("word", status_word(status, call.lang));
    r.set("count", num(count));
    rows.push_back(r);
    total += count;
  }
  PageView v;
  v.set("rows", rows);
  v.set("none", rows.empty());
  v.set("total", num(total));
  return v;
}

// A county's view of parcels (late, held, unroutable): how many, and the first few.
Result<PageView> parcel_exception(db::Session& s, const PageCall& call, lg::ShipmentView view,
                                  std::int64_t now) {
  lg::ShipmentListQuery q{.view = view,
                          .county_code = county(call),
                          .now_ms = now,
                          .day_end_ms = shanghai_midnight_ms(shanghai_date(now)) + kDayMs,
                          .limit = kBoardCountCap};
  const auto lines = CUNHUO_TRY(lg::list_shipments(s, q));
  ViewList items;
  for (const auto& l : lines) {
    if (items.size() >= static_cast<std::size_t>(kBoardListItems)) break;
    PageView i;
    i.set("link", "/centre/shipments/" + l.tracking_number);
    i.set("text", l.tracking_number + " · " + l.current_code);
    items.push_back(i);
  }
  PageView v;
  v.set("kind", std::string(lg::to_string(view)));
  v.set("word",
        std::string(web::text("centre_exception_" + std::string(lg::to_string(view)), call.lang)));
  v.set("count", capped(static_cast<std::int64_t>(lines.size())));
  v.set("items", items);
  return v;
}

PageView counted(const PageCall& call, const std::string& kind, std::int64_t count,
                 ViewList items = {}) {
  PageView v;
  v.set("kind", kind);
  v.set("word", std::string(web::text("centre_exception_" + kind, call.lang)));
  v.set("count", capped(count));
  v.set("items", items);
  return v;
}

// Differences in the newest reconciliation of the county: today's, else yesterday's.
Result<std::int64_t> reconciliation_differences(db::Session& s, const PageCall& call,
                                                std::int64_t now) {
  for (std::int64_t day : {now, now - kDayMs}) {
    const auto report =
        CUNHUO_TRY(pay::find_reconciliation(s, format_date(shanghai_date(day)), county(call)));
    if (report) return static_cast<std::int64_t>(report->differences.size());
  }
  return std::int64_t{0};
}

Result<ViewList> exceptions(db::Session& s, const PageCall& call, std::int64_t now) {
  ViewList out;
  for (auto view : {lg::ShipmentView::late, lg::ShipmentView::held, lg::ShipmentView::unroutable})
    out.push_back(CUNHUO_TRY(parcel_exception(s, call, view, now)));
  out.push_back(counted(call, "unpaid", CUNHUO_TRY(mk::unpaid_past_window(s, county(call), now))));
  const auto claims = CUNHUO_TRY(pay::requested_claims(s, county(call), kBoardListItems));
  ViewList claim_items;
  for (const auto& c : claims.items) {
    PageView i;
    i.set("link", "/centre/orders/" + num(c.order_id));
    i.set("text", "#" + num(c.id) + " · " + page_time(c.since_ms));
    claim_items.push_back(i);
  }
  out.push_back(counted(call, "claims", claims.count, claim_items));
  const auto open = CUNHUO_TRY(lg::open_excursions_in(s, county(call), kBoardListItems));
  out.push_back(counted(call, "excursions", open.count));
  out.push_back(
      counted(call, "reconciliation", CUNHUO_TRY(reconciliation_differences(s, call, now))));
  return out;
}

// An excursion's temperature trace, with its store's upper bound.
Result<std::string> trace_chart(db::Session& s, const PageCall& call, const lg::Excursion& e,
                                std::int64_t until_ms) {
  const auto points =
      CUNHUO_TRY(lg::sensor_trace(s, e.sensor_code, e.started_at_ms - kTraceBeforeMs, until_ms));
  web::Chart chart{.title = std::string(web::text("centre_trace", call.lang)) + " " + e.sensor_code,
                   .labels = {},
                   .series = {web::ChartSeries{.name = e.sensor_code, .values = {}}},
                   .value_text = [](double v) { return degrees(v); }};
  for (const auto& p : points) {
    chart.labels.push_back(clock_label(p.at_ms));
    chart.series.front().values.push_back(p.centi);
  }
  if (const auto limit = CUNHUO_TRY(lg::node_max_centi(s, e.node_code))) {
    chart.limit = *limit;
    chart.limit_label = std::string(web::text("centre_limit", call.lang)) + " " + degrees(*limit);
  }
  return web::line_chart(chart);
}

Result<ViewList> open_excursions(db::Session& s, const PageCall& call, std::int64_t now) {
  // The parcels open excursions hold, by id, for their tracking numbers.
  lg::ShipmentListQuery q{.view = lg::ShipmentView::excursion,
                          .county_code = county(call),
                          .now_ms = now,
                          .day_end_ms = now,
                          .limit = kBoardCountCap};
  std::map<std::int64_t, std::string> numbers;
  for (const auto& l : CUNHUO_TRY(lg::list_shipments(s, q))) numbers[l.id] = l.tracking_number;
  ViewList out;
  for (const auto& e : CUNHUO_TRY(lg::excursions_in(s, county(call), "open"))) {
    PageView v;
    v.set("id", num(e.id));
    v.set("node", CUNHUO_TRY(place_of_node(s, e.node_code)));
    v.set("kind", std::string(web::text("centre_kind_" + e.kind, call.lang)));
    v.set("detail", e.detail);
    v.set("started", page_time(e.started_at_ms));
    v.set("chart", CUNHUO_TRY(trace_chart(s, call, e, now)));
    ViewList parcels;
    for (auto id : e.shipments) {
      PageView p;
      const auto found = numbers.find(id);
      p.set("number", found == numbers.end() ? "#" + num(id) : found->second);
      p.set("linked", found != numbers.end());
      parcels.push_back(p);
    }
    v.set("parcels", parcels);
    out.push_back(v);
  }
  return out;
}

Result<ViewList> node_loads(db::Session& s, const PageCall& call) {
  ViewList out;
  for (const auto& n : CUNHUO_TRY(lg::node_loads(s, county(call)))) {
    PageView v;
    v.set("code", n.code);
    v.set("name", n.name);
    v.set("kind",
          std::string(web::text("centre_node_" + std::string(lg::to_string(n.kind)), call.lang)));
    v.set("parcels", num(n.parcels));
    const bool cold = n.cold_capacity_crates > 0;
    v.set("cold", cold);
    v.set("capacity", num(n.cold_capacity_crates));
    const std::int64_t fill = cold ? n.parcels * 100 / n.cold_capacity_crates : 0;
    v.set("fill", num(fill) + "%");
    v.set("fill_value", num(std::min<std::int64_t>(fill, 100)));
    out.push_back(v);
  }
  return out;
}

Result<PageView> money_charts(db::Session& s, const PageCall& call, std::int64_t now) {
  const std::int64_t from = shanghai_midnight_ms(shanghai_date(now)) - (kBoardDays - 1) * kDayMs;
  const auto sales = CUNHUO_TRY(mk::sales_by_day(s, county(call), from, kBoardDays));
  const auto days = CUNHUO_TRY(pay::county_days(s, county(call), from, kBoardDays));
  const auto word = [&](const char* key) { return std::string(web::text(key, call.lang)); };
  web::Chart sold{.title = word("centre_sales_chart"),
                  .labels = {},
                  .series = {web::ChartSeries{.name = word("centre_sales"), .values = {}}},
                  .value_text = yuan_text};
  web::Chart money{.title = word("centre_income_chart"),
                   .labels = {},
                   .series = {web::ChartSeries{.name = word("centre_income"), .values = {}},
                              web::ChartSeries{.name = word("centre_refunds"), .values = {}}},
                   .value_text = yuan_text};
  for (int d = 0; d < kBoardDays; ++d) {
    const auto i = static_cast<std::size_t>(d);
    const std::string label = day_label(from + d * kDayMs);
    sold.labels.push_back(label);
    money.labels.push_back(label);
    sold.series[0].values.push_back(static_cast<double>(sales[i].fen()));
    money.series[0].values.push_back(static_cast<double>(days[i].household_income.fen()));
    money.series[1].values.push_back(static_cast<double>(days[i].refunds.fen()));
  }
  PageView v;
  v.set("sales_chart", web::bar_chart(sold));
  v.set("income_chart", web::line_chart(money));
  return v;
}

Result<PageView> board_view(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t now = ctx.clock.now_ms();
  return ctx.db.read([&](db::Session& s) -> Result<PageView> {
    PageView v;
    v.set("after", num(CUNHUO_TRY(outbox_high_water(s))));
    v.set("today", CUNHUO_TRY(orders_today(s, call, now)));
    v.set("exceptions", CUNHUO_TRY(exceptions(s, call, now)));
    const auto excursions = CUNHUO_TRY(open_excursions(s, call, now));
    v.set("excursions", excursions);
    v.set("no_excursions", excursions.empty());
    v.set("nodes", CUNHUO_TRY(node_loads(s, call)));
    v.set("money", CUNHUO_TRY(money_charts(s, call, now)));
    v.set("read_at", page_time(now));
    v.set("live_js", web::Assets::builtin().url("live.js"));
    return v;
  });
}

Result<Page> board(const CentrePageContext& ctx, const PageCall& call) {
  auto v = CUNHUO_TRY(board_view(ctx, call));
  // After a verdict: which excursion was decided (the redirect's ?decided=ID).
  const auto decided = call.request.query_param("decided").value_or("");
  if (!decided.empty() && decided.size() <= 19 &&
      decided.find_first_not_of("0123456789") == std::string::npos)
    v.set("decided", decided);
  return Page::show("centre", "title_centre", std::move(v));
}

// --- the verdict on an excursion ------------------------------------------------------------

Result<Page> decide(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("excursion"));
  const std::string verdict = call.field("verdict");
  if (verdict != "spoiled" && verdict != "released")
    return make_error(ErrorKind::invalid, "invalid_verdict", "spoiled or released", "verdict");
  auto decided = ctx.db.write([&](db::Session& tx) -> Result<lg::Excursion> {
    return decide_excursion_as(tx, call.caller(), id, verdict == "spoiled", ctx.clock);
  });
  ctx.dispatcher.wake();
  if (!decided.ok()) return decided.error();
  return Page::see_other("/centre?decided=" + num(id));
}

// A verdict refused (already decided, a verdict not chosen) is said on the board itself.
Result<Page> decide_refused(const CentrePageContext& ctx, const PageCall& call, const Error& why) {
  if (why.kind == ErrorKind::not_found) return why;
  auto v = CUNHUO_TRY(board_view(ctx, call));
  v.set("decision_refused", web::refusal_message(why, call.lang));
  return Page::show("centre", "title_centre", std::move(v));
}

// --- the records ------------------------------------------------------------------------

Result<mk::Order> order_in_county(db::Session& s, const PageCall& call, std::int64_t id) {
  auto order = CUNHUO_TRY(mk::find_order(s, mk::OrderId{id}));
  if (!order || !CUNHUO_TRY(may_see_order(s, call.caller(), *order)))
    return page_not_found("order");
  return std::move(*order);
}

// An order's refund claims, each still requested with the decision to take.
Result<ViewList> claims_view(db::Session& s, const PageCall& call, std::int64_t order_id) {
  ViewList out;
  for (const auto& c : CUNHUO_TRY(pay::claims_of_order(s, order_id))) {
    PageView v;
    v.set("id", num(c.id));
    v.set("amount", yuan(c.amount));
    v.set("reason", c.reason);
    v.set("status", std::string(web::text("centre_claim_" + c.status, call.lang)));
    v.set("open", c.status == "requested");
    v.set("created", page_time(c.created_at_ms));
    out.push_back(v);
  }
  return out;
}

Result<PageView> order_view(const CentrePageContext& ctx, const PageCall& call, std::int64_t id) {
  return ctx.db.read([&](db::Session& s) -> Result<PageView> {
    const auto order = CUNHUO_TRY(order_in_county(s, call, id));
    PageView v;
    v.set("id", num(id));
    v.set("status", status_word(order.status, call.lang));
    v.set("total", yuan(order.total));
    v.set("created", page_time(order.created_at_ms));
    const auto shop = CUNHUO_TRY(mk::find_shop(s, order.shop));
    v.set("shop", shop ? shop->name : "#" + num(order.shop.value));
    v.set("recipient", order.ship_to.name);
    v.set("region", CUNHUO_TRY(place_text(s, order.ship_to.region_code, call.lang)));
    ViewList lines;
    for (const auto& l : order.lines) {
      PageView line;
      line.set("title", l.title);
      line.set("quantity", num(l.quantity));
      line.set("sum", yuan(l.line_total));
      ViewList households;
      for (const auto& p : l.producers) {
        PageView h;
        h.set("id", num(p.household.value));
        households.push_back(h);
      }
      line.set("households", households);
      lines.push_back(line);
    }
    v.set("lines", lines);
    ViewList parcels;
    for (const auto& sh : CUNHUO_TRY(lg::shipments_of_order(s, id))) {
      PageView p;
      p.set("number", sh.tracking_number);
      p.set("status", std::string(web::text("centre_parcel_" + sh.status, call.lang)));
      parcels.push_back(p);
    }
    v.set("parcels", parcels);
    v.set("claims", CUNHUO_TRY(claims_view(s, call, id)));
    return v;
  });
}

Result<Page> order_record(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("order"));
  return Page::show("centre_order", "title_centre_order", CUNHUO_TRY(order_view(ctx, call, id)));
}

// --- an order's status corrected by hand --------------------------------------------------

// Shipped and delivered follow the parcels' scans; the centre corrects them by hand.
constexpr std::string_view kCorrectable[] = {"shipped", "delivered"};

Result<Page> correct_order(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("order"));
  const std::string to = call.field("to"), reason = call.field("reason");
  if (std::find(std::begin(kCorrectable), std::end(kCorrectable), to) == std::end(kCorrectable))
    return make_error(ErrorKind::invalid, "invalid_correction", "shipped or delivered", "to");
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos ||
      reason.size() > kMaxCorrectionReasonBytes)
    return make_error(ErrorKind::invalid, "missing_correction_reason", "say why", "reason");
  const OrderMove move{.to = CUNHUO_TRY(mk::parse_order_status(to)), .correction_reason = reason};
  auto moved = ctx.db.write([&](db::Session& tx) {
    return move_order_as(tx, call.caller(), mk::OrderId{id}, move, ctx.clock);
  });
  ctx.dispatcher.wake();
  if (!moved.ok()) return moved.error();
  return Page::see_other("/centre/orders/" + num(id));
}

Result<Page> correction_refused(const CentrePageContext& ctx, const PageCall& call,
                                const Error& why) {
  if (why.kind == ErrorKind::not_found) return why;
  const std::int64_t id = CUNHUO_TRY(call.path_id("order"));
  auto v = CUNHUO_TRY(order_view(ctx, call, id));
  v.set("correction_refused", web::refusal_message(why, call.lang));
  v.set("typed_reason", call.field("reason"));
  return Page::show("centre_order", "title_centre_order", std::move(v));
}

// --- a refund claim's decision ------------------------------------------------------------

Result<Page> decide_claim(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("refund claim"));
  const std::string decision = call.field("decision");
  if (decision != "approve" && decision != "reject")
    return make_error(ErrorKind::invalid, "invalid_claim_decision", "approve or reject",
                      "decision");
  auto bearer = pay::LossBearer::none;
  if (decision == "approve") {
    auto named = pay::parse_loss_bearer(call.field("bearer"));
    if (!named.ok() || *named == pay::LossBearer::none)
      return make_error(ErrorKind::invalid, "invalid_bearer", "shop or logistics", "bearer");
    bearer = *named;
  }
  auto decided = ctx.db.write([&](db::Session& tx) -> Result<pay::RefundClaim> {
    return decide_claim_as(tx, call.caller(), id, decision == "approve", bearer, ctx.fees,
                           ctx.clock);
  });
  ctx.dispatcher.wake();
  if (!decided.ok()) return decided.error();
  return Page::see_other("/centre/orders/" + num(decided->order_id));
}

// A decision refused (already decided, nothing chosen) is said on the order's page.
Result<Page> claim_refused(const CentrePageContext& ctx, const PageCall& call, const Error& why) {
  if (why.kind == ErrorKind::not_found) return why;
  const std::int64_t id = CUNHUO_TRY(call.path_id("refund claim"));
  const auto order = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::int64_t> {
    const auto claim = CUNHUO_TRY(pay::find_claim(s, id));
    if (!claim || !CUNHUO_TRY(centre_covers_order(s, call.caller(), claim->order_id)))
      return page_not_found("refund claim");
    return claim->order_id;
  }));
  auto v = CUNHUO_TRY(order_view(ctx, call, order));
  v.set("claim_refused", web::refusal_message(why, call.lang));
  return Page::show("centre_order", "title_centre_order", std::move(v));
}

Result<Page> shipment_record(const CentrePageContext& ctx, const PageCall& call) {
  const std::string number = call.request.params.at("number");
  auto v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<PageView> {
    const auto sh = CUNHUO_TRY(lg::find_shipment(s, number));
    if (!sh) return page_not_found("shipment");
    CUNHUO_TRY(order_in_county(s, call, sh->order_id));
    PageView v;
    v.set("number", sh->tracking_number);
    v.set("order", num(sh->order_id));
    v.set("status", std::string(web::text("centre_parcel_" + sh->status, call.lang)));
    v.set("temperature", temperature_text(sh->temperature_class, call.lang));
    v.set("at", CUNHUO_TRY(place_of_node(s, sh->current_code)));
    ViewList scans;
    for (auto it = sh->scans.rbegin(); it != sh->scans.rend(); ++it) {
      PageView e;
      e.set("time", page_time(it->event_time_ms));
      e.set("place", it->biz_location);
      e.set("step", std::string(web::text("centre_step_" + it->biz_step, call.lang)));
      e.set("disposition", it->disposition);
      scans.push_back(e);
    }
    v.set("scans", scans);
    const auto cold = CUNHUO_TRY(lg::cold_chain_of(s, sh->id));
    v.set("out_minutes", num(cold.out_of_range_ms / 60'000));
    ViewList excursions;
    for (const auto& e : cold.excursions) {
      PageView x;
      x.set("id", num(e.id));
      x.set("status", std::string(web::text("centre_excursion_" + e.status, call.lang)));
      x.set("detail", e.detail);
      const std::int64_t until =
          e.status == "open" ? ctx.clock.now_ms() : e.detected_at_ms + kTraceBeforeMs;
      x.set("chart", CUNHUO_TRY(trace_chart(s, call, e, until)));
      excursions.push_back(x);
    }
    v.set("excursions", excursions);
    return v;
  }));
  return Page::show("centre_shipment", "title_centre_shipment", std::move(v));
}

Result<Page> household_record(const CentrePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("household"));
  auto v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<PageView> {
    const auto record = CUNHUO_TRY(mk::find_household_record(s, mk::HouseholdId{id}));
    // The centre sees its county's households masked (policy.hpp); the page never shows
    // more than the masked card, whoever opens it.
    if (!record || household_view(call.caller(), *record) == View::none ||
        !in_centre_county(call.caller(), record->household.village_code))
      return page_not_found("household");
    const auto& h = record->household;
    PageView v;
    v.set("id", num(id));
    v.set("head", mask_name(h.head_name));
    v.set("phone", mask_phone(h.phone));
    v.set("village", CUNHUO_TRY(place_text(s, h.village_code, call.lang)));
    v.set("members_count", num(h.member_count));
    v.set("status", std::string(web::text("centre_poverty_" + std::string(mk::to_string(h.status)),
                                          call.lang)));
    ViewList members;
    for (const auto& m : record->card.members) {
      PageView p;
      p.set("name", mask_name(m.name));
      p.set("relationship", m.relationship);
      p.set("id_number", mask_id_number(m.id_number));
      members.push_back(p);
    }
    v.set("members", members);
    return v;
  }));
  return Page::show("centre_household", "title_centre_household", std::move(v));
}

}  // namespace

void add_centre_pages(web::PageTable& pages, const CentrePageContext& ctx) {
  pages.add({.pattern = "/centre",
             .access = centre_staff(),
             .summary = "The county centre's live board",
             .handler = [ctx](const PageCall& call) { return board(ctx, call); }});
  pages.add({.method = "POST",
             .pattern = "/centre/excursions/:id/decision",
             .access = centre_staff(),
             .summary = "The centre's verdict on a cold-chain excursion: spoiled or released",
             .handler = [ctx](const PageCall& call) { return decide(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return decide_refused(ctx, call, why); }});
  pages.add({.method = "POST",
             .pattern = "/centre/claims/:id/decision",
             .access = centre_staff(),
             .summary = "The centre approves a refund claim (saying who bears the loss) or "
                        "rejects it",
             .handler = [ctx](const PageCall& call) { return decide_claim(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return claim_refused(ctx, call, why); }});
  pages.add({.method = "POST",
             .pattern = "/centre/orders/:id/status",
             .access = centre_staff(),
             .summary = "The centre corrects an order's status by hand (shipped, delivered), with "
                        "a reason that is audited",
             .handler = [ctx](const PageCall& call) { return correct_order(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return correction_refused(ctx, call, why); }});
  pages.add({.pattern = "/centre/orders/:id",
             .access = centre_staff(),
             .summary = "An order of the county, with its parcels",
             .handler = [ctx](const PageCall& call) { return order_record(ctx, call); }});
  pages.add({.pattern = "/centre/shipments/:number",
             .access = centre_staff(),
             .summary = "A parcel of the county: its scans and its cold chain",
             .handler = [ctx](const PageCall& call) { return shipment_record(ctx, call); }});
  pages.add({.pattern = "/centre/households/:id",
             .access = centre_staff(),
             .summary = "A household of the county, as the policy lets the centre see it (masked)",
             .handler = [ctx](const PageCall& call) { return household_record(ctx, call); }});
}

}  // namespace cunhuo::storefront
