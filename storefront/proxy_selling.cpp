#include "storefront/proxy_selling.hpp"

#include <memory>
#include <optional>
#include <string>

#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/proxy.hpp"
#include "marketplace/registry.hpp"
#include "messaging/phone_codes.hpp"
#include "storefront/marketplace_routes.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
namespace msg = cunhuo::messaging;

constexpr std::size_t kMaxActionBytes = 12;
constexpr std::size_t kMaxCodeBytes = 12;  // read before it is checked (kCodeDigits digits)

// One row per confirmation asked for; only a household's latest counts, and only once.
constexpr db::Migration kMigrations[] = {
    {"storefront", 8, "confirmations of assisted selling asked for at a station",
     "CREATE TABLE IF NOT EXISTS proxy_confirmations (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  operator_account BIGINT NOT NULL,\n"
     "  action VARCHAR(12) NOT NULL,\n"
     "  requested_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  confirmed_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS proxy_confirmations_household ON proxy_confirmations "
     "(household_id, id);\n"},
    // What was asked to be confirmed: the digest of its canonical form (marketplace/proxy.hpp)
    // and, for an order, the total the villager's text gave. Older rows match nothing.
    {"storefront", 12, "what a proxy confirmation confirms",
     "ALTER TABLE proxy_confirmations ADD COLUMN digest VARCHAR(64) NOT NULL DEFAULT '';\n"
     "ALTER TABLE proxy_confirmations ADD COLUMN quoted_total_fen BIGINT;\n"},
};

using Context = ProxySellingContext;
using Kind = mk::ProxyKind;

constexpr EnumNames<Kind, 2> kActionNames = {{{Kind::order, "order"}, {Kind::listing, "listing"}}};

Result<Kind> parse_action(std::string_view text) {
  if (auto v = value_of(kActionNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_action", "action is order or listing", "action");
}

// The household an operator acts for: one of its station's township.
Result<mk::Household> household_at_station(db::Session& s, const Account& op, std::int64_t id) {
  auto household = CUNHUO_TRY(mk::find_household(s, mk::HouseholdId{id}));
  if (!household)
    return make_error(ErrorKind::invalid, "unknown_household", "no such household", "household_id");
  if (!region_within(household->village_code, op.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "this household is not in your station's township", "household_id");
  return std::move(*household);
}

// The household's confirmed farmer, if it has one (accounts are this module's own table).
Result<std::optional<std::int64_t>> villager_account(db::Session& s, mk::HouseholdId household) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT id FROM accounts WHERE household_id = ? AND role = 'farmer' ORDER BY id LIMIT 1",
      {household.value}));
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(row->i64(0));
}

// ---- what the villager confirms ----

// A listing as a proxy call carries it: its fields and the shop it names, if any.
struct ListingFor {
  mk::ListingFields fields;
  std::optional<std::int64_t> shop_id;
};

Result<ListingFor> read_listing_for(const FieldReader& listing) {
  return ListingFor{.fields = CUNHUO_TRY(read_listing(listing)),
                    .shop_id = CUNHUO_TRY(listing.optional_integer("shop_id", 1, INT64_MAX))};
}

// A listing made for a household is its own: in its own shop, produced by it alone.
Status listing_is_the_households(const ListingFor& l, mk::ShopId own_shop,
                                 mk::HouseholdId household) {
  if (l.shop_id && *l.shop_id != own_shop.value)
    return make_error(ErrorKind::invalid, "not_the_households_shop",
                      "a listing made for a household goes into its own shop", "listing.shop_id");
  for (const auto& producer : l.fields.producers.value_or(std::vector<mk::ProducerShare>{}))
    if (producer.household != household)
      return make_error(ErrorKind::invalid, "not_the_household",
                        "a listing made for a household is produced by that household",
                        "listing.producers");
  return {};
}

