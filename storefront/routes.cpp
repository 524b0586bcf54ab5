#include "storefront/routes.hpp"

#include <memory>

#include "core/json.hpp"
#include "logistics/network.hpp"
#include "storefront/web/assets.hpp"

namespace cunhuo::storefront {
namespace {

using schema::Schema;

// The answers of /healthz and /readyz, as their handlers write them.
Schema health_schema() {
  using namespace schema;
  return object({required("status", choice({"ok"}))});
}

Schema readiness_schema() {
  using namespace schema;
  const Schema provider = object(
      {required("name", text()), required("configured", boolean()), required("ready", boolean())});
  const Schema outbox =
      object({required("pending", integer(0)), required("parked", integer(0)),
              required("oldest_pending_age_s", integer(0)), required("counted_age_s", integer(0))});
  return object({required("status", choice({"ready"})),
                 required("store", choice({"sqlite", "mysql"})), required("provider", provider),
                 required("outbox", outbox.described("events not yet handled, as counted "
                                                     "counted_age_s ago (15 s, or the last "
                                                     "count while a slow one runs): to hand "
                                                     "out, and parked"))});
}

// The node list as the network listing writes it.
Schema nodes_schema() {
  using namespace schema;
  using K = logistics::NodeKind;
  auto name = [](K k) { return logistics::to_string(k); };
  const Schema kind = choice({name(K::village_point), name(K::township_station),
                              name(K::county_centre), name(K::cold_store), name(K::city_hub)});
  return list_of("nodes",
                 object({required("id", id()), required("code", text()), required("kind", kind),
                         required("name", text()), required("region_code", text()),
                         required("cold_capacity_crates", integer(0))}));
}

// The outline of the document openapi_document writes; within it, the OpenAPI 3.1
// specification is the schema.
Schema openapi_schema() {
  using namespace schema;
  const Schema license = object({required("name", text()), required("identifier", text())});
  const Schema info = object({required("title", text()), required("version", text()),
                              required("description", text()), required("license", license)});
  const Schema components =
      object({required("securitySchemes", map_of(any())), required("schemas", map_of(any()))});
  return object({
      required("openapi", choice({"3.1.0"})),
      required("info", info),
      required("servers", array(object({required("url", text())}))),
      required("components", components),
      required("paths", map_of(map_of(any())).described("operations by path and method")),
  });
}

}  // namespace

void add_system_routes(RouteTable& table, SystemContext ctx) {
  table.add({.method = "GET",
             .pattern = "/healthz",
             .access = anyone(),
             .response_schema = health_schema(),
             .summary = "The process is up",
             .handler = [](const Call&) -> Result<Response> {
               return Response::json(200, "{\"status\":\"ok\"}");
             }});
  table.add({.method = "GET",
             .pattern = "/readyz",
             .access = anyone(),
             .response_schema = readiness_schema(),
             .errors = {"shutting_down", "store_unavailable", "storage_full", "provider_not_ready"},
             .summary = "The store is reachable and writable, and the server takes traffic; "
                        "the payment provider and the outbox backlog",
             .handler = [ctx](const Call&) -> Result<Response> {
               if (ctx.server.draining())
                 return error_response(503, "shutting_down", "server is shutting down");
               if (auto st = ctx.db.ping(); !st.ok()) {
                 // Not ready while the store is full, so a proxy drains this process.
                 if (st.error().code == db::kStorageFull) return error_response(st.error());
                 return error_response(503, "store_unavailable", "the store does not answer");
               }
               // Configured but unable to verify its answers (no platform certificate yet,
               // and no WeChat Pay public key configured).
               if (ctx.provider.configured() && !ctx.provider.ready())
                 return error_response(503, "provider_not_ready",
                                       "the payment provider is not ready: no platform "
                                       "certificate is trusted yet and no public key is "
                                       "configured");
               const auto reading = ctx.gauges.read();
               const auto& backlog = reading.outbox;
               const std::int64_t age =
                   backlog.oldest_pending_at_ms == 0
                       ? 0
                       : std::max<std::int64_t>(
                             0, (reading.read_at_ms - backlog.oldest_pending_at_ms) / 1000);
               JsonWriter w;
               w.begin_object().field("status", "ready");
               w.field("store", ctx.db.dialect() == db::Dialect::sqlite ? "sqlite" : "mysql");
               w.key("provider").begin_object().field("name", ctx.provider.name());
               w.field("configured", ctx.provider.configured());
               w.field("ready", ctx.provider.ready()).end_object();
               w.key("outbox").begin_object().field("pending", backlog.pending);
               w.field("parked", backlog.parked).field("oldest_pending_age_s", age);
               w.field("counted_age_s", reading.age_ms / 1000).end_object();
               w.end_object();
               return Response::json(200, w.take());
             }});
  // Metrics go to an admin session or to an address the operator allowed (a scraper has
  // no account): Metrics::permits decides both.
  table.add({.method = "GET",
             .pattern = "/metrics",
             .access = anyone(),
             .response_type = "text/plain",
             .errors = {"forbidden"},
             .summary = "Prometheus metrics (admins and allowed addresses)",
             .handler = [ctx](const Call& call) -> Result<Response> {
               if (!ctx.metrics.permits(call.request))
                 return error_response(403, "forbidden",
                                       "metrics are for admins and allowed addresses");
               return Response::text(200, ctx.metrics.render() + ctx.gauges.render(),
                                     "text/plain; version=0.0.4; charset=utf-8");
             }});
}

// Pages run no inline script (their Content-Security-Policy forbids it): they load these,
// by hashed name (kept a year) or plain name (kept an hour).
void add_asset_routes(RouteTable& table) {
  table.add(
      {.method = "GET",
       .pattern = "/assets/:file",
       .access = anyone(),
       .response_type = "text/css",
       .other_types = {"text/javascript", "image/svg+xml"},
       .errors = {"not_found"},
       .summary = "A stylesheet or script the server-rendered pages load",
       .handler = [](const Call& call) -> Result<Response> {
         auto asset = web::Assets::builtin().find(call.request.params.at("file"));
         if (!asset) return error_response(404, "not_found", "no such asset");
         auto r =
             Response::text(200, std::string(asset->content), std::string(asset->content_type));
         const int max_age = asset->hashed ? web::kHashedAssetMaxAgeS : web::kPlainAssetMaxAgeS;
         r.headers.emplace_back("Cache-Control", "public, max-age=" + std::to_string(max_age) +
                                                     (asset->hashed ? ", immutable" : ""));
         return r;
       }});
}

void add_network_routes(RouteTable& table, db::Database& db) {
  table.add({.method = "GET",
             .pattern = "/api/v1/network/nodes",
             .access = anyone(),
             .response_schema = nodes_schema(),
             .query = {{.name = "region",
                        .description = "a county, township or village code",
                        .required = true}},
             .errors = {"missing_field", "invalid_region_code"},
             .summary = "Service points, stations, cold stores and hubs in a region",
             .handler = [&db](const Call& call) -> Result<Response> {
               auto region = call.request.query_param("region").value_or("");
               if (region.empty())
                 return error_response(400, "missing_field", "give ?region=CODE", "region");
               auto nodes = db.read([&](db::Session& s) { return logistics::nodes_in(s, region); });
               if (!nodes.ok()) {
                 Error e = nodes.error();
                 if (e.field == "region_code") e.field = "region";
                 return error_response(e);
               }
               JsonWriter w;
               w.begin_object().key("nodes").begin_array();
               for (const auto& n : *nodes) {
                 w.begin_object().field("id", n.id.value).field("code", n.code);
                 w.field("kind", logistics::to_string(n.kind)).field("name", n.name);
                 w.field("region_code", n.region_code)
                     .field("cold_capacity_crates", n.cold_capacity_crates);
                 w.end_object();
               }
               w.end_array().end_object();
               return Response::json(200, w.take());
             }});
}

void add_openapi_route(RouteTable& table) {
  // Declared last, and filled in right after: the document describes itself too.
  auto document = std::make_shared<std::string>();
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/openapi.json",
       .access = anyone(),
       .response_schema = openapi_schema(),
       .summary =
           "This document: every operation with its parameters, schemas, roles and error codes",
       .handler = [document](const Call&) -> Result<Response> {
         return Response::json(200, *document);
       }});
  *document = openapi_document(table);
}

}  // namespace cunhuo::storefront
