#include "storefront/buyer_pages.hpp"

#include <charconv>
#include <span>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/shops.hpp"
#include "payments/refunds.hpp"
#include "payments/signing.hpp"
#include "storefront/cart.hpp"
#include "storefront/checkout_flow.hpp"
#include "storefront/order_moves.hpp"
#include "storefront/page_words.hpp"
#include "storefront/refund_evidence.hpp"

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

constexpr std::string_view kCartPath = "/cart", kCheckoutPath = "/checkout";

Access buyers() { return only({Role::consumer, Role::org_buyer}); }

// A positive id in a form field; anything else is not found.
Result<std::int64_t> id_in(std::string_view text, const char* what) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id < 1)
    return page_not_found(what);
  return id;
}

// Whose cart the page shows: the account's once signed in, else the visitor's.
CartOwner owner_of(const PageCall& call) {
  return call.account ? CartOwner::account(call.account->id) : CartOwner::visitor(call.visitor_id);
}

// --- /cart -------------------------------------------------------------------------------

// What a line costs now: its campaign's price where it was put in through a campaign that
// still sells it, else the listing's own. `why` says why a campaign price no longer holds
// (checkout would refuse the line the same way).
struct LinePrice {
  Money unit;
  std::string why;
};

Result<LinePrice> line_price(db::Session& s, const CartLine& line, const mk::Product& p,
                             std::int64_t now_ms, Lang lang) {
  if (!line.campaign) return LinePrice{.unit = p.price};
  auto terms = mk::campaign_terms(s, *line.campaign, p, line.quantity, now_ms, "quantity");
  if (terms.ok()) return LinePrice{.unit = terms->unit_price};
  return LinePrice{.unit = p.price, .why = web::refusal_message(terms.error(), lang)};
}

// The line's campaign while it still sells the line as the cart showed it; else none, so
// checkout charges the listing's own price, as the cart said, rather than refusing the cart.
Result<std::optional<mk::CampaignId>> campaign_still_held(db::Session& s, const CartLine& line,
                                                          std::int64_t now_ms) {
  if (!line.campaign) return line.campaign;
  auto p = CUNHUO_TRY(mk::find_product(s, line.product));
  if (!p) return line.campaign;  // checkout refuses the line as unknown
  const bool held = CUNHUO_TRY(line_price(s, line, *p, now_ms, Lang::zh)).why.empty();
  return held ? line.campaign : std::optional<mk::CampaignId>();
}

Result<View> cart_view(db::Session& s, const CartOwner& owner, std::int64_t now_ms, Lang lang) {
  ViewList items;
  Money total;
  for (const auto& line : CUNHUO_TRY(cart_lines(s, owner))) {
    auto p = CUNHUO_TRY(mk::find_product(s, line.product));
    if (!p) continue;
    auto shop = CUNHUO_TRY(mk::find_shop(s, p->shop));
    const LinePrice price = CUNHUO_TRY(line_price(s, line, *p, now_ms, lang));
    const Money sum = CUNHUO_TRY(price.unit.times(line.quantity));
    total = CUNHUO_TRY(total.plus(sum));
    View v;
    v.set("id", std::to_string(p->id.value));
    v.set("title", p->title);
    v.set("shop_name", shop ? shop->name : "");
    v.set("price", yuan(price.unit));
    if (price.unit < p->price) v.set("list_price", yuan(p->price));
    if (!price.why.empty()) v.set("campaign_why", price.why);
    v.set("unit", unit_text(p->unit, lang));
    v.set("quantity", std::to_string(line.quantity));
    v.set("sum", yuan(sum));
    v.set("off", !p->active);
    items.push_back(v);
  }
  View v;
  v.set("items", items);
  v.set("filled", !items.empty());
  v.set("total", yuan(total));
  v.set("max_quantity", std::to_string(kMaxCartQuantity));
  return v;
}

Result<Page> cart_page(const BuyerPageContext& ctx, const PageCall& call,
                       const std::string& error) {
  View v = CUNHUO_TRY(ctx.db.read(
      [&](db::Session& s) { return cart_view(s, owner_of(call), ctx.clock.now_ms(), call.lang); }));
  if (!error.empty()) v.set("error", error);
  return Page::show("buyer_cart", "title_cart", std::move(v));
}