// The shop a listing for `household` goes into, once the listing is seen to be its own.
Result<mk::ShopId> shop_for_listing(db::Session& s, const mk::Household& household,
                                    const ListingFor& listing) {
  auto shop = CUNHUO_TRY(mk::household_shop(s, household.id));
  if (!shop)
    return make_error(ErrorKind::conflict, "no_household_shop",
                      "the household has no shop of its own to list in", "household_id");
  CUNHUO_CHECK(listing_is_the_households(listing, *shop, household.id));
  return *shop;
}

// What a confirmation binds: the digest of the content, the total the villager was told (an
// order), and the text their phone gets.
struct Confirmable {
  std::string digest;
  std::optional<std::int64_t> total_fen;
  msg::CodeText text;
};

// A title as a text message shows it: its first kTitleCharsInText characters.
std::string short_title(std::string_view title) {
  std::size_t chars = 0, at = 0;
  for (; at < title.size(); ++at)
    if ((static_cast<unsigned char>(title[at]) & 0xC0) != 0x80 && chars++ == kTitleCharsInText)
      return std::string(title.substr(0, at)) + "…";
  return std::string(title);
}

// An order is priced now, as checkout will price it: a cart that cannot be ordered is
// refused here, before a code is spent on it.
Result<Confirmable> order_confirmable(Context& ctx, db::Session& tx,
                                      const mk::CheckoutRequest& cart) {
  const auto quote = CUNHUO_TRY(mk::quote_checkout(tx, cart, ctx.clock.now_ms()));
  const mk::OrderLine& first = quote.lines.front();
  std::string item = short_title(first.title) + "×" + std::to_string(first.quantity);
  if (quote.lines.size() > 1) item += "等" + std::to_string(quote.lines.size()) + "种";
  return Confirmable{.digest = mk::order_digest(cart),
                     .total_fen = quote.total.fen(),
                     .text = {.template_code = std::string(msg::kProxyOrderCode),
                              .params = {{"item", item}, {"total", quote.total.to_yuan()}}}};
}

Confirmable listing_confirmable(const mk::ListingFields& f) {
  const std::string unit(mk::unit_in_chinese(f.unit.value_or("")));
  return Confirmable{.digest = mk::listing_digest(f),
                     .total_fen = std::nullopt,
                     .text = {.template_code = std::string(msg::kProxyListingCode),
                              .params = {{"title", short_title(f.title.value_or(""))},
                                         {"price", f.price.value_or(Money()).to_yuan()},
                                         {"unit", unit},
                                         {"stock", std::to_string(f.stock.value_or(0))}}}};
}

// ---- asking for a confirmation ----

schema::Schema confirmation_request_schema() {
  using namespace schema;
  return object(
      {required("household_id", id()),
       required("action", name_among(kMaxActionBytes, {"order", "listing"})),
       optional("order", cart_schema().described("action order: the cart to be ordered, as "
                                                 "POST /api/v1/proxy/orders will carry it")),
       optional("listing", new_listing_schema().described(
                               "action listing: the listing, as POST /api/v1/proxy/products "
                               "will carry it"))});
}

schema::Schema confirmation_sent_schema() {
  using namespace schema;
  return object(
      {required("confirmation_id", id()), required("household_id", id()),
       required("action", choice({"order", "listing"})),
       required("sent_to", text().described("the card's phone, masked")),
       optional("total_fen", integer(0).described("an order's total, as the villager's text "
                                                  "says it")),
       required("expires_at", utc_time())});
}

// What a confirmation is asked for: the household, and the order or listing to confirm.
struct Ask {
  std::int64_t household_id = 0;
  Kind action = Kind::order;
  std::optional<mk::CheckoutRequest> cart;
  std::optional<ListingFor> listing;
};

