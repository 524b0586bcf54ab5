#include "storefront/org_pages.hpp"

#include <charconv>
#include <map>

#include "core/json.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/organisations.hpp"
#include "marketplace/registry.hpp"
#include "storefront/checkout_flow.hpp"
#include "storefront/farm_pages.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
using web::Page, web::PageCall, web::View, web::ViewList;

constexpr std::string_view kOrderPath = "/org/order";
constexpr std::string_view kQuantityPrefix = "q";  // a row's field: q<listing id>
constexpr int kOldestYear = 2000, kNewestYear = 2100;

Access org_buyers() { return only({Role::org_buyer}); }

// The caller's organisation; a buyer not (or no longer) in one has nothing here.
Result<mk::OrganisationId> own_organisation(db::Session& s, const PageCall& call) {
  auto org = CUNHUO_TRY(mk::organisation_of_buyer(s, call.caller().id));
  if (!org) return page_not_found("organisation");
  return *org;
}

std::string percent(int bps) {
  return std::to_string(bps / 100) + "." + std::to_string(bps % 100 / 10) + "%";
}

// --- /org ----------------------------------------------------------------------------------

Result<Page> org_home(const OrgPageContext& ctx, const PageCall& call) {
  View home = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto org = CUNHUO_TRY(own_organisation(s, call));
    const auto report = CUNHUO_TRY(mk::organisation_report(s, org));
    const auto p = CUNHUO_TRY(mk::organisation_progress(s, org));
    if (!report || !p) return page_not_found("organisation");
    View v;
    v.set("name", report->name);
    v.set("budget", yuan(p->budget));
    v.set("committed", yuan(p->committed));
    v.set("spent", yuan(p->spent));
    v.set("remaining", yuan(p->remaining));
    v.set("certified_spent", yuan(p->certified_spent));
    v.set("share", percent(p->certified_share_bps));
    v.set("share_bps", std::to_string(p->certified_share_bps));
    v.set("required", percent(p->required_share_bps));
    v.set("has_required", p->required_share_bps > 0);
    v.set("reached", p->spent.fen() > 0 && p->certified_share_bps >= p->required_share_bps);
    v.set("short", report->certified_needed.fen() > 0);
    v.set("certified_needed", yuan(report->certified_needed));
    v.set("has_unpaid", p->unpaid_orders > 0);
    v.set("unpaid_orders", std::to_string(p->unpaid_orders));
    return v;
  }));
  return Page::show("org_home", "title_org", std::move(home));
}

// --- /org/order: the bulk order form ---------------------------------------------------------

// One line of the form as typed: its listing and quantity.
struct TypedLine {
  mk::ProductId product;
  std::int64_t quantity = 0;
};

Error bad_quantity(const std::string& field) {
  return make_error(ErrorKind::invalid, "invalid_bulk_quantity",
                    "a whole number from 1 to " + std::to_string(mk::kMaxItemQuantity), field);
}

// The listing a form field names ("q12" is listing 12), or nothing for another field.
std::optional<mk::ProductId> row_of(std::string_view field) {
  if (!field.starts_with(kQuantityPrefix)) return std::nullopt;
  field.remove_prefix(kQuantityPrefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), id);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size() || id < 1)
    return std::nullopt;
  return mk::ProductId{id};
}

// The lines typed in the form, in its order; a blank quantity is a row not chosen, anything
// else must be a whole number in 1..kMaxItemQuantity.
Result<std::vector<TypedLine>> typed_lines(const PageCall& call) {
  std::vector<TypedLine> lines;
  for (const auto& [name, typed] : call.form) {
    const auto product = row_of(name);
    if (!product || typed.find_first_not_of(" \t") == std::string::npos) continue;
    std::int64_t q = 0;
    auto [end, ec] = std::from_chars(typed.data(), typed.data() + typed.size(), q);
    if (ec != std::errc() || end != typed.data() + typed.size() || q < 1 ||
        q > mk::kMaxItemQuantity)
      return bad_quantity(name);
    lines.push_back(TypedLine{*product, q});
  }
  return lines;
}

