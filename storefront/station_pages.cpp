#include "storefront/station_pages.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "logistics/network.hpp"
#include "logistics/pickup.hpp"
#include "logistics/pickup_codes.hpp"
#include "logistics/shipments.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"
#include "storefront/station_moves.hpp"
#include "storefront/trace_pages.hpp"
#include "storefront/web/qr.hpp"
#include "storefront/web/qr_read.hpp"

namespace cunhuo::storefront {
namespace {

namespace lg = cunhuo::logistics;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxCodeField = 12;  // a typed pickup code, spaces and all

std::string fixed1(double km) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", km);
  return buf;
}

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The station an admin names: ?node= on a page, the form's node field on a POST.
std::optional<std::string> named_node(const PageCall& call) {
  if (call.request.method == "POST") {
    std::string f = call.field("node");
    if (f.empty()) return std::nullopt;
    return f;
  }
  return call.request.query_param("node");
}

Result<lg::Node> station(db::Session& s, const PageCall& call) {
  return station_of(s, call.caller(), named_node(call));
}

// What every station page's template reads of its station, and the suffix that keeps an
// admin on the station they named.
std::string node_query(const PageCall& call, const lg::Node& st, char first) {
  if (call.caller().role != Role::admin) return "";
  return std::string(1, first) + "node=" + st.code;
}

void set_station(View& v, const PageCall& call, const lg::Node& st) {
  v.set("station_name", st.name);
  v.set("station_code", st.code);
  if (call.caller().role == Role::admin) v.set("node", st.code);
  v.set("node_query", node_query(call, st, '?'));
}

std::string when(std::optional<std::int64_t> ms) { return ms ? page_time(*ms) : ""; }

View parcel_row(const lg::ShipmentLine& l, lg::ShipmentView view, web::Lang lang) {
  View r;
  r.set("number", l.tracking_number);
  r.set("status", word("parcel_status_" + l.status, l.status, lang));
  r.set("at", l.current_code);
  r.set("next", l.next_code.value_or(""));
  r.set("time",
        when(view == lg::ShipmentView::arriving ? l.planned_arrival_ms : l.planned_departure_ms));
  r.set("temperature", temperature_text(l.temperature_class, lang));
  std::string flags;
  for (const auto& f : l.flags) flags += (flags.empty() ? "" : " ") + word("flag_" + f, f, lang);
  r.set("flags", flags);
  return r;
}

Result<ViewList> station_lists(db::Session& s, const lg::Node& st, std::int64_t now,
                               web::Lang lang) {
  ViewList lists;
  const std::int64_t day_end = shanghai_midnight_ms(shanghai_date(now)) + kDayMs;
  for (auto view :
       {lg::ShipmentView::arriving, lg::ShipmentView::in_store, lg::ShipmentView::to_dispatch}) {
    const lg::ShipmentListQuery q{.view = view,
                                  .node_id = st.id.value,
                                  .now_ms = now,
                                  .day_end_ms = day_end,
                                  .limit = kStationListRows};
    ViewList rows;
    for (const auto& l : CUNHUO_TRY(lg::list_shipments(s, q)))
      rows.push_back(parcel_row(l, view, lang));
    View list;
    const std::string id(to_string(view));
    list.set("id", id);
    list.set("title", std::string(web::text("station_list_" + id, lang)));
    list.set("arriving", view == lg::ShipmentView::arriving);
    list.set("has_rows", !rows.empty());
    list.set("rows", rows);
    lists.push_back(list);
  }
  return lists;
}

// The scan box and the lists; `error` and the typed label when a scan was refused.
Result<Page> station_home(const StationPageContext& ctx, const PageCall& call,
                          const std::string& error) {
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto st = CUNHUO_TRY(station(s, call));
    View out;
    set_station(out, call, st);
    out.set("lists", CUNHUO_TRY(station_lists(s, st, ctx.clock.now_ms(), call.lang)));
    return out;
  }));
  const auto kind = parse_station_scan(call.request.query_param("kind").value_or(
      call.request.method == "POST" ? call.field("kind") : ""));
  const std::string last = kind.ok() ? std::string(to_string(*kind)) : "arriving";
  ViewList kinds;
  for (auto k : {StationScan::arriving, StationScan::stored, StationScan::departing,
                 StationScan::delivered}) {
    View b;
    b.set("value", std::string(to_string(k)));
    b.set("label", std::string(web::text("station_kind_" + std::string(to_string(k)), call.lang)));
    b.set("last", std::string(to_string(k)) == last);
    kinds.push_back(b);
  }
  v.set("kinds", kinds);
  if (auto done = label_number(call.request.query_param("done").value_or("")); done && kind.ok()) {
    v.set("done", *done);
    v.set("done_kind",
          std::string(web::text("station_kind_" + std::string(to_string(*kind)), call.lang)));
  }
  if (!error.empty()) {
    v.set("error", error);
    v.set("label", call.field("label"));
  }
  return Page::show("station", "title_station", std::move(v));
}

