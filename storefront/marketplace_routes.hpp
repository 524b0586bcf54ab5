// The marketplace over HTTP: listings, catalog search, campaigns, checkout and orders.
#pragma once

#include <chrono>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/json.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "storefront/auth.hpp"
#include "storefront/work_pool.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"
#include "storefront/idempotency.hpp"

namespace cunhuo::storefront {

struct MarketplaceContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  Idempotency& idempotency;
  std::chrono::milliseconds payment_window;
  std::string photo_folder;  // where listing photos are kept
  std::int64_t max_upload_body = 8 << 20;
  WorkPool* work_pool = nullptr;  // decodes photos off the network threads
};

void add_marketplace_routes(RouteTable& table, MarketplaceContext context);

// What assisted selling (proxy_selling.hpp) shares with these routes: a listing as
// POST /api/v1/products takes it and answers it, a cart as POST /api/v1/orders takes it
// and the checkout it answers.
schema::Schema new_listing_schema();
Result<marketplace::ListingFields> read_listing(const FieldReader& listing);
schema::Schema product_answer_schema();
Result<Response> product_answer(db::Session& s, const marketplace::Product& product, int status);
schema::Schema cart_schema();
Result<marketplace::CheckoutRequest> read_cart(const FieldReader& cart, std::int64_t buyer);
schema::Schema checkout_answer_schema();
Response checkout_answer(const marketplace::Checkout& checkout);  // 201

}  // namespace cunhuo::storefront