Result<std::vector<TypedLine>> chosen_lines(const PageCall& call) {
  auto lines = CUNHUO_TRY(typed_lines(call));
  if (lines.empty())
    return make_error(ErrorKind::invalid, "nothing_chosen", "no quantity was typed", "items");
  if (lines.size() > static_cast<std::size_t>(kMaxBulkOrderRows))
    return make_error(ErrorKind::invalid, "too_many_rows",
                      "at most " + std::to_string(kMaxBulkOrderRows) + " listings per order",
                      "items");
  return lines;
}

// The field of the row a refusal is about: the form's own ("q12"), or the order module's
// ("items[3].quantity": the fourth line typed).
std::string refused_row(const PageCall& call, const Error& why) {
  if (row_of(why.field)) return why.field;
  if (!why.field.starts_with("items[")) return "";
  std::size_t i = 0;
  std::from_chars(why.field.data() + 6, why.field.data() + why.field.size(), i);
  auto lines = typed_lines(call);
  if (!lines.ok() || i >= lines->size()) return "";
  return std::string(kQuantityPrefix) + std::to_string((*lines)[i].product.value);
}

// The listings the form offers: the filter's (words, category, certified only).
mk::ProductQuery offered(const PageCall& call) {
  mk::ProductQuery q{.text = call.field("text"), .limit = kMaxBulkOrderRows};
  if (call.request.method == "GET") q.text = call.request.query_param("text").value_or("");
  const std::string category = call.request.method == "GET"
                                   ? call.request.query_param("category").value_or("")
                                   : call.field("category");
  if (!category.empty()) q.category = category;
  q.certified_only =
      (call.request.method == "GET" ? call.request.query_param("certified").value_or("")
                                    : call.field("certified")) == "1";
  return q;
}

struct FormTotals {
  Money total, certified;
};

// The form's view: each listing's row with what was typed in it, the running totals, and
// what is left of the budget after them.
Result<View> order_form_view(db::Session& s, const PageCall& call, const std::string& bad_row) {
  const auto org = CUNHUO_TRY(own_organisation(s, call));
  const auto progress = CUNHUO_TRY(mk::organisation_progress(s, org));
  if (!progress) return page_not_found("organisation");
  const auto query = offered(call);
  const auto found = CUNHUO_TRY(mk::search_products(s, query));
  std::vector<mk::ProductId> ids;
  for (const auto& p : found.items) ids.push_back(p.id);
  const auto certified = CUNHUO_TRY(mk::certificates_of(s, ids));
  std::map<std::int64_t, std::string> shops;
  FormTotals totals;
  ViewList rows;
  for (const auto& p : found.items) {
    if (!shops.contains(p.shop.value)) {
      auto shop = CUNHUO_TRY(mk::find_shop(s, p.shop));
      shops[p.shop.value] = shop ? shop->name : "";
    }
    const std::string field = std::string(kQuantityPrefix) + std::to_string(p.id.value);
    const std::string typed = call.field(field);
    View r;
    r.set("field", field);
    r.set("title", p.title);
    r.set("seller", shops[p.shop.value]);
    r.set("price", yuan(p.price));
    r.set("price_fen", std::to_string(p.price.fen()));
    r.set("unit", unit_text(p.unit, call.lang));
    r.set("stock", std::to_string(p.stock));
    r.set("certified", certified.contains(p.id.value));
    r.set("typed", typed);
    r.set("bad", field == bad_row);
    std::int64_t q = 0;
    auto [end, ec] = std::from_chars(typed.data(), typed.data() + typed.size(), q);
    if (ec == std::errc() && end == typed.data() + typed.size() && q > 0 &&
        q <= mk::kMaxItemQuantity) {
      const Money sum = CUNHUO_TRY(p.price.times(q));
      totals.total = CUNHUO_TRY(totals.total.plus(sum));
      if (certified.contains(p.id.value)) totals.certified = CUNHUO_TRY(totals.certified.plus(sum));
      r.set("sum", yuan(sum));
    }
    rows.push_back(r);
  }
  View v;
  v.set("rows", rows);
  v.set("has_rows", !rows.empty());
  v.set("text", query.text);
  v.set("category", query.category.value_or(""));
  v.set("categories", choices(kListingCategories, query.category.value_or(""), call.lang, false));
  v.set("certified_only", query.certified_only);
  v.set("remaining", yuan(progress->remaining));
  v.set("remaining_fen", std::to_string(progress->remaining.fen()));
  v.set("total", yuan(totals.total));
  v.set("certified_total", yuan(totals.certified));
  const Money left = Money::fen(progress->remaining.fen() - totals.total.fen());
  v.set("left", left.fen() < 0 ? "-" + yuan(Money::fen(-left.fen())) : yuan(left));
  v.set("over", left.fen() < 0);
  v.set("max_rows", std::to_string(kMaxBulkOrderRows));
  v.set("max_quantity", std::to_string(mk::kMaxItemQuantity));
  return v;
}