// The photo chosen, if any: a browser sends an empty file part when none was.
std::string_view photo_of(const PageCall& call) {
  for (const auto& f : call.files)
    if (f.field == "photo" && !f.bytes.empty()) return f.bytes;
  return {};
}

Result<Page> scan(const StationPageContext& ctx, const PageCall& call) {
  const auto kind = CUNHUO_TRY(parse_station_scan(call.field("kind")));
  std::string label = call.field("label");
  if (const auto photo = photo_of(call); !photo.empty())
    label = CUNHUO_TRY(web::read_code_in_photo(photo));
  else if (label.empty())
    return make_error(ErrorKind::invalid, "missing_label", "type or scan the label", "label");
  std::string query;
  const auto sh = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<lg::Shipment> {
    const auto st = CUNHUO_TRY(station(tx, call));
    query = node_query(call, st, '&');
    return scan_at_station(tx, ctx.planner, call.caller(), st, label, kind, ctx.clock);
  }));
  ctx.dispatcher.wake();
  return Page::see_other("/station?done=" + sh.tracking_number +
                         "&kind=" + std::string(to_string(kind)) + query);
}

// ---- handover against the pickup code ---------------------------------------------

// Where a waiting parcel's code stands, in the reader's words.
std::string code_state(const std::optional<lg::PickupCodeState>& code, std::int64_t now,
                       web::Lang lang) {
  const char* key = !code                        ? "station_code_none"
                    : code->tries_left <= 0      ? "station_code_locked"
                    : code->expires_at_ms <= now ? "station_code_expired"
                                                 : "station_code_live";
  std::string words(web::text(key, lang));
  if (code && code->tries_left > 0 && code->expires_at_ms > now)
    words += " " + page_time(code->expires_at_ms);
  return words;
}

// The parcels in store here at the end of their way: waiting for their recipients.
Result<ViewList> waiting_for_pickup(db::Session& s, const lg::Node& st, std::int64_t now,
                                    web::Lang lang) {
  const lg::ShipmentListQuery q{.view = lg::ShipmentView::in_store,
                                .node_id = st.id.value,
                                .now_ms = now,
                                .day_end_ms = now,
                                .limit = kStationListRows};
  ViewList rows;
  for (const auto& l : CUNHUO_TRY(lg::list_shipments(s, q))) {
    if (l.next_code || l.status != "at_node") continue;  // still on its way, or held
    View r;
    r.set("number", l.tracking_number);
    r.set("code", code_state(CUNHUO_TRY(lg::pickup_code_of(s, l.id)), now, lang));
    rows.push_back(r);
  }
  return rows;
}

