// The consumer's pages, from cart to receipt: a cart across shops kept under the visitor's
// cookie (and their account once they log in), one checkout with a shipping address, paying
// through the provider, the orders with their status timeline and parcels, public tracking
// without personal data, and confirming receipt. A buyer sees only their own orders.
#pragma once

#include <chrono>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/provider.hpp"
#include "storefront/cursor.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kBuyerOrdersPerPage = 20;
inline constexpr std::size_t kMaxTrackingNumberBytes = 20;
inline constexpr std::size_t kMaxRefundFormBytes = 16 * 1024;  // the claim without its photo

struct BuyerPageContext {
  db::Database& db;
  const Clock& clock;
  Idempotency& idempotency;  // a checkout or payment sent twice happens once
  payments::PaymentProvider& provider;
  std::chrono::milliseconds payment_window;
  std::string photo_folder;  // where the photo of spoiled goods is kept, beside listing photos
  std::int64_t max_upload_body = 0;
  const CursorSeal& cursors;  // the next page of the buyer's orders
};

void add_buyer_pages(web::PageTable& pages, const BuyerPageContext& ctx);

}  // namespace cunhuo::storefront