// The form, first shown or shown again: with what was typed, and why it was refused.
Result<Page> order_form(const OrgPageContext& ctx, const PageCall& call, const Error* why) {
  const std::string bad = why ? refused_row(call, *why) : "";
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return order_form_view(s, call, bad); }));
  for (const char* f : {"name", "phone", "address", "region_code"}) v.set(f, call.field(f));
  v.set("key", key_after(call, why));
  if (why) v.set("error", web::refusal_message(*why, call.lang));
  return Page::show("org_order", "title_org_order", std::move(v));
}

// What the idempotency key is sealed over: the lines and the address.
std::string digest_of(const std::vector<TypedLine>& lines, const mk::ShippingAddress& to) {
  std::string d;
  for (const auto& l : lines)
    d += std::to_string(l.product.value) + ":" + std::to_string(l.quantity) + ",";
  return d + "\n" + to.name + "\n" + to.phone + "\n" + to.address + "\n" + to.region_code;
}

// "计算" shows the totals again (for a browser without JavaScript); placing orders the lines
// through the same checkout as POST /api/v1/orders, charged to the organisation's budget
// (over_budget when it would go over), once per form key; then on to paying.
Result<Page> post_order(const OrgPageContext& ctx, const PageCall& call) {
  if (call.field("do") != "place") {
    if (auto typed = typed_lines(call); !typed.ok()) return typed.error();
    return order_form(ctx, call, nullptr);
  }
  CUNHUO_CHECK(need_key(call));
  CUNHUO_CHECK(ctx.db.read([&](db::Session& s) -> Status {
    CUNHUO_TRY(own_organisation(s, call));
    return {};
  }));
  const auto lines = CUNHUO_TRY(chosen_lines(call));
  const mk::ShippingAddress to = CUNHUO_TRY(address_of(call));
  const Request keyed = keyed_request(call, std::string(kOrderPath), digest_of(lines, to));
  const Account& buyer = call.caller();
  const auto done = [](std::int64_t id) {
    return Page::see_other("/checkouts/" + std::to_string(id));
  };
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(keyed, buyer.id)))
    return done(CUNHUO_TRY(answered_id(*earlier, "id")));
  const Response answer =
      ctx.idempotency.run(keyed, buyer.id, [&](db::Session& tx) -> Result<Response> {
        mk::CheckoutRequest order{.buyer = buyer.id, .ship_to = to};
        for (const auto& l : lines) order.items.push_back(mk::CheckoutItem{l.product, l.quantity});
        const auto checkout = CUNHUO_TRY(check_out(tx, order, ctx.clock, ctx.payment_window));
        return Response::json(201, "{\"id\":" + std::to_string(checkout.id.value) + "}");
      });
  return done(CUNHUO_TRY(answered_id(answer, "id")));
}

// --- /org/orders and /org/invoices: the year's orders ----------------------------------------

// The year a page shows (?year=, else this year in Asia/Shanghai) and its bounds in UTC.
struct Year {
  int year = 0;
  std::int64_t from_ms = 0, to_ms = 0;
};

Result<Year> year_of(const OrgPageContext& ctx, const PageCall& call) {
  int year = shanghai_date(ctx.clock.now_ms()).year;
  if (auto asked = call.request.query_param("year")) {
    auto [end, ec] = std::from_chars(asked->data(), asked->data() + asked->size(), year);
    if (ec != std::errc() || end != asked->data() + asked->size() || year < kOldestYear ||
        year > kNewestYear)
      return make_error(ErrorKind::invalid, "invalid_year", "a year such as 2026", "year");
  }
  return Year{.year = year,
              .from_ms = shanghai_midnight_ms(LocalDate{year, 1, 1}),
              .to_ms = shanghai_midnight_ms(LocalDate{year + 1, 1, 1})};
}

bool is_paid(mk::OrderStatus s) {
  return s != mk::OrderStatus::pending_payment && s != mk::OrderStatus::cancelled &&
         s != mk::OrderStatus::refunded;
}