Result<Page> handover_page(const StationPageContext& ctx, const PageCall& call,
                           const std::string& error) {
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    View out;
    const auto st = CUNHUO_TRY(station(s, call));
    set_station(out, call, st);
    const auto rows = CUNHUO_TRY(waiting_for_pickup(s, st, ctx.clock.now_ms(), call.lang));
    out.set("has_waiting", !rows.empty());
    out.set("waiting", rows);
    return out;
  }));
  for (const char* shown : {"done", "sent"})
    if (auto n = label_number(call.request.query_param(shown).value_or(""))) v.set(shown, *n);
  if (!error.empty()) {
    v.set("error", error);
    v.set("label", call.field("label"));
  }
  v.set("days", std::to_string(lg::kPickupCodeLifetimeMs / kDayMs));
  v.set("tries", std::to_string(lg::kPickupCodeTries));
  return Page::show("station_handover", "title_station_handover", std::move(v));
}

// The code as typed, spaces aside: 6 digits, else invalid_pickup_code (no try is spent on
// what cannot be a code).
Result<std::string> typed_code(const PageCall& call) {
  std::string code;
  for (char c : call.field("code"))
    if (c != ' ') code += c;
  if (call.field("code").size() > kMaxCodeField ||
      code.size() != static_cast<std::size_t>(lg::kPickupCodeDigits) ||
      !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return make_error(ErrorKind::invalid, "invalid_pickup_code", "the code is 6 digits", "code");
  return code;
}

Result<Page> hand_over_page(const StationPageContext& ctx, const PageCall& call) {
  const std::string code = CUNHUO_TRY(typed_code(call));
  lg::PickupCheck check = lg::PickupCheck::missing;
  std::string query;
  const auto delivered =
      CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::optional<std::string>> {
        const auto st = CUNHUO_TRY(station(tx, call));
        query = node_query(call, st, '&');
        const auto parcel = CUNHUO_TRY(parcel_for_pickup(tx, st, call.field("label")));
        check = CUNHUO_TRY(hand_over(tx, ctx.planner, call.caller(), parcel, code, ctx.clock));
        if (check != lg::PickupCheck::accepted) return std::optional<std::string>();  // commits
        return std::optional<std::string>(parcel.tracking_number);
      }));
  if (!delivered) return pickup_refusal(check);
  ctx.dispatcher.wake();
  return Page::see_other("/station/handover?done=" + *delivered + query);
}

Result<Page> resend_code(const StationPageContext& ctx, const PageCall& call) {
  std::string query, number;
  CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::int64_t> {
    const auto st = CUNHUO_TRY(station(tx, call));
    query = node_query(call, st, '&');
    const auto parcel = CUNHUO_TRY(parcel_for_pickup(tx, st, call.field("label")));
    number = parcel.tracking_number;
    return send_pickup_code(tx, parcel, ctx.clock);
  }));
  return Page::see_other("/station/handover?sent=" + number + query);
}

// ---- pickup runs and the route sheet ------------------------------------------------

View plan_view(const lg::StationPickups& p, const std::string& query) {
  View v;
  v.set("id", std::to_string(p.id));
  v.set("date", p.date);
  v.set("parcels", std::to_string(p.parcels));
  v.set("total_km", fixed1(p.total_km));
  v.set("baseline_km", fixed1(p.baseline_km));
  v.set("runs", std::to_string(p.runs.size()));
  v.set("unserved", std::to_string(p.unserved.size()));
  v.set("sheet", "/station/runs/" + p.date + "/sheet" + query);
  return v;
}

Result<Page> runs_page(const StationPageContext& ctx, const PageCall& call,
                       const std::string& error) {
  const auto today = shanghai_date(ctx.clock.now_ms());
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto st = CUNHUO_TRY(station(s, call));
    View out;
    set_station(out, call, st);
    ViewList plans;
    for (const auto& p : CUNHUO_TRY(lg::station_pickups_on(s, st.code, today)))
      plans.push_back(plan_view(p, node_query(call, st, '?')));
    std::reverse(plans.begin(), plans.end());  // newest first
    if (!plans.empty()) out.set("sheet", plans.front().get("sheet")->string_value());
    out.set("plans", plans);
    return out;
  }));
  v.set("date", format_date(today));
  v.set("capacity", std::to_string(kDefaultRunCrates));
  if (!error.empty()) v.set("error", error);
  return Page::show("station_runs", "title_station_runs", std::move(v));
}