Result<Ask> read_ask(const FieldReader& body, const Account& op) {
  Ask ask;
  ask.household_id = CUNHUO_TRY(body.integer("household_id", 1, INT64_MAX));
  ask.action = CUNHUO_TRY(parse_action(CUNHUO_TRY(body.string("action", kMaxActionBytes))));
  const char* what = ask.action == Kind::order ? "order" : "listing";
  CUNHUO_CHECK(body.only({"household_id", "action", what}));
  const FieldReader content = CUNHUO_TRY(body.object(what));
  if (ask.action == Kind::order)
    ask.cart = CUNHUO_TRY(read_cart(content, op.id));
  else
    ask.listing = CUNHUO_TRY(read_listing_for(content));
  return ask;
}

struct Sent {
  std::int64_t id = 0, expires_at_ms = 0;
  std::string phone;
  std::optional<std::int64_t> total_fen;
  std::optional<std::int64_t> wait_ms;  // set when the phone may not have a code now
};

Result<Sent> send_confirmation(Context& ctx, db::Session& tx, const Account& op, const Ask& ask) {
  const auto household = CUNHUO_TRY(household_at_station(tx, op, ask.household_id));
  Confirmable what;
  if (ask.cart) {
    what = CUNHUO_TRY(order_confirmable(ctx, tx, *ask.cart));
  } else {
    CUNHUO_CHECK(shop_for_listing(tx, household, *ask.listing));
    what = listing_confirmable(ask.listing->fields);
  }
  Sent sent{.id = 0,
            .expires_at_ms = 0,
            .phone = household.phone,
            .total_fen = what.total_fen,
            .wait_ms = std::nullopt};
  // The operator is told to wait, whichever limit it is: the villager is at the counter.
  const auto send = CUNHUO_TRY(
      msg::take_code_send(tx, household.phone, msg::CodePurpose::proxy_confirm, ctx.clock));
  if (send.outcome != msg::CodeSend::Outcome::taken) {
    sent.wait_ms = send.wait_ms;
    return sent;
  }
  sent.expires_at_ms = CUNHUO_TRY(
      msg::issue_code(tx, household.phone, msg::CodePurpose::proxy_confirm, ctx.clock, what.text));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO proxy_confirmations (household_id, operator_account, action, requested_at, "
      "expires_at, digest, quoted_total_fen) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {ask.household_id, op.id, to_string(ask.action), ctx.clock.now_ms(), sent.expires_at_ms,
       what.digest, what.total_fen}));
  sent.id = CUNHUO_TRY(tx.last_insert_id());
  return sent;
}

Result<Response> ask_confirmation(Context& ctx, const Call& call) {
  const Account& op = call.caller();
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const Ask ask = CUNHUO_TRY(read_ask(body, op));
  const Sent sent = CUNHUO_TRY(
      ctx.db.write([&](db::Session& tx) { return send_confirmation(ctx, tx, op, ask); }));
  if (sent.wait_ms)
    return too_many_requests((*sent.wait_ms + 999) / 1000,
                             "this phone may not have another code yet");
  if (ctx.sms != nullptr) ctx.sms->wake();
  JsonWriter w;
  w.begin_object().field("confirmation_id", sent.id).field("household_id", ask.household_id);
  w.field("action", to_string(ask.action)).field("sent_to", mask_phone(sent.phone));
  if (sent.total_fen) w.field("total_fen", *sent.total_fen);
  w.field("expires_at", format_utc(sent.expires_at_ms)).end_object();
  return Response::json(202, w.take());
}

// ---- checking the villager's code ----

enum class Confirmed { yes, not_asked, wrong_code, mismatch };

struct Check {
  Confirmed outcome = Confirmed::not_asked;
  std::optional<std::int64_t> total_fen;  // what the villager's text said an order costs
  // A wrong code, or the right one for other content: the code loses a try.
  bool costs_a_try() const {
    return outcome == Confirmed::wrong_code || outcome == Confirmed::mismatch;
  }
};

