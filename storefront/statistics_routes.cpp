// Open statistics over HTTP, for anyone: a page per area and its numbers as JSON or CSV.
// Only counts and sums leave alleviation/statistics; nothing here adds a person.
#include <memory>

#include "alleviation/statistics.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "core/text.hpp"
#include "storefront/alleviation_routes.hpp"
#include "storefront/route_support.hpp"
#include "storefront/ttl_cache.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;

// Anyone may ask, as often as they like: an area's figures are computed once a minute at
// most, and the page says as of when.
constexpr std::int64_t kStatisticsTtlMs = 60'000;
constexpr std::size_t kStatisticsCacheEntries = 512;  // areas × month counts kept at once
using StatisticsCache = TtlCache<al::AreaStatistics>;

Result<al::AreaStatistics> statistics_for(AlleviationContext& ctx, StatisticsCache& cache, const Request& req) {
  const std::string region = req.query_param("region").value_or("");
  if (region.empty()) return make_error(ErrorKind::invalid, "missing_field", "give ?region=CODE (county, township or village)", "region");
  const int months = static_cast<int>(CUNHUO_TRY(query_integer(req, "months", 1, al::kMaxStatisticsMonths)).value_or(12));
  CUNHUO_TRY(region_level(region, "region"));  // only well-formed areas take a place in the cache
  const std::string key = region + "/" + std::to_string(months);
  if (auto cached = cache.get(key)) return std::move(*cached);
  auto fresh = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::area_statistics(s, region, months, ctx.clock); }));
  cache.put(key, fresh);
  return fresh;
}

void write_counts(JsonWriter& w, const al::AreaCounts& c) {
  w.begin_object().field("area_code", c.code).field("registered", c.registered).field("poor", c.poor).field("at_risk", c.at_risk);
  w.field("proposed_for_exit", c.proposed).field("exited", c.exited).field("returned_to_poverty", c.returned).end_object();
}

void write_money(JsonWriter& w, const char* key, const std::optional<Money>& m) {
  w.key(key);
  if (m) w.value(m->fen()); else w.null();
}

std::string statistics_json(const al::AreaStatistics& s) {
  JsonWriter w;
  w.begin_object().field("region_code", s.region_code).field("as_of", format_shanghai(s.generated_at_ms));
  w.field("min_households_per_figure", static_cast<std::int64_t>(al::kMinHouseholdsPerFigure)).key("total");
  write_counts(w, s.total);
  w.key("areas").begin_array();
  for (const auto& p : s.parts) write_counts(w, p);
  w.end_array().key("months").begin_array();
  for (const auto& m : s.months) {
    w.begin_object().field("month", m.month).field("selling_households", m.selling_households);
    write_money(w, "sales_fen", m.sales);
    write_money(w, "income_to_registered_fen", m.income_to_registered);
    w.end_object();
  }
  w.end_array().key("notices").begin_array();
  for (const auto& n : s.notices)
    w.begin_object().field("proposal_id", n.proposal_id).field("household", n.masked_name).field("village_code", n.village_code)
        .field("members", static_cast<std::int64_t>(n.members)).field("proposed_status", "exited")
        .field("objections_until", format_shanghai(n.ends_ms)).end_object();
  w.end_array().end_object();
  return w.take();
}

// ---- the page -------------------------------------------------------------------------

std::string counts_row_html(const al::AreaCounts& c, bool link) {
  std::string h = "<tr><td>";
  h += link ? "<a href=\"/public/statistics?region=" + c.code + "\">" + c.code + "</a>" : c.code;
  h += "</td>";
  for (auto n : {c.registered, c.poor, c.at_risk, c.proposed, c.exited, c.returned}) h += "<td class=n>" + std::to_string(n) + "</td>";
  return h + "</tr>";
}

constexpr const char* kCountHeads =
    "<th>建档立卡户 Registered</th><th>未脱贫 Poor</th><th>监测户 At risk</th><th>拟退出 Proposed</th><th>已脱贫 Exited</th><th>返贫 Returned</th>";

std::string csv_link(const al::AreaStatistics& s, const char* table, const char* label) {
  return "<a href=\"/api/v1/public/statistics?region=" + s.region_code + "&amp;format=csv&amp;table=" + table + "\" download>" + label + "</a>";
}

