#include "storefront/coop_pages.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/privacy.hpp"
#include "marketplace/order_lists.hpp"
#include "payments/settlement.hpp"
#include "payments/statements.hpp"
#include "storefront/membership_moves.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;
using web::Page, web::PageCall, web::View, web::ViewList;

constexpr std::string_view kMembersPath = "/coop/members";

Desk coop_desk() {
  return Desk{.base = "/coop",
              .role = Role::shop_manager,
              .home_title = "title_coop",
              .shops = [](db::Session& s, const Account& a) -> Result<std::vector<mk::ShopId>> {
                return std::vector<mk::ShopId>{CUNHUO_TRY(cooperative_of(s, a)).id};
              },
              .listing_shop = cooperative_of,
              .shares = true};
}

// The member households' names as the cooperative's pages show them: masked.
Result<std::map<std::int64_t, std::string>> member_names(db::Session& s, const mk::Shop& shop) {
  std::map<std::int64_t, std::string> out;
  for (auto member : shop.members) {
    auto h = CUNHUO_TRY(mk::find_household(s, member));
    out[member.value] = h ? mask_name(h->head_name) : std::to_string(member.value);
  }
  return out;
}

std::string name_in(const std::map<std::int64_t, std::string>& names, std::int64_t household) {
  auto found = names.find(household);
  return found != names.end() ? found->second : "#" + std::to_string(household);
}

// --- /coop/members -------------------------------------------------------------------------

Result<ViewList> member_views(db::Session& s, const mk::Shop& shop) {
  ViewList out;
  for (auto member : shop.members) {
    auto h = CUNHUO_TRY(mk::find_household(s, member));
    if (!h) continue;
    View v;
    v.set("name", mask_name(h->head_name));
    v.set("village", h->village_code);
    v.set("people", std::to_string(h->member_count));
    out.push_back(v);
  }
  return out;
}

// Requests of households to join, which the shop answers; its own invitations, which wait
// for the household.
Result<View> request_views(db::Session& s, const mk::Shop& shop) {
  ViewList asks, invites;
  for (const auto& r : CUNHUO_TRY(mk::pending_requests_of(s, shop.id))) {
    auto h = CUNHUO_TRY(mk::find_household(s, r.household));
    View v;
    v.set("id", std::to_string(r.id.value));
    v.set("name", h ? mask_name(h->head_name) : std::to_string(r.household.value));
    v.set("village", h ? h->village_code : std::string());
    (r.direction == mk::RequestDirection::ask ? asks : invites).push_back(v);
  }
  View v;
  v.set("asks", asks);
  v.set("has_invites", !invites.empty());
  v.set("invites", invites);
  return v;
}

Result<Page> members(const CoopPageContext& ctx, const PageCall& call, const std::string& error,
                     const std::string& typed) {
  View v = CUNHUO_TRY(ctx.farm.db.read([&](db::Session& s) -> Result<View> {
    const auto shop = CUNHUO_TRY(cooperative_of(s, call.caller()));
    View out = CUNHUO_TRY(request_views(s, shop));
    out.set("members", CUNHUO_TRY(member_views(s, shop)));
    out.set("shop", shop.name);
    return out;
  }));
  if (auto done = call.request.query_param("done")) v.set("done", *done);
  if (!error.empty()) v.set("error", error);
  v.set("household_id", typed);
  return Page::show("coop_members", "title_coop_members", std::move(v));
}

Result<Page> invite(const CoopPageContext& ctx, const PageCall& call) {
  const std::string typed = call.field("household_id");
  std::int64_t household = 0;
  auto [end, ec] = std::from_chars(typed.data(), typed.data() + typed.size(), household);
  if (ec != std::errc() || end != typed.data() + typed.size() || household < 1)
    return make_error(ErrorKind::invalid, "unknown_household", "a household's number",
                      "household_id");
  CUNHUO_TRY(ctx.farm.db.write([&](db::Session& tx) -> Result<mk::MembershipRequest> {
    const auto shop = CUNHUO_TRY(cooperative_of(tx, call.caller()));
    return ask_or_invite_as(tx, call.caller(), shop.id, household, ctx.farm.clock);
  }));
  return Page::see_other(std::string(kMembersPath) + "?done=invited");
}