Result<Page> plan_runs(const StationPageContext& ctx, const PageCall& call) {
  lg::PickupVehicle vehicle;
  vehicle.capacity_crates = kDefaultRunCrates;
  if (const auto typed = call.field("capacity"); !typed.empty()) {
    const auto n = parse_int(typed);
    if (!n || *n < 1 || *n > kMaxRunCrates)
      return make_error(ErrorKind::invalid, "invalid_capacity", "crates: 1 to 1000", "capacity");
    vehicle.capacity_crates = static_cast<int>(*n);
  }
  std::string query;
  CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<lg::StationPickups> {
    const auto st = CUNHUO_TRY(station(tx, call));
    query = node_query(call, st, '?');
    return lg::plan_station_pickups(tx, st.code, shanghai_date(ctx.clock.now_ms()), vehicle,
                                    ctx.clock);
  }));
  ctx.dispatcher.wake();
  return Page::see_other("/station/runs" + query);
}

// The newest plan of `:date`, printed: each run's stops in order with their times, their
// parcels, and a QR code per stop that opens the stop's parcel list on the driver's phone.
Result<Page> route_sheet(const StationPageContext& ctx, const PageCall& call) {
  const auto date = parse_date(call.request.params.at("date"));
  if (!date) return page_not_found("plan");
  const std::string origin = page_origin(call, ctx.https);
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto st = CUNHUO_TRY(station(s, call));
    const auto plans = CUNHUO_TRY(lg::station_pickups_on(s, st.code, *date));
    if (plans.empty()) return page_not_found("plan");
    const auto& plan = plans.back();
    lg::PickupVehicle vehicle;
    const auto sheet = CUNHUO_TRY(lg::pickup_sheet(s, plan, vehicle));
    View out = plan_view(plan, node_query(call, st, '?'));
    set_station(out, call, st);
    ViewList runs;
    for (std::size_t i = 0; i < sheet.size(); ++i) {
      View run;
      run.set("n", std::to_string(i + 1));
      run.set("start", plan.runs[i].start);
      run.set("end", plan.runs[i].end);
      run.set("km", fixed1(plan.runs[i].km));
      run.set("crates", std::to_string(plan.runs[i].crates));
      ViewList stops;
      for (std::size_t j = 0; j < sheet[i].size(); ++j) {
        const auto& stop = sheet[i][j];
        View sv;
        sv.set("n", std::to_string(j + 1));
        sv.set("code", stop.code);
        sv.set("name", stop.name);
        sv.set("arrive", stop.arrive);
        sv.set("crates", std::to_string(stop.crates));
        ViewList parcels;
        for (const auto& p : stop.parcels) parcels.push_back(View("number", p));
        sv.set("parcels", parcels);
        const std::string url = origin + "/station/runs/" + plan.date + "/stops/" + stop.code +
                                node_query(call, st, '?');
        sv.set("qr", CUNHUO_TRY(web::qr_svg(url, kRouteSheetQrPx)));
        stops.push_back(sv);
      }
      run.set("stops", stops);
      runs.push_back(run);
    }
    out.set("run_list", runs);
    return out;
  }));
  return Page::show("station_sheet", "title_station_sheet", std::move(v));
}

