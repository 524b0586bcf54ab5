#include "storefront/catalog_pages.hpp"

#include <charconv>

#include "core/assert.hpp"
#include "core/privacy.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/lots.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/registry.hpp"
#include "marketplace/shops.hpp"
#include "marketplace/village_profiles.hpp"
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

std::optional<std::int64_t> id_of(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) return std::nullopt;
  return id;
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

// The first `bytes` of a text, in whole characters.
std::string cut_text(std::string text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t at = bytes;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  return text.substr(0, at);
}

std::string cut_query(std::string q) { return cut_text(std::move(q), kMaxSearchBytes); }

// The village's story and photo as its page shows them, and a product's page the start of.
Result<std::optional<View>> village_story_view(db::Session& s, const std::string& code,
                                               std::size_t story_bytes) {
  auto profile = CUNHUO_TRY(mk::find_village_profile(s, code));
  if (!profile) return std::optional<View>();
  View v;
  const std::string story = cut_text(profile->story, story_bytes);
  v.set("text", story.size() < profile->story.size() ? story + "…" : story);
  if (profile->photo) {
    const std::string url = "/api/v1/photos/" + std::to_string(profile->photo->value);
    v.set("photo", url);
    v.set("thumbnail", url + "/thumbnail");
  }
  return std::optional<View>(v);
}

std::optional<std::string> query_text(const PageCall& call, const char* name) {
  auto typed = call.request.query_param(name);
  if (!typed || typed->empty()) return std::nullopt;
  return cut_query(std::string(*typed));
}

// The search's own address with its filters, for the next page's link.
std::string search_url(const mk::ProductQuery& q) {
  std::string url = "/search?q=" + web::percent_encode(q.text);
  if (q.category) url += "&category=" + web::percent_encode(*q.category);
  if (q.campaign_id) url += "&campaign=" + std::to_string(*q.campaign_id);
  return url;
}

// Words, a category and a campaign narrow the search; a filter that is no number (a
// campaign) finds nothing rather than refusing, as a mistyped word would.
Result<Page> search(const CatalogPageContext& ctx, const PageCall& call) {
  mk::ProductQuery q{.text = query_text(call, "q").value_or(""),
                     .category = query_text(call, "category"),
                     .cursor = call.request.query_param("cursor").value_or(""),
                     .limit = kSearchPageSize};
  bool findable = true;
  if (auto campaign = query_text(call, "campaign")) {
    auto id = id_of(*campaign);
    findable = id.has_value();
    q.campaign_id = id;
  }
  Result<mk::ProductPage> found = mk::ProductPage{};
  if (findable) found = ctx.db.read([&](db::Session& s) { return mk::search_products(s, q); });
  if (!found.ok() && found.error().kind != ErrorKind::invalid) return found.error();
  View view;
  view.set("q", q.text);
  if (q.category) view.set("category", *q.category);
  ViewList items;
  if (found.ok()) {
    for (const auto& p : found->items) items.push_back(card_view(p, call.lang));
    if (!found->next_cursor.empty())
      view.set("next", search_url(q) + "&cursor=" + web::percent_encode(found->next_cursor));
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

// `alleviation`: sold in a poverty-alleviation campaign, where the platform takes no fee.
Result<View> split_view(const CatalogPageContext& ctx, Money price, bool cooperative,
                        bool alleviation) {
  const auto split =
      CUNHUO_TRY(payments::split_of_price(price, cooperative, alleviation, ctx.fees));
  View v;
  v.set("price", yuan(price));
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
  if (auto story = CUNHUO_TRY(village_story_view(s, shop->village_code, kProductStoryBytes)))
    v.set("village_story", *story);
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
  v.set("split",
        CUNHUO_TRY(split_view(ctx, p.price, shop->kind == mk::ShopKind::cooperative, false)));
  return v;
}

// The product as a campaign sells it, when the buyer came through the campaign's page and
// it still does: its price there, and the campaign the cart will remember.
Result<std::optional<View>> campaign_offer(const CatalogPageContext& ctx, db::Session& s,
                                           const mk::Product& p,
                                           std::optional<std::int64_t> campaign,
                                           std::int64_t now_ms) {
  if (!campaign) return std::optional<View>();
  const mk::CampaignId id{*campaign};
  auto header = CUNHUO_TRY(mk::find_campaign(s, id));
  if (!header) return std::optional<View>();
  auto terms = mk::campaign_terms(s, id, p, 1, now_ms, "campaign");
  if (!terms.ok()) return std::optional<View>();  // over, or not selling it: the own price
  View v;
  v.set("id", std::to_string(id.value));
  v.set("name", header->name);
  v.set("price", yuan(terms->unit_price));
  v.set("was", yuan(p.price));
  const auto shop = CUNHUO_TRY(mk::find_shop(s, p.shop));
  const auto kind = CUNHUO_TRY(mk::campaign_kind(s, id));
  v.set("split", CUNHUO_TRY(split_view(ctx, terms->unit_price,
                                       shop && shop->kind == mk::ShopKind::cooperative,
                                       kind && mk::is_alleviation_campaign(*kind))));
  return std::optional<View>(v);
}

Result<Page> product(const CatalogPageContext& ctx, const PageCall& call) {
  const mk::ProductId id{CUNHUO_TRY(call.path_id("product"))};
  const auto campaign = id_of(call.request.query_param("campaign").value_or(""));
  auto found = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<View>> {
    auto p = CUNHUO_TRY(mk::find_product(s, id));
    if (!p || !p->active) return std::optional<View>();
    View v = CUNHUO_TRY(product_view(ctx, s, *p, call.lang));
    if (auto offer = CUNHUO_TRY(campaign_offer(ctx, s, *p, campaign, ctx.clock.now_ms())))
      v.set("offer", *offer);
    return std::optional<View>(std::move(v));
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
    if (auto story = CUNHUO_TRY(village_story_view(s, code, mk::kMaxVillageStoryBytes)))
      view.set("village_story", *story);
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
