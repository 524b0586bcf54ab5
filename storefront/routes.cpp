#include "storefront/routes.hpp"

#include <memory>

#include "core/json.hpp"
#include "logistics/network.hpp"

namespace cunhuo::storefront {
namespace {


}  // namespace

void add_system_routes(Router& router, SystemContext ctx) {
  router.add(Route{"GET", "/healthz", [](const Request&) { return Response::json(200, "{\"status\":\"ok\"}"); }, -1,
                   false, "The process is up"});
  router.add(Route{"GET", "/readyz",
                   [ctx](const Request&) {
                     if (ctx.server.draining()) return error_response(503, "shutting_down", "server is shutting down");
                     if (auto st = ctx.db.ping(); !st.ok()) {
                       // Not ready while the store is full, so a proxy drains this process.
                       if (st.error().code == db::kStorageFull) return error_response(st.error());
                       return error_response(503, "store_unavailable", "the store does not answer");
                     }
                     JsonWriter w;
                     w.begin_object().field("status", "ready");
                     w.field("store", ctx.db.dialect() == db::Dialect::sqlite ? "sqlite" : "mysql").end_object();
                     return Response::json(200, w.take());
                   },
                   -1, false, "The store is reachable and the server takes traffic"});
  router.add(Route{"GET", "/metrics",
                   [ctx](const Request&) {
                     return Response::text(200, ctx.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
                   },
                   -1, false, "Prometheus metrics"});
}

void add_network_routes(Router& router, db::Database& db) {
  router.add(Route{"GET", "/api/v1/network/nodes",
                   [&db](const Request& req) {
                     auto region = req.query_param("region").value_or("");
                     if (region.empty()) return error_response(400, "missing_field", "give ?region=CODE", "region");
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
                       w.field("region_code", n.region_code).field("cold_capacity_crates", n.cold_capacity_crates);
                       w.end_object();
                     }
                     w.end_array().end_object();
                     return Response::json(200, w.take());
                   },
                   -1, false, "Service points, stations, cold stores and hubs in a region"});
}

void add_openapi_route(RouteTable& table) {
  // Declared last, and filled in right after: the document describes itself too.
  auto document = std::make_shared<std::string>();
  table.add({.method = "GET",
             .pattern = "/api/v1/openapi.json",
             .access = anyone(),
             .summary = "This document: every operation with its parameters, schemas, roles and error codes",
             .handler = [document](const Call&) -> Result<Response> { return Response::json(200, *document); }});
  *document = openapi_document(table);
}

}  // namespace cunhuo::storefront