// The campaign a product is put in the cart through: the form's, when it came from the
// campaign's page; whether the campaign still sells it is the cart's and checkout's concern.
Result<std::optional<mk::CampaignId>> campaign_in(db::Session& s, const PageCall& call) {
  const std::string typed = call.field("campaign_id");
  if (typed.empty()) return std::optional<mk::CampaignId>();
  const mk::CampaignId id{CUNHUO_TRY(id_in(typed, "campaign"))};
  if (!CUNHUO_TRY(mk::find_campaign(s, id))) return page_not_found("campaign");
  return std::optional<mk::CampaignId>(id);
}

Result<Page> add_to_cart_page(const BuyerPageContext& ctx, const PageCall& call) {
  const mk::ProductId id{CUNHUO_TRY(id_in(call.field("product_id"), "product"))};
  const std::int64_t quantity = CUNHUO_TRY(cart_quantity(call.field("quantity")));
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) -> Status {
    auto p = CUNHUO_TRY(mk::find_product(tx, id));
    if (!p || !p->active) return page_not_found("product");
    const auto campaign = CUNHUO_TRY(campaign_in(tx, call));
    return add_to_cart(tx, owner_of(call),
                       {.product = id, .quantity = quantity, .campaign = campaign}, ctx.clock);
  }));
  return Page::see_other(std::string(kCartPath));
}

Result<Page> change_cart(const BuyerPageContext& ctx, const PageCall& call, bool remove) {
  const mk::ProductId id{CUNHUO_TRY(call.path_id("product"))};
  std::int64_t quantity = 0;
  if (!remove) quantity = CUNHUO_TRY(cart_quantity(call.field("quantity")));
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) -> Status {
    if (remove) return remove_from_cart(tx, owner_of(call), id);
    return set_cart_quantity(tx, owner_of(call), id, quantity);
  }));
  return Page::see_other(std::string(kCartPath));
}

// --- /checkout ---------------------------------------------------------------------------

Result<Page> checkout_form(const BuyerPageContext& ctx, const PageCall& call, const Error* why) {
  View v = CUNHUO_TRY(ctx.db.read(
      [&](db::Session& s) { return cart_view(s, owner_of(call), ctx.clock.now_ms(), call.lang); }));
  for (const char* f : {"name", "phone", "address", "region_code"}) v.set(f, call.field(f));
  v.set("key", key_after(call, why));
  if (why) v.set("error", web::refusal_message(*why, call.lang));
  return Page::show("buyer_checkout", "title_checkout", std::move(v));
}

Result<Page> show_checkout(const BuyerPageContext& ctx, const PageCall& call) {
  auto page = CUNHUO_TRY(checkout_form(ctx, call, nullptr));
  if (!page.view.get("filled")->is_true()) return Page::see_other(std::string(kCartPath));
  return page;
}

// One checkout for the whole cart, through the same flow as POST /api/v1/orders; the cart
// empties in the same transaction. The form's key makes a double tap place one checkout.
Result<Page> place(const BuyerPageContext& ctx, const PageCall& call) {
  CUNHUO_CHECK(need_key(call));
  const mk::ShippingAddress to = CUNHUO_TRY(address_of(call));
  const Request keyed =
      keyed_request(call, std::string(kCheckoutPath),
                    to.name + "\n" + to.phone + "\n" + to.address + "\n" + to.region_code);
  const Account& buyer = call.caller();
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(keyed, buyer.id)))
    return Page::see_other("/checkouts/" + std::to_string(CUNHUO_TRY(answered_id(*earlier, "id"))));
  const Response answer =
      ctx.idempotency.run(keyed, buyer.id, [&](db::Session& tx) -> Result<Response> {
        const CartOwner owner = CartOwner::account(buyer.id);
        mk::CheckoutRequest cart{.buyer = buyer.id, .ship_to = to};
        for (const auto& line : CUNHUO_TRY(cart_lines(tx, owner)))
          cart.items.push_back(mk::CheckoutItem{
              .product = line.product,
              .quantity = line.quantity,
              .campaign = CUNHUO_TRY(campaign_still_held(tx, line, ctx.clock.now_ms()))});
        if (cart.items.empty())
          return make_error(ErrorKind::invalid, "cart_empty", "the cart is empty");
        const auto checkout = CUNHUO_TRY(check_out(tx, cart, ctx.clock, ctx.payment_window));
        CUNHUO_CHECK(clear_cart(tx, owner));
        return Response::json(201, "{\"id\":" + std::to_string(checkout.id.value) + "}");
      });
  return Page::see_other("/checkouts/" + std::to_string(CUNHUO_TRY(answered_id(answer, "id"))));
}