// The household's latest confirmation must be this operator's, for this action, unused; the
// code on the card's phone must be right, and the content (`digest`) what it was asked
// for. The code is then used up.
Result<Check> check_code(Context& ctx, db::Session& tx, const Account& op,
                         const mk::Household& household, Kind action, const std::string& code,
                         const std::string& digest) {
  auto latest = CUNHUO_TRY(tx.query_one(
      "SELECT id, operator_account, action, confirmed_at, digest, quoted_total_fen FROM "
      "proxy_confirmations WHERE household_id = ? ORDER BY id DESC LIMIT 1",
      {household.id.value}));
  if (!latest || latest->i64(1) != op.id || latest->str(2) != to_string(action) ||
      latest->opt_i64(3))
    return Check{.outcome = Confirmed::not_asked, .total_fen = std::nullopt};
  const auto check = CUNHUO_TRY(
      msg::verify_code(tx, household.phone, msg::CodePurpose::proxy_confirm, code, ctx.clock));
  if (check != msg::CodeCheck::accepted)
    return Check{.outcome = Confirmed::wrong_code, .total_fen = std::nullopt};
  // The caller's transaction rolls back, so the code's row is back with one try less.
  if (latest->str(4) != digest)
    return Check{.outcome = Confirmed::mismatch, .total_fen = std::nullopt};
  CUNHUO_TRY(tx.exec("UPDATE proxy_confirmations SET confirmed_at = ? WHERE id = ?",
                     {ctx.clock.now_ms(), latest->i64(0)}));
  return Check{.outcome = Confirmed::yes, .total_fen = latest->opt_i64(5)};
}

// What a check that did not confirm answers.
Status refusal_of(Confirmed outcome, Kind action) {
  const std::string what(to_string(action));
  switch (outcome) {
    case Confirmed::yes: return {};
    case Confirmed::not_asked:
      return make_error(
          ErrorKind::conflict, "confirmation_not_requested",
          "ask the household to confirm this " + what + " first (POST /api/v1/proxy/confirmations)",
          "confirmation_code");
    case Confirmed::mismatch:
      return make_error(
          ErrorKind::unprocessable, "confirmation_mismatch",
          "this " + what + " is not the one the household confirmed; ask them to confirm it", what);
    case Confirmed::wrong_code: break;
  }
  return make_error(ErrorKind::forbidden, "invalid_confirmation_code",
                    "the code is wrong, expired or used up", "confirmation_code");
}

// The code is checked in the transaction that writes what it confirms, so a write that fails
// (out of stock, a campaign's limit) leaves the code for the next try. A wrong code, or the
// right one for other content, rolls that transaction back; its try is then counted on its
// own, so guessing (or trying other content) still runs out.
Status count_try(Context& ctx, const mk::Household& household) {
  return ctx.db.write([&](db::Session& tx) {
    return msg::spend_code_try(tx, household.phone, msg::CodePurpose::proxy_confirm);
  });
}

struct ProxyCall {
  std::int64_t household_id = 0;
  std::string code;
};

Result<ProxyCall> read_proxy_call(const FieldReader& body, const char* what) {
  CUNHUO_CHECK(body.only({"household_id", "confirmation_code", what}));
  return ProxyCall{.household_id = CUNHUO_TRY(body.integer("household_id", 1, INT64_MAX)),
                   .code = CUNHUO_TRY(body.string("confirmation_code", kMaxCodeBytes))};
}

schema::Schema proxy_schema(const char* what, const schema::Schema& object_schema) {
  using namespace schema;
  return object(
      {required("household_id", id()),
       required("confirmation_code",
                text(kMaxCodeBytes).described("the code the household's phone got")),
       required(what, object_schema.described("exactly what the confirmation was asked for"))});
}

// ---- an order for the villager ----