// Accepts or declines a household's request; another shop's request is not found.
Result<Page> answer(const CoopPageContext& ctx, const PageCall& call) {
  const mk::MembershipRequestId id{CUNHUO_TRY(call.path_id("request"))};
  const bool accept = call.field("accept") == "yes";
  const auto answered =
      CUNHUO_TRY(ctx.farm.db.write([&](db::Session& tx) -> Result<mk::MembershipRequest> {
        CUNHUO_TRY(cooperative_of(tx, call.caller()));
        return answer_request_as(tx, call.caller(), id, accept, ctx.farm.clock);
      }));
  return Page::see_other(std::string(kMembersPath) +
                         "?done=" + std::string(mk::to_string(answered.status)));
}

// --- /coop/orders --------------------------------------------------------------------------

// The members whose goods an order holds, by the shares its lines snapshotted.
std::string makers_of(const mk::Order& order, const std::map<std::int64_t, std::string>& names) {
  std::vector<std::int64_t> seen;
  std::string out;
  for (const auto& line : order.lines)
    for (const auto& share : line.producers) {
      if (std::find(seen.begin(), seen.end(), share.household.value) != seen.end()) continue;
      seen.push_back(share.household.value);
      out += (out.empty() ? "" : "、") + name_in(names, share.household.value);
    }
  return out;
}

Result<Page> orders(const CoopPageContext& ctx, const PageCall& call) {
  const std::string list = "pages/coop-orders:" + std::to_string(call.caller().id);
  const auto asked =
      CUNHUO_TRY(read_page(std::to_string(kCoopOrdersPerPage), call.request.query_param("cursor"),
                           ctx.cursors, list, mk::kOrderPositionKeys));
  View v = CUNHUO_TRY(ctx.farm.db.read([&](db::Session& s) -> Result<View> {
    const auto shop = CUNHUO_TRY(cooperative_of(s, call.caller()));
    const auto names = CUNHUO_TRY(member_names(s, shop));
    const auto page = CUNHUO_TRY(mk::list_orders(
        s,
        mk::OrderListQuery{.shops = {shop.id}, .after = asked.after, .limit = kCoopOrdersPerPage}));
    ViewList items;
    for (const auto& o : page.items) {
      auto order = CUNHUO_TRY(mk::find_order(s, o.id));
      View item;
      item.set("id", std::to_string(o.id.value));
      item.set("title", o.first_title);
      item.set("items", std::to_string(o.item_count));
      item.set("total", yuan(o.total));
      item.set("status", std::string(web::text(
                             "order_status_" + std::string(mk::to_string(o.status)), call.lang)));
      item.set("created", page_time(o.created_at_ms));
      item.set("makers", order ? makers_of(*order, names) : std::string());
      items.push_back(item);
    }
    View out;
    out.set("items", items);
    if (page.next)
      out.set("next",
              "/coop/orders?cursor=" + web::percent_encode(ctx.cursors.seal(list, *page.next)));
    return out;
  }));
  return Page::show("coop_orders", "title_coop_orders", std::move(v));
}

// --- /coop/income --------------------------------------------------------------------------

// This month's settlement lines of the members that came from this cooperative's orders.
Result<std::vector<pay::SettlementLine>> coop_lines(db::Session& s, const mk::Shop& shop,
                                                    const pay::Period& month) {
  std::map<std::int64_t, bool> ours;  // order id: whether it is this cooperative's
  std::vector<pay::SettlementLine> out;
  for (auto member : shop.members)
    for (auto& line :
         CUNHUO_TRY(pay::settlement_lines(s, member.value, month.from_ms, month.to_ms))) {
      auto known = ours.find(line.order_id);
      if (known == ours.end()) {
        auto order = CUNHUO_TRY(mk::find_order(s, mk::OrderId{line.order_id}));
        known = ours.emplace(line.order_id, order && order->shop == shop.id).first;
      }
      if (known->second) out.push_back(std::move(line));
    }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.settled_at_ms, a.order_id, a.line_no, a.household_id) <
           std::tie(b.settled_at_ms, b.order_id, b.line_no, b.household_id);
  });
  return out;
}