// --- /checkouts/{id}: what was ordered, and paying it --------------------------------------

Result<mk::Checkout> own_checkout(const BuyerPageContext& ctx, const PageCall& call) {
  const mk::CheckoutId id{CUNHUO_TRY(call.path_id("checkout"))};
  auto c = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::find_checkout(s, id); }));
  if (!c || c->buyer != call.caller().id) return page_not_found("checkout");
  return *c;
}

Result<Page> show_checkout_done(const BuyerPageContext& ctx, const PageCall& call) {
  const auto c = CUNHUO_TRY(own_checkout(ctx, call));
  View v;
  ViewList items;  // not "orders": a template's name is a partial in every view
  bool payable = true;
  for (const auto& o : c.orders) {
    View ov;
    ov.set("id", std::to_string(o.id.value));
    ov.set("total", yuan(o.total));
    ov.set("status", status_word(o.status, call.lang));
    payable = payable && o.status == mk::OrderStatus::pending_payment;
    items.push_back(ov);
  }
  v.set("id", std::to_string(c.id.value));
  v.set("items", items);
  v.set("total", yuan(c.total));
  v.set("pay_before", page_time(c.expires_at_ms));
  v.set("payable", payable);
  v.set("key", pay::random_hex(kFormKeyBytes));
  return Page::show("buyer_checkout_done", "title_checkout_done", std::move(v));
}

// Opens the payment as POST /api/v1/checkouts/:id/payments does and sends the buyer to the
// provider's page; the form's key opens it once.
Result<Page> pay_checkout(const BuyerPageContext& ctx, const PageCall& call) {
  CUNHUO_CHECK(need_key(call));
  const auto c = CUNHUO_TRY(own_checkout(ctx, call));
  const Account& buyer = call.caller();
  const Request keyed =
      keyed_request(call, "/checkouts/" + std::to_string(c.id.value) + "/pay", "");
  const auto pay_url = [](const Response& r) -> Result<std::string> {
    if (r.status != 201) return make_error(ErrorKind::conflict, "checkout_not_payable", "refused");
    auto doc = CUNHUO_TRY(Json::parse(r.body));
    return doc.find("pay_url")->as_string();
  };
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(keyed, buyer.id)))
    return Page::see_other(CUNHUO_TRY(pay_url(*earlier)));
  const auto intent = CUNHUO_TRY(open_payment(ctx.db, ctx.provider, ctx.clock, buyer, c.id));
  const Response answer =
      ctx.idempotency.run(keyed, buyer.id, [&](db::Session& tx) -> Result<Response> {
        CUNHUO_CHECK(pay::attach_provider_payment(
            tx, intent.id, pay::ProviderPayment{intent.provider_ref, intent.pay_url}));
        JsonWriter w;
        w.begin_object().field("pay_url", intent.pay_url).end_object();
        return Response::json(201, w.take());
      });
  return Page::see_other(CUNHUO_TRY(pay_url(answer)));
}

// --- /orders -----------------------------------------------------------------------------

