#include "storefront/trace_pages.hpp"

#include <algorithm>

#include "logistics/network.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/lots.hpp"
#include "marketplace/registry.hpp"
#include "marketplace/shops.hpp"
#include "core/assert.hpp"
#include "payments/settlement.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
namespace lg = cunhuo::logistics;
namespace pay = cunhuo::payments;
using web::Lang;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

constexpr std::size_t kDateChars = 10;  // "2026-12-07" of page_time's "2026-12-07 14:00"

Error no_such_lot() { return make_error(ErrorKind::not_found, "not_found", "no such lot"); }

// A shipment's lot field lists its products' lots, comma-separated.
bool carries_lot(const lg::Shipment& parcel, std::string_view lot) {
  const auto lots = lg::lots_in(parcel.lot);
  return std::find(lots.begin(), lots.end(), lot) != lots.end();
}

std::string minutes_text(std::int64_t ms, Lang lang) {
  const std::int64_t minutes = ms / 60'000;
  if (minutes < 60) return std::to_string(minutes) + std::string(web::text("trace_min", lang));
  return std::to_string(minutes / 60) + std::string(web::text("trace_hours", lang)) +
         std::to_string(minutes % 60) + std::string(web::text("trace_min", lang));
}

Result<std::string> node_name(db::Session& s, const std::string& code) {
  auto node = CUNHUO_TRY(lg::find_node(s, code));
  return node ? node->name : code;
}

// A parcel's journey: from its first scan to its last (or now, while it travels).
std::int64_t journey_ms(const lg::Shipment& p, std::int64_t now_ms) {
  if (p.scans.empty()) return 0;
  const auto first = p.scans.front().event_time_ms;
  const bool over = p.status == "delivered" || p.status == "spoiled";
  const auto last = over ? p.scans.back().event_time_ms : now_ms;
  return std::max<std::int64_t>(0, last - first);
}

Result<View> parcel_view(db::Session& s, const lg::Shipment& p, std::int64_t now_ms, Lang lang) {
  const auto chain = CUNHUO_TRY(lg::cold_chain_of(s, p.id));
  const auto journey = journey_ms(p, now_ms);
  const bool cold = p.temperature_class != TemperatureClass::ambient;
  View v;
  v.set("from", CUNHUO_TRY(node_name(s, p.origin_code)));
  v.set("to", CUNHUO_TRY(node_name(s, p.destination_code)));
  v.set("temperature", temperature_text(p.temperature_class, lang));
  v.set("status", std::string(web::text("trace_status_" + p.status, lang)));
  if (!p.scans.empty()) v.set("left", page_time(p.scans.front().event_time_ms));
  v.set("cold", cold);
  v.set("in_range", minutes_text(std::max<std::int64_t>(0, journey - chain.out_of_range_ms), lang));
  v.set("out_of_range", minutes_text(chain.out_of_range_ms, lang));
  ViewList excursions;
  for (const auto& e : chain.excursions) {
    View x;
    x.set("at", page_time(e.started_at_ms));
    x.set("where", CUNHUO_TRY(node_name(s, e.node_code)));
    x.set("kind", std::string(web::text("trace_excursion_" + e.kind, lang)));
    x.set("decision", std::string(web::text("trace_decision_" + e.status, lang)));
    excursions.push_back(x);
  }
  v.set("excursions", excursions);
  return v;
}

// One sale of the lot's listing: what the buyer paid for it and what reached households.
struct Sale {
  std::int64_t settled_at_ms = 0, gross_fen = 0, net_fen = 0;
  int households = 0;
};

std::optional<Sale> sale_of(const std::vector<pay::SettlementLine>& lines, mk::ProductId product) {
  Sale sale;
  for (const auto& l : lines) {
    if (l.product_id != product.value) continue;
    sale.settled_at_ms = l.settled_at_ms;
    sale.gross_fen += l.gross.fen();
    sale.net_fen += l.net.fen();
    sale.households += 1;
  }
  if (sale.households == 0) return std::nullopt;
  return sale;
}

View sale_view(const Sale& sale) {
  View v;
  v.set("date", page_time(sale.settled_at_ms).substr(0, kDateChars));
  v.set("gross", yuan(Money::fen(sale.gross_fen)));
  v.set("net", yuan(Money::fen(sale.net_fen)));
  v.set("households", std::to_string(sale.households));
  const auto pct = sale.gross_fen > 0 ? sale.net_fen * 100 / sale.gross_fen : 0;
  v.set("percent", std::to_string(pct) + "%");
  return v;
}

Result<View> origin_view(db::Session& s, const mk::LotCode& lot, Lang lang) {
  auto product = CUNHUO_TRY(mk::find_product(s, lot.product));
  if (!product) return no_such_lot();
  auto shop = CUNHUO_TRY(mk::find_shop(s, product->shop));
  CUNHUO_ASSERT(shop.has_value());  // a listing's shop is never deleted
  View v;
  v.set("code", lot.code);
  v.set("lot", lot.lot);
  v.set("product_title", product->title);  // "product" is a template's name
  v.set("product_id", std::to_string(product->id.value));
  v.set("harvest_date", lot.harvest_date);
  v.set("origin", product->origin_name);
  v.set("origin_code", product->origin_code);
  v.set("origin_place", CUNHUO_TRY(place_text(s, product->origin_code, lang)));
  v.set("shop_name", shop->name);
  v.set("shop_id", std::to_string(shop->id.value));
  v.set("shop_kind",
        std::string(web::text("trace_shop_" + std::string(to_string(shop->kind)), lang)));
  if (auto cert = CUNHUO_TRY(mk::certificate_of(s, lot.product))) {
    View c;
    c.set("number", cert->certificate_no);
    c.set("office", cert->issuing_office);
    c.set("date", cert->issued_date);
    v.set("certificate", c);
  }
  return v;
}

Result<Page> trace(const TracePageContext& ctx, const PageCall& call) {
  const std::string& code = call.request.params.at("code");
  const auto now = ctx.clock.now_ms();
  View view = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    auto lot = CUNHUO_TRY(mk::find_lot(s, code));
    if (!lot) return no_such_lot();
    View v = CUNHUO_TRY(origin_view(s, *lot, call.lang));
    ViewList parcels, sales;
    for (auto order : CUNHUO_TRY(mk::orders_of_product(s, lot->product, mk::kMaxTracedOrders))) {
      bool of_lot = false;
      for (const auto& p : CUNHUO_TRY(lg::shipments_of_order(s, order))) {
        if (!carries_lot(p, lot->lot)) continue;
        of_lot = true;
        parcels.push_back(CUNHUO_TRY(parcel_view(s, p, now, call.lang)));
      }
      if (!of_lot) continue;
      if (auto sale = sale_of(CUNHUO_TRY(pay::settlement_lines_of_order(s, order)), lot->product))
        sales.push_back(sale_view(*sale));
    }
    v.set("parcels", parcels);
    v.set("has_sales", !sales.empty());
    v.set("sales", sales);
    return v;
  }));
  return Page::show("trace", "title_trace", std::move(view));
}

}  // namespace

std::string page_origin(const web::PageCall& call, bool https) {
  return std::string(https ? "https://" : "http://") +
         call.request.header("host").value_or("localhost");
}

void add_trace_pages(web::PageTable& pages, const TracePageContext& ctx) {
  pages.add({.pattern = std::string(kTracePath) + ":code",
             .access = anyone(),
             .summary = "A lot's trace, as its QR code opens it: origin, certificate, cold "
                        "chain, what reached the households",
             .handler = [ctx](const PageCall& call) { return trace(ctx, call); }});
}

}  // namespace cunhuo::storefront