// One page of the organisation's orders placed in `year`, newest first, with the amount
// charged and its certified part; `paid_only` keeps those a voucher is printed for.
Result<View> year_orders(const OrgPageContext& ctx, const PageCall& call, const Year& year,
                         const std::string& path, bool paid_only) {
  return ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto org = CUNHUO_TRY(own_organisation(s, call));
    const std::string list =
        "pages" + path + ":" + std::to_string(org.value) + ":" + std::to_string(year.year);
    const auto asked =
        CUNHUO_TRY(read_page(std::to_string(kOrgOrdersPerPage), call.request.query_param("cursor"),
                             ctx.cursors, list, mk::kOrderPositionKeys));
    const auto page =
        CUNHUO_TRY(mk::list_orders(s, mk::OrderListQuery{.organisation = org.value,
                                                         .from_ms = year.from_ms,
                                                         .to_ms = year.to_ms,
                                                         .after = asked.after,
                                                         .limit = kOrgOrdersPerPage}));
    std::vector<std::int64_t> ids;
    for (const auto& o : page.items) ids.push_back(o.id.value);
    const auto charges = CUNHUO_TRY(mk::order_charges(s, ids));
    ViewList items;
    for (const auto& o : page.items) {
      if (paid_only && !is_paid(o.status)) continue;
      View r = order_row(o, call.lang);
      const auto charge = charges.find(o.id.value);
      r.set("certified", yuan(charge == charges.end() ? Money() : charge->second.certified));
      r.set("voucher", is_paid(o.status));
      items.push_back(r);
    }
    View v;
    v.set("items", items);
    v.set("year", std::to_string(year.year));
    v.set("last_year", std::to_string(year.year - 1));
    if (page.next)
      v.set("next", path + "?year=" + std::to_string(year.year) +
                        "&cursor=" + web::percent_encode(ctx.cursors.seal(list, *page.next)));
    return v;
  });
}

Result<Page> org_orders(const OrgPageContext& ctx, const PageCall& call) {
  const Year year = CUNHUO_TRY(year_of(ctx, call));
  View v = CUNHUO_TRY(year_orders(ctx, call, year, "/org/orders", false));
  return Page::show("org_orders", "title_org_orders", std::move(v));
}

// The year's paid spending by seller, what the finance office matches the sellers'
// invoices against, and the certified part that counts toward the required share.
Result<View> year_summary(db::Session& s, const PageCall& call, const Year& year) {
  const auto org = CUNHUO_TRY(own_organisation(s, call));
  const auto report = CUNHUO_TRY(mk::organisation_report(s, org));
  ViewList sellers;
  std::int64_t orders = 0;
  Money total, certified;
  for (const auto& x : CUNHUO_TRY(mk::paid_spending_by_shop(s, org, year.from_ms, year.to_ms))) {
    auto shop = CUNHUO_TRY(mk::find_shop(s, mk::ShopId{x.shop}));
    View r;
    r.set("seller", shop ? shop->name : "");
    r.set("orders", std::to_string(x.orders));
    r.set("amount", yuan(x.amount));
    r.set("certified", yuan(x.certified));
    sellers.push_back(r);
    orders += x.orders;
    total = CUNHUO_TRY(total.plus(x.amount));
    certified = CUNHUO_TRY(certified.plus(x.certified));
  }
  View v;
  v.set("org_name", report ? report->name : "");
  v.set("sellers", sellers);
  v.set("paid_orders", std::to_string(orders));
  v.set("paid_total", yuan(total));
  v.set("certified_total", yuan(certified));
  v.set("certified_share",
        percent(total.fen() > 0 ? static_cast<int>(certified.fen() * 10000 / total.fen()) : 0));
  return v;
}

Result<Page> org_invoices(const OrgPageContext& ctx, const PageCall& call) {
  const Year year = CUNHUO_TRY(year_of(ctx, call));
  View v = CUNHUO_TRY(year_orders(ctx, call, year, "/org/invoices", true));
  View summary =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return year_summary(s, call, year); }));
  for (const char* f :
       {"org_name", "sellers", "paid_orders", "paid_total", "certified_total", "certified_share"})
    v.set(f, *summary.get(f));
  return Page::show("org_invoices", "title_org_invoices", std::move(v));
}