Result<Page> show_orders(const BuyerPageContext& ctx, const PageCall& call) {
  const std::string list = "pages/orders:" + std::to_string(call.caller().id);
  const auto asked =
      CUNHUO_TRY(read_page(std::to_string(kBuyerOrdersPerPage), call.request.query_param("cursor"),
                           ctx.cursors, list, mk::kOrderPositionKeys));
  const auto page = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return mk::list_orders(
        s, mk::OrderListQuery{
               .buyer = call.caller().id, .after = asked.after, .limit = kBuyerOrdersPerPage});
  }));
  ViewList items;
  for (const auto& o : page.items) items.push_back(order_row(o, call.lang));
  View v;
  v.set("items", items);
  if (page.next)
    v.set("next", "/orders?cursor=" + web::percent_encode(ctx.cursors.seal(list, *page.next)));
  return Page::show("buyer_orders", "title_orders", std::move(v));
}

Result<mk::Order> own_order(db::Session& s, const PageCall& call) {
  const mk::OrderId id{CUNHUO_TRY(call.path_id("order"))};
  auto o = CUNHUO_TRY(mk::find_order(s, id));
  if (!o || o->buyer != call.caller().id) return page_not_found("order");  // another's: none
  return *o;
}

Result<View> order_view(db::Session& s, const mk::Order& o, Lang lang) {
  View v;
  v.set("id", std::to_string(o.id.value));
  v.set("checkout_id", std::to_string(o.checkout.value));
  v.set("status", status_word(o.status, lang));
  v.set("total", yuan(o.total));
  v.set("ship_name", o.ship_to.name);
  v.set("ship_address", o.ship_to.address);
  ViewList lines;
  for (const auto& l : o.lines) {
    View lv;
    lv.set("product", std::to_string(l.product.value));
    lv.set("title", l.title);
    lv.set("quantity", std::to_string(l.quantity));
    lv.set("sum", yuan(l.line_total));
    lines.push_back(lv);
  }
  v.set("lines", lines);
  ViewList steps;
  for (const auto& e : CUNHUO_TRY(mk::order_history(s, o.id))) {
    View ev;
    ev.set("status", status_word(e.to, lang));
    ev.set("at", page_time(e.at_ms));
    steps.push_back(ev);
  }
  v.set("steps", steps);
  ViewList parcels;
  for (const auto& sh : CUNHUO_TRY(lg::shipments_of_order(s, o.id.value))) {
    View pv;
    pv.set("number", sh.tracking_number);
    pv.set("status", word("parcel_status_" + sh.status, sh.status, lang));
    parcels.push_back(pv);
  }
  v.set("has_parcels", !parcels.empty());
  v.set("parcels", parcels);
  v.set("payable", o.status == mk::OrderStatus::pending_payment);
  v.set("confirmable", o.status == mk::OrderStatus::delivered);
  v.set("completed", o.status == mk::OrderStatus::completed);
  // A claim is for goods paid for and not yet settled; the payments module has the last word.
  v.set("claimable", o.status != mk::OrderStatus::pending_payment &&
                         o.status != mk::OrderStatus::cancelled &&
                         o.status != mk::OrderStatus::refunded);
  return v;
}

// The order's page; after a refused refund claim, with why and what was typed.
Result<Page> show_order(const BuyerPageContext& ctx, const PageCall& call, const Error* why) {
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    return order_view(s, CUNHUO_TRY(own_order(s, call)), call.lang);
  }));
  v.set("key", key_after(call, why));
  v.set("amount", call.field("amount"));
  v.set("reason", call.field("reason"));
  if (why) v.set("error", web::refusal_message(*why, call.lang));
  if (call.request.query_param("claimed")) v.set("claimed", true);
  return Page::show("buyer_order", "title_order", std::move(v));
}

// The buyer confirms receipt as POST /api/v1/orders/:id/confirm-receipt does; confirming
// again (a double tap) changes nothing.
Result<Page> confirm_receipt(const BuyerPageContext& ctx, const PageCall& call) {
  const auto id = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<mk::OrderId> {
    const auto o = CUNHUO_TRY(own_order(tx, call));
    if (o.status != mk::OrderStatus::completed)
      CUNHUO_CHECK(move_order_as(tx, call.caller(), o.id,
                                 OrderMove{.to = mk::OrderStatus::completed}, ctx.clock));
    return o.id;
  }));
  return Page::see_other("/orders/" + std::to_string(id.value));
}