Result<Response> proxy_order(Context& ctx, const Call& call) {
  const Account& op = call.caller();
  const Request& req = call.request;
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const ProxyCall p = CUNHUO_TRY(read_proxy_call(body, "order"));
  // The operator buys (and pays at the counter); the household is who it is for.
  auto cart = std::make_shared<mk::CheckoutRequest>(
      CUNHUO_TRY(read_cart(CUNHUO_TRY(body.object("order")), op.id)));
  if (!req.header("idempotency-key"))  // before the code is used up
    return make_error(ErrorKind::invalid, "missing_idempotency_key",
                      "send an Idempotency-Key header", "Idempotency-Key");
  if (auto replay = CUNHUO_TRY(ctx.idempotency.replay(req, op.id))) return std::move(*replay);
  const auto household = CUNHUO_TRY(
      ctx.db.read([&](db::Session& s) { return household_at_station(s, op, p.household_id); }));
  const std::int64_t operator_id = op.id;
  auto spend_try = std::make_shared<bool>(false);
  auto work = [ctx, cart, household, operator_id, op, code = p.code,
               spend_try](db::Session& tx) mutable -> Result<Response> {
    const auto check =
        CUNHUO_TRY(check_code(ctx, tx, op, household, Kind::order, code, mk::order_digest(*cart)));
    *spend_try = check.costs_a_try();
    CUNHUO_CHECK(refusal_of(check.outcome, Kind::order));
    auto checkout = CUNHUO_TRY(mk::place_checkout(tx, *cart, ctx.clock, ctx.payment_window));
    // The villager was told a total; a price changed since is theirs to confirm anew.
    if (check.total_fen != checkout.total.fen())
      return make_error(ErrorKind::conflict, "confirmation_price_changed",
                        "the price changed since the household confirmed; ask them again", "order");
    const auto villager = CUNHUO_TRY(villager_account(tx, household.id));
    for (const auto& order : checkout.orders)
      CUNHUO_CHECK(mk::record_proxy_action(tx,
                                           {.id = 0,
                                            .kind = Kind::order,
                                            .object_id = order.id.value,
                                            .operator_account = operator_id,
                                            .household = household.id,
                                            .villager_account = villager,
                                            .at_ms = 0},
                                           ctx.clock));
    return checkout_answer(checkout);
  };
  Response answer = ctx.idempotency.run(req, op.id, work);
  if (*spend_try) CUNHUO_CHECK(count_try(ctx, household));
  return answer;
}

// ---- a listing for the villager ----

Result<Response> proxy_listing(Context& ctx, const Call& call) {
  const Account& op = call.caller();
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const ProxyCall p = CUNHUO_TRY(read_proxy_call(body, "listing"));
  const ListingFor listing = CUNHUO_TRY(read_listing_for(CUNHUO_TRY(body.object("listing"))));
  struct Target {
    mk::Household household;
    mk::ShopId shop;
  };
  const auto target = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<Target> {
    auto household = CUNHUO_TRY(household_at_station(s, op, p.household_id));
    const auto shop = CUNHUO_TRY(shop_for_listing(s, household, listing));
    return Target{std::move(household), shop};
  }));
  bool spend_try = false;
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto check = CUNHUO_TRY(check_code(ctx, tx, op, target.household, Kind::listing, p.code,
                                             mk::listing_digest(listing.fields)));
    spend_try = check.costs_a_try();
    CUNHUO_CHECK(refusal_of(check.outcome, Kind::listing));
    const auto id = CUNHUO_TRY(mk::create_product(tx, target.shop, listing.fields, ctx.clock));
    CUNHUO_CHECK(mk::record_proxy_action(
        tx,
        {.id = 0,
         .kind = Kind::listing,
         .object_id = id.value,
         .operator_account = op.id,
         .household = target.household.id,
         .villager_account = CUNHUO_TRY(villager_account(tx, target.household.id)),
         .at_ms = 0},
        ctx.clock));
    auto product = CUNHUO_TRY(mk::find_product(tx, id));
    return product_answer(tx, *product, 201);
  });
  if (spend_try) CUNHUO_CHECK(count_try(ctx, target.household));
  return answer;
}

