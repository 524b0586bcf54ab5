#include "storefront/farm_pages.hpp"

#include <charconv>

#include "core/assert.hpp"

#include "logistics/network.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/lots.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/work_queue.hpp"
#include "storefront/order_moves.hpp"
#include "storefront/page_words.hpp"
#include "storefront/trace_pages.hpp"
#include "storefront/web/qr.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
namespace lg = cunhuo::logistics;
using web::Lang;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

Error not_found() { return make_error(ErrorKind::not_found, "not_found", "no such order"); }

Result<mk::OrderId> order_in_path(const PageCall& call) {
  return mk::OrderId{CUNHUO_TRY(call.path_id("order"))};
}

// The households' own shops; a cooperative's orders are its manager's (on /coop).
Result<std::vector<mk::ShopId>> farm_shops(db::Session& s, const Account& farmer) {
  if (!farmer.household_id) return std::vector<mk::ShopId>();
  return mk::own_shops_of(s, mk::HouseholdId{*farmer.household_id});
}

Result<std::string> point_name(db::Session& s, const std::string& code) {
  auto node = CUNHUO_TRY(lg::find_node(s, code));
  return node ? node->name : code;
}

Result<ViewList> parcel_views(db::Session& s, mk::OrderId order, Lang lang) {
  ViewList out;
  for (const auto& p : CUNHUO_TRY(lg::shipments_of_order(s, order.value))) {
    View v;
    v.set("tracking", p.tracking_number);
    v.set("point", CUNHUO_TRY(point_name(s, p.origin_code)));
    v.set("lot", p.lot);
    v.set("temperature", std::string(web::text(
                             "temperature_" + std::string(to_string(p.temperature_class)), lang)));
    out.push_back(v);
  }
  return out;
}

Result<View> order_view(db::Session& s, const mk::OrderSummary& o, Lang lang) {
  View v;
  v.set("id", std::to_string(o.id.value));
  v.set("title", o.first_title);
  v.set("items", std::to_string(o.item_count));
  v.set("total", yuan(o.total));
  if (auto by = o.pack_by_ms()) v.set("pack_by", page_time(*by));
  v.set("parcels", CUNHUO_TRY(parcel_views(s, o.id, lang)));
  return v;
}

// A QR code of each lot the parcel carries, opening its trace page (/t/<code>).
Result<ViewList> trace_views(db::Session& s, const mk::Order& order, const std::string& lots,
                             const std::string& origin) {
  ViewList out;
  for (const auto& lot : lg::lots_in(lots))
    for (const auto& line : order.lines) {
      auto code = CUNHUO_TRY(mk::lot_code_of(s, line.product, lot));
      if (!code) continue;
      View v;
      v.set("lot", lot);
      v.set("qr", CUNHUO_TRY(web::qr_svg(origin + std::string(kTracePath) + *code, kTraceQrPx)));
      out.push_back(v);
      break;
    }
  return out;
}

// The household's own shop, where its listings go; an error when it has none.
Result<mk::Shop> own_shop(db::Session& s, const Account& farmer) {
  const auto shops = CUNHUO_TRY(farm_shops(s, farmer));
  if (shops.empty())
    return make_error(ErrorKind::conflict, "no_shop", "the household has no shop yet");
  auto shop = CUNHUO_TRY(mk::find_shop(s, shops.front()));
  CUNHUO_ASSERT(shop.has_value());
  return *shop;
}

Result<Page> desk_home(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  View view = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    View v;
    const auto shops = CUNHUO_TRY(desk.shops(s, call.caller()));
    v.set("has_shop", !shops.empty());
    ViewList orders;
    if (!shops.empty()) {
      mk::OrderListQuery q{.shops = shops, .to_pack = true, .limit = kFarmOrdersToPack};
      for (const auto& o : CUNHUO_TRY(mk::list_orders(s, q)).items)
        orders.push_back(CUNHUO_TRY(order_view(s, o, call.lang)));
    }
    v.set("orders", orders);
    return v;
  }));
  if (auto packed = call.request.query_param("packed")) view.set("packed", *packed);
  set_desk(view, desk, call.lang);
  return Page::show("farm", desk.home_title, std::move(view));
}

Result<Page> mark_packed(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  const auto id = CUNHUO_TRY(order_in_path(call));
  CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<mk::Order> {
    CUNHUO_TRY(desk.shops(tx, call.caller()));  // refuses an account this desk is not for
    return move_order_as(tx, call.caller(), id, OrderMove{.to = mk::OrderStatus::packed},
                         ctx.clock);
  }));
  return Page::see_other(desk.base + "?packed=" + std::to_string(id.value));
}

Result<Page> label(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  const auto id = CUNHUO_TRY(order_in_path(call));
  View view = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    auto order = CUNHUO_TRY(mk::find_order(s, id));
    const auto shops = CUNHUO_TRY(desk.shops(s, call.caller()));
    if (!order || std::find(shops.begin(), shops.end(), order->shop) == shops.end())
      return not_found();
    View v;
    v.set("id", std::to_string(id.value));
    ViewList parcels = CUNHUO_TRY(parcel_views(s, id, call.lang));
    for (auto& p : parcels) {
      const std::string tracking = p.get("tracking")->string_value();
      p.set("qr", CUNHUO_TRY(web::qr_svg(tracking, kLabelQrPx)));
      p.set("traces", CUNHUO_TRY(trace_views(s, *order, p.get("lot")->string_value(),
                                             page_origin(call, ctx.https))));
    }
    v.set("parcels", parcels);
    set_desk(v, desk, call.lang);
    return v;
  }));
  return Page::show("label", "title_label", std::move(view));
}

}  // namespace

void set_desk(View& view, const Desk& desk, Lang lang) {
  view.set("base", desk.base);
  view.set("desk_title", std::string(web::text(desk.home_title, lang)));
  view.set("coop", desk.shares);
}

Desk farm_desk() {
  return Desk{.base = "/farm",
              .role = Role::farmer,
              .home_title = "title_farm",
              .shops = farm_shops,
              .listing_shop = own_shop};
}

void add_desk_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk,
                    std::span<const DeskPage> table) {
  for (const auto& page : table) {
    auto handler = page.handler;
    pages.add({.method = std::string(page.method),
               .pattern = desk.base + std::string(page.path),
               .access = only({desk.role}),
               .summary = std::string(page.summary),
               .handler = [ctx, desk, handler](const PageCall& call) {
                 return handler(ctx, desk, call);
               }});
  }
}

void add_packing_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk) {
  static constexpr DeskPage kPackingPages[] = {
      {"GET", "", "Home: the orders to pack today, by deadline", desk_home},
      {"POST", "/orders/:id/packed", "Mark an order packed", mark_packed},
      {"GET", "/orders/:id/label",
       "An order's parcel labels: tracking number, QR code, lot, temperature", label},
  };
  add_desk_pages(pages, ctx, desk, kPackingPages);
}

void add_farm_pages(web::PageTable& pages, const FarmPageContext& ctx) {
  const Desk desk = farm_desk();
  add_packing_pages(pages, ctx, desk);
  add_listing_pages(pages, ctx, desk);
}

}  // namespace cunhuo::storefront