// --- a refund claim with a photo of the spoiled goods --------------------------------------

struct RefundForm {
  Money amount;
  std::string reason;
  std::string_view photo;
};

Result<RefundForm> read_refund_form(const PageCall& call) {
  auto amount = Money::parse_yuan(call.field("amount"));
  if (!amount.ok() || amount->fen() <= 0)
    return make_error(ErrorKind::invalid, "invalid_amount", "an amount in yuan", "amount");
  RefundForm form{.amount = *amount, .reason = call.field("reason")};
  if (form.reason.find_first_not_of(" \t\r\n") == std::string::npos ||
      form.reason.size() > pay::kMaxRefundReasonBytes)
    return make_error(ErrorKind::invalid, "missing_reason", "say what was wrong", "reason");
  for (const auto& f : call.files)
    if (f.field == "photo" && !f.bytes.empty()) form.photo = f.bytes;
  if (form.photo.empty())
    return make_error(ErrorKind::invalid, "missing_photo", "a photo of the goods", "photo");
  return form;
}

// Claims as POST /api/v1/orders/:id/refund-claims does (pay::claim_refund), keeping the
// photo as the claim's evidence; the form's key claims once.
Result<Page> claim_refund(const BuyerPageContext& ctx, const PageCall& call) {
  CUNHUO_CHECK(need_key(call));
  const auto order = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return own_order(s, call); }));
  const RefundForm form = CUNHUO_TRY(read_refund_form(call));
  const std::string back = "/orders/" + std::to_string(order.id.value);
  const Request keyed = keyed_request(
      call, back + "/refund",
      std::to_string(form.amount.fen()) + "\n" + form.reason + "\n" + std::string(form.photo));
  const Account& buyer = call.caller();
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(keyed, buyer.id))) {
    CUNHUO_TRY(answered_id(*earlier, "id"));
    return Page::see_other(back + "?claimed=1");
  }
  const auto image = CUNHUO_TRY(mk::process_image(form.photo));  // slow: before the transaction
  const std::string folder = ctx.photo_folder + std::string(kRefundPhotoFolder);
  const std::string file_key = CUNHUO_TRY(mk::store_photo_files(image, folder));
  bool recorded = false;
  const Response answer =
      ctx.idempotency.run(keyed, buyer.id, [&](db::Session& tx) -> Result<Response> {
        recorded = false;
        const auto claim = CUNHUO_TRY(
            pay::claim_refund(tx, order.id.value, buyer.id, form.amount, form.reason, ctx.clock));
        CUNHUO_CHECK(record_claim_photo(tx,
                                        {.claim_id = claim.id,
                                         .file_key = file_key,
                                         .width = image.width,
                                         .height = image.height},
                                        ctx.clock));
        recorded = true;
        return Response::json(201, "{\"id\":" + std::to_string(claim.id) + "}");
      });
  if (!recorded) mk::remove_photo_files(folder, file_key);
  CUNHUO_TRY(answered_id(answer, "id"));
  return Page::see_other(back + "?claimed=1");
}

// --- /track/{number}: public, no personal data (as GET /api/v1/tracking/:number) --------

Result<Page> track(const BuyerPageContext& ctx, const PageCall& call) {
  const std::string number = call.request.params.at("number");
  if (number.size() > kMaxTrackingNumberBytes) return page_not_found("parcel");
  auto sh = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return lg::find_shipment(s, number); }));
  if (!sh) return page_not_found("parcel");
  View v;
  v.set("number", sh->tracking_number);
  v.set("status", word("parcel_status_" + sh->status, sh->status, call.lang));
  v.set("origin", sh->origin_code);
  v.set("destination", sh->destination_code);
  v.set("at", sh->current_code);
  if (sh->eta_ms) v.set("eta", page_time(*sh->eta_ms));
  v.set("temperature", temperature_text(sh->temperature_class, call.lang));
  ViewList events;
  for (const auto& e : sh->scans) {
    View ev;
    ev.set("at", page_time(e.event_time_ms));
    ev.set("step", word("step_" + e.biz_step, e.biz_step, call.lang));
    ev.set("where", e.biz_location.empty() ? e.read_point : e.biz_location);
    events.push_back(ev);
  }
  v.set("events", events);
  return Page::show("buyer_track", "title_track", std::move(v));
}

}  // namespace

