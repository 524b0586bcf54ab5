#include "storefront/shop_pages.hpp"

#include <memory>
#include <ranges>

#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "storefront/page_words.hpp"
#include "storefront/ttl_cache.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
using web::Page;
using web::PageCall;
using web::View;

View campaign_view(const mk::CampaignSummary& c, web::Lang lang) {
  View v;
  v.set("id", std::to_string(c.id.value));
  v.set("name", c.name);
  v.set("kind", std::string(web::text("campaign_" + std::string(mk::to_string(c.kind)), lang)));
  v.set("ends", page_time(c.ends_at_ms));
  if (c.discount_bps > 0) v.set("discount", std::to_string(c.discount_bps / 100) + "%");
  return v;
}

// The categories change when a listing opens or closes; a minute's delay costs nothing and
// spares the home page a count over every listing on each visit.
using CategoryCache = TtlCache<std::vector<mk::CategoryCount>>;
inline constexpr std::int64_t kCategoriesKeptMs = 60 * 1000;

Result<web::ViewList> category_views(const ShopPageContext& ctx, CategoryCache& cache) {
  auto categories = cache.get("");
  if (!categories) {
    categories = CUNHUO_TRY(
        ctx.db.read([&](db::Session& s) { return mk::categories_on_sale(s, kHomeCategories); }));
    cache.put("", *categories);
  }
  web::ViewList out;
  for (const auto& c : *categories) {
    View v;
    v.set("name", c.category);
    v.set("url", "/search?category=" + web::percent_encode(c.category));
    out.push_back(v);
  }
  return out;
}

Result<Page> home(const ShopPageContext& ctx, CategoryCache& categories, const PageCall& call) {
  auto running = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return mk::running_campaigns(s, ctx.clock.now_ms(), "", std::nullopt, kHomeCampaigns);
  }));
  web::ViewList campaigns;
  for (const auto& c : running) campaigns.push_back(campaign_view(c, call.lang));
  View view;
  view.set("campaigns", campaigns);
  const web::ViewList kinds = CUNHUO_TRY(category_views(ctx, categories));
  view.set("has_categories", !kinds.empty());
  view.set("categories", kinds);
  return Page::show("home", "title_home", std::move(view));
}

// A campaign's page: what it sells and at what price, each listing linked so that the
// cart remembers the campaign it came through.
Result<View> campaign_page_view(const ShopPageContext& ctx, db::Session& s,
                                const mk::CampaignDetail& d, web::Lang lang) {
  View v = campaign_view(d.campaign, lang);
  web::ViewList items;
  const auto ids = d.listings | std::views::transform([](const auto& l) { return l.product; });
  const auto products =
      CUNHUO_TRY(mk::find_products(s, std::vector<mk::ProductId>(ids.begin(), ids.end())));
  for (const auto& p : products) {
    View item;
    item.set("id", std::to_string(p.id.value));
    item.set("title", p.title);
    item.set("unit", unit_text(p.unit, lang));
    item.set("origin", p.origin_name);
    auto terms = mk::campaign_terms(s, d.campaign.id, p, 1, ctx.clock.now_ms(), "campaign");
    item.set("price", yuan(terms.ok() ? terms->unit_price : p.price));
    if (terms.ok() && terms->unit_price < p.price) item.set("was", yuan(p.price));
    item.set("url",
             "/p/" + std::to_string(p.id.value) + "?campaign=" + v.get("id")->string_value());
    items.push_back(item);
  }
  v.set("items", items);
  return v;
}

Result<Page> campaign_page(const ShopPageContext& ctx, const PageCall& call) {
  const mk::CampaignId id{CUNHUO_TRY(call.path_id("campaign"))};
  auto found = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<View>> {
    auto d = CUNHUO_TRY(mk::campaign_detail(s, id));
    const std::int64_t now = ctx.clock.now_ms();
    if (!d || d->campaign.starts_at_ms > now || d->campaign.ends_at_ms <= now)
      return std::optional<View>();
    return std::optional<View>(CUNHUO_TRY(campaign_page_view(ctx, s, *d, call.lang)));
  }));
  if (!found) return make_error(ErrorKind::not_found, "not_found", "no such campaign running");
  const std::string title = found->get("name")->string_value();
  return Page::show("campaign", title, std::move(*found));
}

// The language is a preference, kept a year; the page asked from is shown again.
Result<Page> switch_language(const PageCall& call) {
  const bool to_english = call.lang == web::Lang::zh;
  Page page = Page::see_other(web::local_path(call.field("next")));
  page.set_cookies.push_back(web::set_cookie({.name = web::kLangCookie,
                                              .value = to_english ? "en" : "zh",
                                              .max_age_s = web::kLangCookieMaxAgeS,
                                              .http_only = false}));
  return page;
}

Result<Page> log_out(const ShopPageContext& ctx, const PageCall& call) {
  if (!call.session_token.empty()) CUNHUO_CHECK(ctx.auth.end_token(call.session_token));
  Page page = Page::see_other("/");
  page.set_cookies.push_back(
      web::clear_cookie(web::kSessionCookie, ctx.pages.options().secure_cookies));
  return page;
}

}  // namespace

void add_shop_pages(web::PageTable& pages, const ShopPageContext& ctx) {
  auto categories = std::make_shared<CategoryCache>(ctx.clock, kCategoriesKeptMs, 1);
  pages.add({.method = "GET",
             .pattern = "/",
             .access = anyone(),
             .summary = "The shop's home: campaigns now running and a search box",
             .handler = [ctx, categories](const PageCall& call) {
               return home(ctx, *categories, call);
             }});
  pages.add({.pattern = "/campaigns/:id",
             .access = anyone(),
             .summary = "A campaign running now: its listings at the campaign's prices",
             .handler = [ctx](const PageCall& call) { return campaign_page(ctx, call); }});
  pages.add({.method = "POST",
             .pattern = "/lang",
             .access = anyone(),
             .summary = "Switches the pages between Chinese and English",
             .handler = [](const PageCall& call) { return switch_language(call); }});
  pages.add({.method = "POST",
             .pattern = "/logout",
             .access = anyone(),
             .summary = "Ends this browser's session",
             .handler = [ctx](const PageCall& call) { return log_out(ctx, call); }});
}

}  // namespace cunhuo::storefront