std::string statistics_html(const al::AreaStatistics& s) {
  std::string h = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=viewport content=\"width=device-width\">"
                  "<title>扶贫信息公开 Open statistics " + s.region_code + "</title><style>body{font-family:sans-serif;margin:1em}"
                  "table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px 6px}td.n{text-align:right}</style></head><body>";
  h += "<h1>扶贫信息公开 Open statistics</h1><p>地区 Area: <b id=area>" + s.region_code + "</b> · 更新 As of " + format_shanghai(s.generated_at_ms) + "</p>";
  h += "<h2>农户 Households</h2><table id=areas><thead><tr><th>地区 Area</th>" + std::string(kCountHeads) + "</tr></thead><tbody>";
  h += counts_row_html(s.total, false);
  for (const auto& p : s.parts) h += counts_row_html(p, true);
  h += "</tbody></table><p>" + csv_link(s, "areas", "下载 CSV download") + "</p>";
  h += "<h2>平台销售 Platform sales by month</h2><table id=months><thead><tr><th>月份 Month</th><th>销售农户 Selling households</th>"
       "<th>销售额 Sales ¥</th><th>建档立卡户收入 Income to registered households ¥</th></tr></thead><tbody>";
  for (const auto& m : s.months)
    h += "<tr><td>" + m.month + "</td><td class=n>" + std::to_string(m.selling_households) + "</td><td class=n>" + al::shown_yuan(m.sales, false) +
         "</td><td class=n>" + al::shown_yuan(m.income_to_registered, false) + "</td></tr>";
  h += "</tbody></table><p>“—”：有村销售农户少于 " + std::to_string(al::kMinHouseholdsPerFigure) + " 户，不公开金额 (a village with fewer than " +
       std::to_string(al::kMinHouseholdsPerFigure) + " selling households: not shown). " + csv_link(s, "months", "下载 CSV download") + "</p>";
  h += "<h2>退出公示 Exit notices</h2><table id=notices><thead><tr><th>村 Village</th><th>户主 Household</th><th>人口 Members</th>"
       "<th>拟退出 Proposed</th><th>异议截止 Objections until</th><th>剩余 Left</th></tr></thead><tbody>";
  for (const auto& n : s.notices)
    h += "<tr><td>" + n.village_code + "</td><td>" + html_escape(n.masked_name) + "</td><td class=n>" + std::to_string(n.members) +
         "</td><td>脱贫 exit</td><td>" + format_shanghai(n.ends_ms) + "</td><td class=left data-ends=\"" + std::to_string(n.ends_ms) + "\"></td></tr>";
  if (s.notices.empty()) h += "<tr><td colspan=6>暂无 None</td></tr>";
  h += "</tbody></table><p>" + csv_link(s, "notices", "下载 CSV download") +
       " · 异议请联系乡镇扶贫工作站 To object, see the township office or POST /api/v1/exit-proposals/{id}/objections.</p>";
  // The time left, counted on the reader's own clock; the deadline itself is printed above.
  h += "<script>for(const c of document.querySelectorAll('td.left')){const ms=Number(c.dataset.ends)-Date.now();"
       "const d=Math.floor(ms/864e5),hr=Math.floor(ms%864e5/36e5);"
       "c.textContent=ms>0?'剩 '+d+' 天 '+hr+' 小时 ('+d+'d '+hr+'h left)':'已截止 closed';}</script></body></html>";
  return h;
}

// GET /api/v1/public/statistics?region=&months=&format=json|csv&table=areas|months|notices
Result<Response> statistics(AlleviationContext& ctx, StatisticsCache& cache, const Request& req) {
  const std::string format = req.query_param("format").value_or("json");
  if (format != "json" && format != "csv") return make_error(ErrorKind::invalid, "invalid_format", "format is json or csv", "format");
  const std::string table = req.query_param("table").value_or("areas");
  const auto stats = CUNHUO_TRY(statistics_for(ctx, cache, req));
  if (format == "json") return Response::json(200, statistics_json(stats));
  auto r = Response::text(200, CUNHUO_TRY(al::statistics_csv(stats, table)), "text/csv; charset=utf-8");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"statistics-" + stats.region_code + "-" + table + ".csv\"");
  return r;
}

Result<Response> statistics_page(AlleviationContext& ctx, StatisticsCache& cache, const Request& req) {
  return Response::text(200, statistics_html(CUNHUO_TRY(statistics_for(ctx, cache, req))), "text/html; charset=utf-8");
}

}  // namespace

void add_statistics_routes(Router& router, AlleviationContext ctx) {
  auto cache = std::make_shared<StatisticsCache>(ctx.clock, kStatisticsTtlMs, kStatisticsCacheEntries);
  auto route = [&](const char* pattern, auto fn, const char* summary) {
    router.add(Route{"GET", pattern, [ctx, cache, fn](const Request& r) mutable { return respond(fn(ctx, *cache, r)); }, -1,
                     false, summary});
  };
  route("/api/v1/public/statistics", statistics,
        "Open statistics of an area: households by status, sales and income by month, notices (public; ?format=csv&table=areas|months|notices)");
  route("/public/statistics", statistics_page, "The open statistics page of an area (public, Chinese first)");
}

}  // namespace cunhuo::storefront