// --- /org/invoices/{order_id}: a paid order's purchase voucher -------------------------------

Result<View> voucher_view(db::Session& s, const PageCall& call) {
  const auto org = CUNHUO_TRY(own_organisation(s, call));
  const mk::OrderId id{CUNHUO_TRY(call.path_id("order"))};
  const auto charges = CUNHUO_TRY(mk::order_charges(s, {id.value}));
  const auto charge = charges.find(id.value);
  auto order = CUNHUO_TRY(mk::find_order(s, id));
  // Another organisation's order, or one not paid: there is no voucher to see.
  if (charge == charges.end() || charge->second.organisation != org.value || !order ||
      !is_paid(order->status))
    return page_not_found("order");
  const auto report = CUNHUO_TRY(mk::organisation_report(s, org));
  const auto shop = CUNHUO_TRY(mk::find_shop(s, order->shop));
  std::vector<mk::ProductId> ids;
  for (const auto& l : order->lines) ids.push_back(l.product);
  const auto certified = CUNHUO_TRY(mk::certificates_of(s, ids));
  const auto products = CUNHUO_TRY(mk::find_products(s, ids));
  std::map<std::int64_t, std::string> units;
  for (const auto& p : products) units[p.id.value] = unit_text(p.unit, call.lang);
  ViewList lines;
  for (const auto& l : order->lines) {
    View r;
    r.set("title", l.title);
    r.set("quantity", std::to_string(l.quantity));
    r.set("unit", units[l.product.value]);
    r.set("price", yuan(l.unit_price));
    r.set("sum", yuan(l.line_total));
    r.set("certified", certified.contains(l.product.value));
    lines.push_back(r);
  }
  View v;
  v.set("id", std::to_string(id.value));
  v.set("org_name", report ? report->name : "");
  v.set("seller", shop ? shop->name : "");
  v.set("seller_village", shop ? shop->village_code : "");
  v.set("created", page_time(order->created_at_ms));
  for (const auto& e : CUNHUO_TRY(mk::order_history(s, id)))
    if (e.to == mk::OrderStatus::paid) v.set("paid", page_time(e.at_ms));
  v.set("status", status_word(order->status, call.lang));
  v.set("lines", lines);
  v.set("total", yuan(order->total));
  v.set("certified_total", yuan(charge->second.certified));
  v.set("ship_name", order->ship_to.name);
  v.set("ship_address", order->ship_to.address);
  const auto placed_by = CUNHUO_TRY(Auth::find_account(s, order->buyer));  // who ordered
  v.set("buyer", placed_by ? placed_by->display_name : "");
  return v;
}

Result<Page> org_voucher(const OrgPageContext& ctx, const PageCall& call) {
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return voucher_view(s, call); }));
  return Page::show("org_voucher", "title_org_voucher", std::move(v));
}

Result<Page> show_order_form(const OrgPageContext& ctx, const PageCall& call) {
  return order_form(ctx, call, nullptr);
}

// The pages that only show: the path, what it is, and what shows it.
struct OrgView {
  const char* pattern;
  const char* summary;
  Result<Page> (*show)(const OrgPageContext&, const PageCall&);
};
constexpr OrgView kViews[] = {
    {"/org", "The organisation's budget, what is spent and its certified share", org_home},
    {"/org/order", "A bulk order form: quantities of many listings at once", show_order_form},
    {"/org/orders", "The organisation's orders of a year, newest first", org_orders},
    {"/org/invoices", "A year's paid orders by seller, and a voucher for each", org_invoices},
    {"/org/invoices/:id", "A paid order's printable purchase voucher", org_voucher},
};

}  // namespace

void add_org_pages(web::PageTable& pages, const OrgPageContext& ctx) {
  for (const auto& view : kViews)
    pages.add(
        {.pattern = view.pattern,
         .access = org_buyers(),
         .summary = view.summary,
         .handler = [ctx, show = view.show](const PageCall& call) { return show(ctx, call); }});
  pages.add({.method = "POST",
             .pattern = std::string(kOrderPath),
             .access = org_buyers(),
             .summary = "Total the bulk order, or place it against the budget; placed once a key",
             .handler = [ctx](const PageCall& call) { return post_order(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return order_form(ctx, call, &why); }});
}

}  // namespace cunhuo::storefront
