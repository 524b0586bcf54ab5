#include "storefront/catalog_pages.hpp"

#include <charconv>

#include "core/assert.hpp"
#include "core/privacy.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/lots.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/registry.hpp"
#include "marketplace/shops.hpp"
#include "storefront/page_words.hpp"
#include "storefront/trace_pages.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
using web::Lang;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

Error not_found(const char* what) {
  return make_error(ErrorKind::not_found, "not_found", std::string("no such ") + what);
}

View card_view(const mk::Product& p, Lang lang) {
  View v;
  v.set("id", std::to_string(p.id.value));
  v.set("title", p.title);
  v.set("price", yuan(p.price));
  v.set("unit", unit_text(p.unit, lang));
  v.set("origin", p.origin_name);
  return v;
}

// --- /search ---------------------------------------------------------------------------

std::string cut_query(std::string q) {
  if (q.size() <= kMaxSearchBytes) return q;
  std::size_t at = kMaxSearchBytes;
  while (at > 0 && (static_cast<unsigned char>(q[at]) & 0xC0) == 0x80) --at;  // whole characters
  return q.substr(0, at);
}

Result<Page> search(const CatalogPageContext& ctx, const PageCall& call) {
  mk::ProductQuery q{.text = cut_query(call.request.query_param("q").value_or("")),
                     .cursor = call.request.query_param("cursor").value_or(""),
                     .limit = kSearchPageSize};
  auto found = ctx.db.read([&](db::Session& s) { return mk::search_products(s, q); });
  if (!found.ok() && found.error().kind != ErrorKind::invalid) return found.error();
  View view;
  view.set("q", q.text);
  ViewList items;
  if (found.ok()) {
    for (const auto& p : found->items) items.push_back(card_view(p, call.lang));
    if (!found->next_cursor.empty())
      view.set("next", "/search?q=" + web::percent_encode(q.text) +
                           "&cursor=" + web::percent_encode(found->next_cursor));
  }
  view.set("items", items);
  return Page::show("search", "title_search", std::move(view));
}

// --- /p/{id} ---------------------------------------------------------------------------

Result<ViewList> producer_views(db::Session& s, const mk::Product& p) {
  ViewList out;
  for (const auto& share : p.producers) {
    auto h = CUNHUO_TRY(mk::find_household(s, share.household));
    if (!h) continue;
    View v;
    v.set("name", mask_name(h->head_name));
    v.set("share", std::to_string(share.share_bps / 100) + "%");
    out.push_back(v);
  }
  return out;
}

Result<View> split_view(const CatalogPageContext& ctx, const mk::Product& p, bool cooperative) {
  const auto split = CUNHUO_TRY(payments::split_of_price(p.price, cooperative, false, ctx.fees));
  View v;
  v.set("households", yuan(split.households));
  v.set("platform", yuan(split.platform));
  v.set("logistics", yuan(split.logistics));
  if (cooperative) v.set("commission", yuan(split.commission));
  return v;
}

Result<View> product_view(const CatalogPageContext& ctx, db::Session& s, const mk::Product& p,
                          Lang lang) {
  const auto shop = CUNHUO_TRY(mk::find_shop(s, p.shop));
  CUNHUO_ASSERT(shop.has_value());  // a product belongs to a shop that exists
  View v = card_view(p, lang);
  v.set("stock", std::to_string(p.stock));
  v.set("description", p.description);
  v.set("harvest_date", p.harvest_date);
  v.set("lot", p.lot);
  if (!p.lot.empty())
    if (auto code = CUNHUO_TRY(mk::lot_code_of(s, p.id, p.lot))) {
      View trace;
      trace.set("url", std::string(kTracePath) + *code);
      v.set("lot_trace", trace);  // not "trace": that is a template
    }
  v.set("temperature", temperature_text(p.temperature, lang));
  v.set("shop_id", std::to_string(shop->id.value));
  v.set("shop_name", shop->name);
  v.set("village_code", shop->village_code);
  v.set("village_place", CUNHUO_TRY(place_text(s, shop->village_code, lang)));
  if (auto c = CUNHUO_TRY(mk::certificate_of(s, p.id))) {
    View cert;
    cert.set("number", c->certificate_no);
    cert.set("office", c->issuing_office);
    cert.set("date", c->issued_date);
    v.set("certificate", cert);
  }
  ViewList photos;
  for (const auto& photo : CUNHUO_TRY(mk::photos_of(s, p.id))) {
    View ph;
    ph.set("url", "/api/v1/photos/" + std::to_string(photo.id.value));
    ph.set("thumbnail", "/api/v1/photos/" + std::to_string(photo.id.value) + "/thumbnail");
    photos.push_back(ph);
  }
  v.set("photos", photos);
  v.set("producers", CUNHUO_TRY(producer_views(s, p)));
  v.set("split", CUNHUO_TRY(split_view(ctx, p, shop->kind == mk::ShopKind::cooperative)));
  return v;
}

