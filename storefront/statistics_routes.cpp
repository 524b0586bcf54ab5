// Open statistics over HTTP, for anyone: a page per area and its numbers as JSON or CSV.
// Only counts and sums leave alleviation/statistics; nothing here adds a person.
#include <memory>

#include "alleviation/statistics.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "core/text.hpp"
#include "storefront/alleviation_routes.hpp"
#include "marketplace/places.hpp"
#include "storefront/pages.hpp"
#include "storefront/web/page_table.hpp"
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

Result<al::AreaStatistics> statistics_for(AlleviationContext& ctx, StatisticsCache& cache,
                                          const Request& req) {
  const std::string region = req.query_param("region").value_or("");
  if (region.empty())
    return make_error(ErrorKind::invalid, "missing_field",
                      "give ?region=CODE (county, township or village)", "region");
  const int months = static_cast<int>(
      CUNHUO_TRY(query_integer(req, "months", 1, al::kMaxStatisticsMonths)).value_or(12));
  CUNHUO_TRY(region_level(region, "region"));  // only well-formed areas take a place in the cache
  const std::string key = region + "/" + std::to_string(months);
  if (auto cached = cache.get(key)) return std::move(*cached);
  auto fresh = CUNHUO_TRY(ctx.db.read(
      [&](db::Session& s) { return al::area_statistics(s, region, months, ctx.clock); }));
  cache.put(key, fresh);
  return fresh;
}

// An area's households by status, as write_counts writes them.
schema::Schema counts_schema() {
  using namespace schema;
  return object({required("area_code", text()), required("registered", integer(0)),
                 required("poor", integer(0)), required("at_risk", integer(0)),
                 required("proposed_for_exit", integer(0)), required("exited", integer(0)),
                 required("returned_to_poverty", integer(0))});
}

void write_counts(JsonWriter& w, const al::AreaCounts& c) {
  w.begin_object()
      .field("area_code", c.code)
      .field("registered", c.registered)
      .field("poor", c.poor)
      .field("at_risk", c.at_risk);
  w.field("proposed_for_exit", c.proposed)
      .field("exited", c.exited)
      .field("returned_to_poverty", c.returned)
      .end_object();
}

void write_money(JsonWriter& w, const char* key, const std::optional<Money>& m) {
  w.key(key);
  if (m)
    w.value(m->fen());
  else
    w.null();
}

// An area's statistics as statistics_json writes them; a withheld money figure is null.
schema::Schema statistics_schema() {
  using namespace schema;
  const Schema month =
      object({required("month", text().described("YYYY-MM, Shanghai time")),
              required("selling_households", integer(0)), required("sales_fen", nullable(fen())),
              required("income_to_registered_fen", nullable(fen()))});
  const Schema notice =
      object({required("proposal_id", id()), required("household", text().described("masked")),
              required("village_code", text()), required("members", integer(0)),
              required("proposed_status", choice({"exited"})),
              required("objections_until", utc_time().described("Shanghai time"))});
  return object({required("region_code", text()),
                 required("as_of", utc_time().described("Shanghai time")),
                 required("min_households_per_figure", integer(1)),
                 required("total", counts_schema()), required("areas", array(counts_schema())),
                 required("months", array(month)), required("notices", array(notice))});
}

std::string statistics_json(const al::AreaStatistics& s) {
  JsonWriter w;
  w.begin_object()
      .field("region_code", s.region_code)
      .field("as_of", format_shanghai(s.generated_at_ms));
  w.field("min_households_per_figure", static_cast<std::int64_t>(al::kMinHouseholdsPerFigure))
      .key("total");
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
  for (const auto& n : s.notices) write_notice(w, n);
  w.end_array().end_object();
  return w.take();
}

// GET /api/v1/public/statistics?region=&months=&format=json|csv&table=areas|months|notices
Result<Response> statistics(AlleviationContext& ctx, StatisticsCache& cache, const Request& req) {
  const std::string format = req.query_param("format").value_or("json");
  if (format != "json" && format != "csv")
    return make_error(ErrorKind::invalid, "invalid_format", "format is json or csv", "format");
  const std::string table = req.query_param("table").value_or("areas");
  const auto stats = CUNHUO_TRY(statistics_for(ctx, cache, req));
  if (format == "json") return Response::json(200, statistics_json(stats));
  auto r =
      Response::text(200, CUNHUO_TRY(al::statistics_csv(stats, table)), "text/csv; charset=utf-8");
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"statistics-" +
                                                    stats.region_code + "-" + table + ".csv\"");
  return r;
}

// The names of every place the page shows: the area, its parts and the notices' villages.
Result<PlaceNames> place_names(AlleviationContext& ctx, const al::AreaStatistics& stats) {
  std::vector<std::string> codes = {stats.region_code};
  for (const auto& part : stats.parts) codes.push_back(part.code);
  for (const auto& notice : stats.notices) codes.push_back(notice.village_code);
  return ctx.db.read([&](db::Session& s) { return marketplace::place_names(s, codes); });
}

Result<Response> statistics_page(AlleviationContext& ctx, StatisticsCache& cache,
                                 const Request& req) {
  const auto stats = CUNHUO_TRY(statistics_for(ctx, cache, req));
  const auto names = CUNHUO_TRY(place_names(ctx, stats));
  const auto frame = web::page_frame(ctx.pages, req);
  auto r =
      Response::text(200, statistics_html(stats, names, frame.chrome), "text/html; charset=utf-8");
  frame.add_headers(r);
  return r;
}

}  // namespace

void add_statistics_routes(RouteTable& table, AlleviationContext ctx) {
  auto cache =
      std::make_shared<StatisticsCache>(ctx.clock, kStatisticsTtlMs, kStatisticsCacheEntries);
  auto bind = [ctx, cache](auto fn) {
    return [ctx, cache, fn](const Call& call) mutable { return fn(ctx, *cache, call.request); };
  };
  const std::vector<QueryParam> query = {
      {.name = "region",
       .type = "string",
       .description = "a county, township or village code",
       .required = true},
      {.name = "months",
       .type = "integer",
       .description = "months back from this one, 1 to 24 (12)"}};
  table.add({.method = "GET",
             .pattern = "/api/v1/public/statistics",
             .access = anyone(),
             .response_schema = statistics_schema(),
             .other_types = {"text/csv"},
             .query = {query[0],
                       query[1],
                       {.name = "format", .description = "json (the default) or csv"},
                       {.name = "table", .description = "with csv: areas, months or notices"}},
             .errors = {"missing_field", "invalid_region_code", "out_of_range", "invalid_format",
                        "invalid_table"},
             .summary = "Open statistics of an area: households by status, sales and income by "
                        "month, notices (public)",
             .handler = bind(statistics)});
  table.add({.method = "GET",
             .pattern = "/public/statistics",
             .access = anyone(),
             .response_type = "text/html",
             .query = query,
             .errors = {"missing_field", "invalid_region_code", "out_of_range"},
             .summary = "The open statistics page of an area (public, Chinese first)",
             .handler = bind(statistics_page)});
}

}  // namespace cunhuo::storefront