// ---- what was done by proxy ----

schema::Schema proxy_actions_schema() {
  using namespace schema;
  return object(
      {required("household_id", id()),
       required("actions",
                array(object({required("id", id()), required("kind", choice({"order", "listing"})),
                              required("object_id", id()), required("operator_account", id()),
                              optional("villager_account", id()), required("at", utc_time())})))});
}

Result<Response> list_proxy_actions(Context& ctx, const Call& call) {
  const Account& reader = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(call.request));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, reader, id))) return no_such("household");
    JsonWriter w;
    w.begin_object().field("household_id", id).key("actions").begin_array();
    for (const auto& a : CUNHUO_TRY(mk::proxy_actions_of(s, mk::HouseholdId{id}))) {
      w.begin_object().field("id", a.id).field("kind", mk::to_string(a.kind));
      w.field("object_id", a.object_id).field("operator_account", a.operator_account);
      if (a.villager_account) w.field("villager_account", *a.villager_account);
      w.field("at", format_utc(a.at_ms)).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

}  // namespace

std::span<const db::Migration> proxy_selling_migrations() { return kMigrations; }

void add_proxy_selling_routes(RouteTable& table, ProxySellingContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  const std::vector<std::string> confirmation_errors = {
      "unknown_household", "outside_your_area", "confirmation_not_requested",
      "invalid_confirmation_code", "confirmation_mismatch"};
  table.add({.method = "POST",
             .pattern = "/api/v1/proxy/confirmations",
             .access = only({Role::station_operator}),
             .body = Body::json,
             .request_schema = confirmation_request_schema(),
             .response_schema = confirmation_sent_schema(),
             .success_status = 202,
             .errors = {"invalid_action", "unknown_household", "outside_your_area",
                        "no_household_shop", "not_the_households_shop", "not_the_household",
                        "unknown_product", "out_of_stock", "not_in_campaign",
                        "campaign_not_running", "over_buyer_limit", "too_many_requests"},
             .summary = "Send the household's card phone a code to confirm this very order or "
                        "listing (what it is, and an order's total, in the text)",
             .handler = bind(ask_confirmation)});
  std::vector<std::string> order_errors = confirmation_errors;
  order_errors.insert(
      order_errors.end(),
      {"not_in_campaign", "campaign_not_running", "over_buyer_limit", "campaign_sold_out",
       "shop_not_opted_in", "out_of_stock", "confirmation_price_changed"});
  table.add({.method = "POST",
             .pattern = "/api/v1/proxy/orders",
             .access = only({Role::station_operator}),
             .body = Body::json,
             .request_schema = proxy_schema("order", cart_schema()),
             .response_schema = checkout_answer_schema(),
             .success_status = 201,
             .errors = order_errors,
             .summary = "Order for a villager, with the code their phone got; kept by proxy",
             .handler = bind(proxy_order),
             .idempotent_post = true});
  std::vector<std::string> listing_errors = confirmation_errors;
  listing_errors.insert(listing_errors.end(),
                        {"no_household_shop", "not_the_households_shop", "not_the_household"});
  table.add({.method = "POST",
             .pattern = "/api/v1/proxy/products",
             .access = only({Role::station_operator}),
             .body = Body::json,
             .request_schema = proxy_schema("listing", new_listing_schema()),
             .response_schema = product_answer_schema(),
             .success_status = 201,
             .errors = listing_errors,
             .summary = "List a villager's produce in their own shop, with the code their phone "
                        "got; kept by proxy",
             .handler = bind(proxy_listing)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/proxy-actions",
             .access = signed_in(),
             .response_schema = proxy_actions_schema(),
             .summary = "Orders and listings a station made for the household (the household, "
                        "its office, admin)",
             .handler = bind(list_proxy_actions)});
}

}  // namespace cunhuo::storefront