Result<Page> product(const CatalogPageContext& ctx, const PageCall& call) {
  const mk::ProductId id{CUNHUO_TRY(call.path_id("product"))};
  auto found = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<View>> {
    auto p = CUNHUO_TRY(mk::find_product(s, id));
    if (!p || !p->active) return std::optional<View>();
    return std::optional<View>(CUNHUO_TRY(product_view(ctx, s, *p, call.lang)));
  }));
  if (!found) return not_found("product");
  const std::string title = found->get("title")->string_value();
  return Page::show("product", title, std::move(*found));
}

// --- /shop/{id} ------------------------------------------------------------------------

Result<View> shop_view(db::Session& s, const mk::Shop& shop, Lang lang) {
  View v;
  v.set("name", shop.name);
  v.set("cooperative", shop.kind == mk::ShopKind::cooperative);
  v.set("village_code", shop.village_code);
  v.set("village_place", CUNHUO_TRY(place_text(s, shop.village_code, lang)));
  v.set("story", shop.story);
  ViewList members;
  for (auto member : shop.members)
    if (auto h = CUNHUO_TRY(mk::find_household(s, member))) {
      View m;
      m.set("name", mask_name(h->head_name));
      members.push_back(m);
    }
  v.set("members", members);
  const auto listings = CUNHUO_TRY(mk::listings_on_sale(s, shop.id));
  std::vector<mk::ProductId> ids;
  for (const auto& l : listings) ids.push_back(mk::ProductId{l.product_id});
  const auto certificates = CUNHUO_TRY(mk::certificates_of(s, ids));
  ViewList items;
  for (const auto& l : listings) {
    View item;
    item.set("id", std::to_string(l.product_id));
    item.set("title", l.title);
    item.set("price", yuan(l.price));
    item.set("unit", unit_text(l.unit, lang));
    item.set("certified", certificates.contains(l.product_id));
    items.push_back(item);
  }
  v.set("items", items);
  return v;
}

Result<Page> shop(const CatalogPageContext& ctx, const PageCall& call) {
  const mk::ShopId id{CUNHUO_TRY(call.path_id("shop"))};
  auto found = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<View>> {
    auto shop = CUNHUO_TRY(mk::find_shop(s, id));
    if (!shop || shop->status != mk::ShopStatus::active) return std::optional<View>();
    return std::optional<View>(CUNHUO_TRY(shop_view(s, *shop, call.lang)));
  }));
  if (!found) return not_found("shop");
  return Page::show("shop", "title_shop", std::move(*found));
}

// --- /village/{code} -------------------------------------------------------------------

Result<Page> village(const CatalogPageContext& ctx, const PageCall& call) {
  const std::string code = call.request.params.at("code");
  auto found = ctx.db.read([&](db::Session& s) -> Result<std::optional<View>> {
    const auto v = CUNHUO_TRY(mk::village_shops(s, code));
    if (v.shops == 0) return std::optional<View>();
    const auto shops = CUNHUO_TRY(mk::list_shops(s, mk::ShopQuery{.region_code = code}));
    View view;
    view.set("code", code);
    view.set("place", CUNHUO_TRY(place_text(s, code, call.lang)));
    view.set("taobao_village", v.taobao_village);
    view.set("active_shops", std::to_string(v.active_shops));
    ViewList list;
    for (const auto& shop : shops) {
      View item;
      item.set("id", std::to_string(shop.id.value));
      item.set("name", shop.name);
      item.set("cooperative", shop.kind == mk::ShopKind::cooperative);
      list.push_back(item);
    }
    view.set("shops", list);
    return std::optional<View>(view);
  });
  // A code that is no village's is a page that does not exist, like a village with no shop.
  if (!found.ok() && found.error().kind == ErrorKind::invalid) return not_found("village");
  if (!found.ok()) return found.error();
  if (!*found) return not_found("village");
  return Page::show("village", "title_village", std::move(**found));
}

}  // namespace

void add_catalog_pages(web::PageTable& pages, const CatalogPageContext& ctx) {
  pages.add({.pattern = "/search",
             .access = anyone(),
             .summary = "Products found by words, in Chinese or other",
             .handler = [ctx](const PageCall& call) { return search(ctx, call); }});
  pages.add({.pattern = "/p/:id",
             .access = anyone(),
             .summary = "A product: who grew it, where, its certificate and where the money goes",
             .handler = [ctx](const PageCall& call) { return product(ctx, call); }});
  pages.add({.pattern = "/shop/:id",
             .access = anyone(),
             .summary = "A shop: its village, story, members (masked) and listings",
             .handler = [ctx](const PageCall& call) { return shop(ctx, call); }});
  pages.add({.pattern = "/village/:code",
             .access = anyone(),
             .summary = "A village's shops, and whether it is a Taobao village",
             .handler = [ctx](const PageCall& call) { return village(ctx, call); }});
}

}  // namespace cunhuo::storefront