Result<Page> income(const CoopPageContext& ctx, const PageCall& call) {
  const auto month = CUNHUO_TRY(pay::parse_period(month_label(ctx.farm.clock.now_ms())));
  View v = CUNHUO_TRY(ctx.farm.db.read([&](db::Session& s) -> Result<View> {
    const auto shop = CUNHUO_TRY(cooperative_of(s, call.caller()));
    const auto names = CUNHUO_TRY(member_names(s, shop));
    std::int64_t gross = 0, fees = 0, net = 0;  // fen
    std::map<std::int64_t, std::int64_t> by_member;
    ViewList lines;
    for (const auto& l : CUNHUO_TRY(coop_lines(s, shop, month))) {
      View line;
      line.set("date", page_time(l.settled_at_ms).substr(0, 10));
      line.set("order", std::to_string(l.order_id));
      line.set("product", l.title);
      line.set("quantity", std::to_string(l.quantity));
      line.set("member", name_in(names, l.household_id));
      line.set("share", std::to_string(l.share_bps / 100) + "%");
      line.set("net", yuan(l.net));
      lines.push_back(line);
      gross += l.gross.fen();
      fees += l.fees.fen();
      net += l.net.fen();
      by_member[l.household_id] += l.net.fen();
    }
    ViewList members;
    for (const auto& [household, earned] : by_member) {
      View m;
      m.set("member", name_in(names, household));
      m.set("net", yuan(Money::fen(earned)));
      members.push_back(m);
    }
    View out;
    out.set("period", month.label);
    out.set("has_lines", !lines.empty());
    out.set("lines", lines);
    out.set("members", members);
    out.set("gross", yuan(Money::fen(gross)));
    out.set("fees", yuan(Money::fen(fees)));
    out.set("net", yuan(Money::fen(net)));
    return out;
  }));
  return Page::show("coop_income", "title_coop_income", std::move(v));
}

}  // namespace

Result<mk::Shop> cooperative_of(db::Session& s, const Account& account) {
  std::optional<mk::Shop> shop;
  if (account.role == Role::shop_manager && account.shop_id)
    shop = CUNHUO_TRY(mk::find_shop(s, mk::ShopId{*account.shop_id}));
  if (!shop || shop->kind != mk::ShopKind::cooperative || !manages(account, *shop))
    return make_error(ErrorKind::forbidden, "not_a_cooperative_manager",
                      "these pages are a cooperative manager's");
  return *shop;
}

void add_coop_pages(web::PageTable& pages, const CoopPageContext& ctx) {
  const Desk desk = coop_desk();
  add_packing_pages(pages, ctx.farm, desk);
  add_listing_pages(pages, ctx.farm, desk);
  const Access managers = only({Role::shop_manager});
  pages.add({.pattern = std::string(kMembersPath),
             .access = managers,
             .summary = "The cooperative's member households and the requests to join it",
             .handler = [ctx](const PageCall& call) { return members(ctx, call, "", ""); }});
  pages.add({.method = "POST",
             .pattern = std::string(kMembersPath) + "/invite",
             .access = managers,
             .summary = "Invite a household of the county; it joins when it accepts",
             .handler = [ctx](const PageCall& call) { return invite(ctx, call); },
             .reshow =
                 [ctx](const PageCall& call, const Error& why) {
                   return members(ctx, call, web::refusal_message(why, call.lang),
                                  call.field("household_id"));
                 }});
  pages.add({.method = "POST",
             .pattern = "/coop/requests/:id",
             .access = managers,
             .summary = "Accept or decline a household's request to join",
             .handler = [ctx](const PageCall& call) { return answer(ctx, call); }});
  pages.add({.pattern = "/coop/orders",
             .access = managers,
             .summary = "The cooperative's orders across its members, newest first, by pages",
             .handler = [ctx](const PageCall& call) { return orders(ctx, call); }});
  pages.add({.pattern = "/coop/income",
             .access = managers,
             .summary = "The cooperative's sales this month, line by line, by member share",
             .handler = [ctx](const PageCall& call) { return income(ctx, call); }});
}

}  // namespace cunhuo::storefront
