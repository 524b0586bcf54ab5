#include "storefront/shop_pages.hpp"

#include "marketplace/campaigns.hpp"
#include "storefront/page_words.hpp"

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

Result<Page> home(const ShopPageContext& ctx, const PageCall& call) {
  auto running = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return mk::running_campaigns(s, ctx.clock.now_ms(), "", std::nullopt, kHomeCampaigns);
  }));
  web::ViewList campaigns;
  for (const auto& c : running) campaigns.push_back(campaign_view(c, call.lang));
  View view;
  view.set("campaigns", campaigns);
  return Page::show("home", "title_home", std::move(view));
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
  pages.add({.method = "GET",
             .pattern = "/",
             .access = anyone(),
             .summary = "The shop's home: campaigns now running and a search box",
             .handler = [ctx](const PageCall& call) { return home(ctx, call); }});
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