// A stop's parcels, as the route sheet's QR code opens them: what to collect there.
Result<Page> stop_parcels(const StationPageContext& ctx, const PageCall& call) {
  const std::string code = call.request.params.at("code");
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto st = CUNHUO_TRY(station(s, call));
    const auto point = CUNHUO_TRY(lg::find_node(s, code));
    // Only the village points of the station's own township.
    if (!point || point->kind != lg::NodeKind::village_point ||
        point->region_code.rfind(st.region_code, 0) != 0)
      return page_not_found("stop");
    const auto stop = CUNHUO_TRY(lg::parcels_at_point(s, code));
    View out;
    set_station(out, call, st);
    out.set("date", call.request.params.at("date"));
    out.set("code", stop.code);
    out.set("name", stop.name);
    out.set("crates", std::to_string(stop.crates));
    ViewList parcels;
    for (const auto& p : stop.parcels) parcels.push_back(View("number", p));
    out.set("has_parcels", !parcels.empty());
    out.set("parcels", parcels);
    return out;
  }));
  return Page::show("station_stop", "title_station_stop", std::move(v));
}

}  // namespace

void add_station_pages(web::PageTable& pages, const StationPageContext& ctx) {
  const auto staff = only({Role::station_operator, Role::admin});
  pages.add({.method = "GET",
             .pattern = "/station",
             .access = staff,
             .summary = "The scan box, and the parcels arriving, in store and to dispatch",
             .handler = [ctx](const PageCall& call) { return station_home(ctx, call, ""); }});
  pages.add({.method = "POST",
             .pattern = "/station/scan",
             .access = staff,
             .summary = "Record a scan of a label (typed, scanned, or a photo read on the server)",
             .handler = [ctx](const PageCall& call) { return scan(ctx, call); },
             .reshow = [ctx](const PageCall& call, const Error& why) -> Result<Page> {
               return station_home(ctx, call, web::refusal_message(why, call.lang));
             },
             .max_body = ctx.max_upload_body + web::kMaxFormBytes,
             .multipart = true,
             .on_pool = true});
  pages.add({.method = "GET",
             .pattern = "/station/handover",
             .access = staff,
             .summary = "Hand a parcel to its recipient against their pickup code",
             .handler = [ctx](const PageCall& call) { return handover_page(ctx, call, ""); }});
  pages.add({.method = "POST",
             .pattern = "/station/handover",
             .access = staff,
             .summary = "Record the delivery, with the pickup code as its proof",
             .handler = [ctx](const PageCall& call) { return hand_over_page(ctx, call); },
             .reshow = [ctx](const PageCall& call, const Error& why) -> Result<Page> {
               return handover_page(ctx, call, web::refusal_message(why, call.lang));
             }});
  pages.add({.method = "POST",
             .pattern = "/station/handover/code",
             .access = staff,
             .summary = "Send the recipient a new pickup code",
             .handler = [ctx](const PageCall& call) { return resend_code(ctx, call); },
             .reshow = [ctx](const PageCall& call, const Error& why) -> Result<Page> {
               return handover_page(ctx, call, web::refusal_message(why, call.lang));
             }});
  pages.add({.method = "GET",
             .pattern = "/station/runs",
             .access = staff,
             .summary = "Today's pickup runs to the township's village points",
             .handler = [ctx](const PageCall& call) { return runs_page(ctx, call, ""); }});
  pages.add({.method = "POST",
             .pattern = "/station/runs",
             .access = staff,
             .summary = "Plan today's pickup runs",
             .handler = [ctx](const PageCall& call) { return plan_runs(ctx, call); },
             .reshow = [ctx](const PageCall& call, const Error& why) -> Result<Page> {
               return runs_page(ctx, call, web::refusal_message(why, call.lang));
             }});
  pages.add({.method = "GET",
             .pattern = "/station/runs/:date/sheet",
             .access = staff,
             .summary = "A day's route sheet to print: stops in order, times, parcels, QR codes",
             .handler = [ctx](const PageCall& call) { return route_sheet(ctx, call); }});
  pages.add({.method = "GET",
             .pattern = "/station/runs/:date/stops/:code",
             .access = staff,
             .summary = "The parcels to collect at a stop (the route sheet's QR code)",
             .handler = [ctx](const PageCall& call) { return stop_parcels(ctx, call); }});
}

}  // namespace cunhuo::storefront
