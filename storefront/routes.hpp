// Routes that are not a module's own: health, readiness, metrics, the public network
// listing and the OpenAPI document.
#pragma once

#include "core/db/database.hpp"
#include "payments/provider.hpp"
#include "storefront/http.hpp"
#include "storefront/metrics.hpp"
#include "storefront/operations_gauges.hpp"
#include "storefront/route_table.hpp"
#include "storefront/server.hpp"

namespace cunhuo::storefront {

struct SystemContext {
  db::Database& db;
  Metrics& metrics;
  HttpServer& server;
  OperationsGauges& gauges;             // the outbox, ledger, payments and cold-chain gauges
  payments::PaymentProvider& provider;  // named on /readyz
};

// GET /healthz (the process answers), /readyz (the store answers, not draining; with the
// provider and the outbox backlog), /metrics (requests, then the operations gauges).
void add_system_routes(RouteTable& table, SystemContext context);
// GET /assets/*.js: the scripts of the server-rendered pages.
void add_asset_routes(RouteTable& table);
// GET /api/v1/network/nodes?region=CODE: the public list of service points and stations.
void add_network_routes(RouteTable& table, db::Database& db);
// GET /api/v1/openapi.json, generated from every operation declared in the table.
void add_openapi_route(RouteTable& table);

}  // namespace cunhuo::storefront