void add_buyer_pages(web::PageTable& pages, const BuyerPageContext& ctx) {
  const auto cart_again = [ctx](const PageCall& call, const Error& why) {
    return cart_page(ctx, call, web::refusal_message(why, call.lang));
  };
  pages.add({.pattern = std::string(kCartPath),
             .access = anyone(),
             .summary = "The cart: products of several shops, kept for the visitor",
             .handler = [ctx](const PageCall& call) { return cart_page(ctx, call, ""); }});
  pages.add({.method = "POST",
             .pattern = "/cart/add",
             .access = anyone(),
             .summary = "Put a product in the cart",
             .handler = [ctx](const PageCall& call) { return add_to_cart_page(ctx, call); },
             .reshow = cart_again});
  pages.add({.method = "POST",
             .pattern = "/cart/:id",
             .access = anyone(),
             .summary = "Change how many of a product the cart holds",
             .handler = [ctx](const PageCall& call) { return change_cart(ctx, call, false); },
             .reshow = cart_again});
  pages.add({.method = "POST",
             .pattern = "/cart/:id/remove",
             .access = anyone(),
             .summary = "Take a product out of the cart",
             .handler = [ctx](const PageCall& call) { return change_cart(ctx, call, true); },
             .reshow = cart_again});
  pages.add({.pattern = std::string(kCheckoutPath),
             .access = buyers(),
             .summary = "Check out the whole cart once, with a shipping address",
             .handler = [ctx](const PageCall& call) { return show_checkout(ctx, call); }});
  pages.add({.method = "POST",
             .pattern = std::string(kCheckoutPath),
             .access = buyers(),
             .summary = "Place the cart's orders, one per shop; the same form twice places once",
             .handler = [ctx](const PageCall& call) { return place(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return checkout_form(ctx, call, &why); }});
  pages.add({.pattern = "/checkouts/:id",
             .access = buyers(),
             .summary = "A checkout's orders and paying them",
             .handler = [ctx](const PageCall& call) { return show_checkout_done(ctx, call); }});
  pages.add({.method = "POST",
             .pattern = "/checkouts/:id/pay",
             .access = buyers(),
             .summary = "Pay a checkout at the payment provider",
             .handler = [ctx](const PageCall& call) { return pay_checkout(ctx, call); }});
  pages.add({.pattern = "/orders",
             .access = buyers(),
             .summary = "The buyer's orders, newest first",
             .handler = [ctx](const PageCall& call) { return show_orders(ctx, call); }});
  pages.add({.pattern = "/orders/:id",
             .access = buyers(),
             .summary = "One of the buyer's orders: its timeline and parcels",
             .handler = [ctx](const PageCall& call) { return show_order(ctx, call, nullptr); }});
  pages.add({.method = "POST",
             .pattern = "/orders/:id/refund",
             .access = buyers(),
             .summary = "Claim a refund for spoiled goods, with a photo; the same form claims once",
             .handler = [ctx](const PageCall& call) { return claim_refund(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return show_order(ctx, call, &why); },
             .max_body = ctx.max_upload_body + static_cast<std::int64_t>(kMaxRefundFormBytes),
             .multipart = true,
             .on_pool = true});
  pages.add({.method = "POST",
             .pattern = "/orders/:id/confirm",
             .access = buyers(),
             .summary = "Confirm receipt of a delivered order",
             .handler = [ctx](const PageCall& call) { return confirm_receipt(ctx, call); }});
  pages.add({.pattern = "/track/:number",
             .access = anyone(),
             .summary = "Public tracking of a parcel: where it has been, no personal data",
             .handler = [ctx](const PageCall& call) { return track(ctx, call); }});
}

}  // namespace cunhuo::storefront
