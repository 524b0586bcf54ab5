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

// ---- asking for a confirmation ----

schema::Schema confirmation_request_schema() {
  using namespace schema;
  return object({required("household_id", id()),
                 required("action", name_among(kMaxActionBytes, {"order", "listing"}))});
}

schema::Schema confirmation_sent_schema() {
  using namespace schema;
  return object({required("confirmation_id", id()), required("household_id", id()),
                 required("action", choice({"order", "listing"})),
                 required("sent_to", text().described("the card's phone, masked")),
                 required("expires_at", utc_time())});
}

struct Sent {
  std::int64_t id = 0, expires_at_ms = 0;
  std::string phone;
  std::optional<std::int64_t> wait_ms;  // set when the phone had a code too recently
};

Result<Sent> send_confirmation(Context& ctx, db::Session& tx, const Account& op,
                               std::int64_t household_id, Kind action) {
  const auto household = CUNHUO_TRY(household_at_station(tx, op, household_id));
  Sent sent{.id = 0, .expires_at_ms = 0, .phone = household.phone, .wait_ms = std::nullopt};
  if ((sent.wait_ms = CUNHUO_TRY(msg::take_code_send(tx, household.phone, ctx.clock)))) return sent;
  sent.expires_at_ms =
      CUNHUO_TRY(msg::issue_code(tx, household.phone, msg::CodePurpose::proxy_confirm, ctx.clock));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO proxy_confirmations (household_id, operator_account, action, requested_at, "
      "expires_at) VALUES (?, ?, ?, ?, ?)",
      {household_id, op.id, to_string(action), ctx.clock.now_ms(), sent.expires_at_ms}));
  sent.id = CUNHUO_TRY(tx.last_insert_id());
  return sent;
}

Result<Response> ask_confirmation(Context& ctx, const Call& call) {
  const Account& op = call.caller();
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"household_id", "action"}));
  const std::int64_t household = CUNHUO_TRY(body.integer("household_id", 1, INT64_MAX));
  const Kind action = CUNHUO_TRY(parse_action(CUNHUO_TRY(body.string("action", kMaxActionBytes))));
  const Sent sent = CUNHUO_TRY(ctx.db.write(
      [&](db::Session& tx) { return send_confirmation(ctx, tx, op, household, action); }));
  if (sent.wait_ms)
    return too_many_requests((*sent.wait_ms + 999) / 1000,
                             "a code was sent to this phone recently");
  if (ctx.sms != nullptr) ctx.sms->wake();
  JsonWriter w;
  w.begin_object().field("confirmation_id", sent.id).field("household_id", household);
  w.field("action", to_string(action)).field("sent_to", mask_phone(sent.phone));
  w.field("expires_at", format_utc(sent.expires_at_ms)).end_object();
  return Response::json(202, w.take());
}

// ---- checking the villager's code ----

enum class Confirmed { yes, not_asked, wrong_code };

// The household's latest confirmation must be this operator's, for this action, unused; the
// code on the card's phone must be right, and is then used up.
Result<Confirmed> check_code(Context& ctx, db::Session& tx, const Account& op,
                             const mk::Household& household, Kind action, const std::string& code) {
  auto latest = CUNHUO_TRY(
      tx.query_one("SELECT id, operator_account, action, confirmed_at FROM proxy_confirmations "
                   "WHERE household_id = ? ORDER BY id DESC LIMIT 1",
                   {household.id.value}));
  if (!latest || latest->i64(1) != op.id || latest->str(2) != to_string(action) ||
      latest->opt_i64(3))
    return Confirmed::not_asked;
  const auto check = CUNHUO_TRY(
      msg::verify_code(tx, household.phone, msg::CodePurpose::proxy_confirm, code, ctx.clock));
  if (check != msg::CodeCheck::accepted) return Confirmed::wrong_code;
  CUNHUO_TRY(tx.exec("UPDATE proxy_confirmations SET confirmed_at = ? WHERE id = ?",
                     {ctx.clock.now_ms(), latest->i64(0)}));
  return Confirmed::yes;
}

// What a check that did not confirm answers.
Status refusal_of(Confirmed outcome, Kind action) {
  switch (outcome) {
    case Confirmed::yes: return {};
    case Confirmed::not_asked:
      return make_error(ErrorKind::conflict, "confirmation_not_requested",
                        "ask the household to confirm this " + std::string(to_string(action)) +
                            " first (POST /api/v1/proxy/confirmations)",
                        "confirmation_code");
    case Confirmed::wrong_code: break;
  }
  return make_error(ErrorKind::forbidden, "invalid_confirmation_code",
                    "the code is wrong, expired or used up", "confirmation_code");
}

// The code is checked in the transaction that writes what it confirms, so a write that fails
// (out of stock, a campaign's limit) leaves the code for the next try. A wrong code rolls
// that transaction back; its try is then counted on its own, so guessing still runs out.
Status count_wrong_try(Context& ctx, const mk::Household& household, const std::string& code) {
  return ctx.db.write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(
        msg::verify_code(tx, household.phone, msg::CodePurpose::proxy_confirm, code, ctx.clock));
    return {};
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
  return object({required("household_id", id()),
                 required("confirmation_code",
                          text(kMaxCodeBytes).described("the code the household's phone got")),
                 required(what, object_schema)});
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
  auto wrong_code = std::make_shared<bool>(false);
  auto work = [ctx, cart, household, operator_id, op, code = p.code,
               wrong_code](db::Session& tx) mutable -> Result<Response> {
    const auto outcome = CUNHUO_TRY(check_code(ctx, tx, op, household, Kind::order, code));
    *wrong_code = outcome == Confirmed::wrong_code;
    CUNHUO_CHECK(refusal_of(outcome, Kind::order));
    auto checkout = CUNHUO_TRY(mk::place_checkout(tx, *cart, ctx.clock, ctx.payment_window));
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
  if (*wrong_code) CUNHUO_CHECK(count_wrong_try(ctx, household, p.code));
  return answer;
}

// ---- a listing for the villager ----

// A listing made for a household is its own: in its own shop, produced by it alone.
Status listing_is_the_households(const mk::ListingFields& f, std::optional<std::int64_t> shop,
                                 mk::ShopId own_shop, mk::HouseholdId household) {
  if (shop && *shop != own_shop.value)
    return make_error(ErrorKind::invalid, "not_the_households_shop",
                      "a listing made for a household goes into its own shop", "listing.shop_id");
  for (const auto& producer : f.producers.value_or(std::vector<mk::ProducerShare>{}))
    if (producer.household != household)
      return make_error(ErrorKind::invalid, "not_the_household",
                        "a listing made for a household is produced by that household",
                        "listing.producers");
  return {};
}

Result<Response> proxy_listing(Context& ctx, const Call& call) {
  const Account& op = call.caller();
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const ProxyCall p = CUNHUO_TRY(read_proxy_call(body, "listing"));
  const auto listing = CUNHUO_TRY(body.object("listing"));
  const auto fields = CUNHUO_TRY(read_listing(listing));
  const auto shop_field = CUNHUO_TRY(listing.optional_integer("shop_id", 1, INT64_MAX));
  struct Target {
    mk::Household household;
    mk::ShopId shop;
  };
  const auto target = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<Target> {
    auto household = CUNHUO_TRY(household_at_station(s, op, p.household_id));
    auto shop = CUNHUO_TRY(mk::household_shop(s, household.id));
    if (!shop)
      return make_error(ErrorKind::conflict, "no_household_shop",
                        "the household has no shop of its own to list in", "household_id");
    return Target{std::move(household), *shop};
  }));
  CUNHUO_CHECK(listing_is_the_households(fields, shop_field, target.shop, target.household.id));
  bool wrong_code = false;
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto outcome =
        CUNHUO_TRY(check_code(ctx, tx, op, target.household, Kind::listing, p.code));
    wrong_code = outcome == Confirmed::wrong_code;
    CUNHUO_CHECK(refusal_of(outcome, Kind::listing));
    const auto id = CUNHUO_TRY(mk::create_product(tx, target.shop, fields, ctx.clock));
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
  if (wrong_code) CUNHUO_CHECK(count_wrong_try(ctx, target.household, p.code));
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
  const std::vector<std::string> confirmation_errors = {"unknown_household", "outside_your_area",
                                                        "confirmation_not_requested",
                                                        "invalid_confirmation_code"};
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/proxy/confirmations",
       .access = only({Role::station_operator}),
       .body = Body::json,
       .request_schema = confirmation_request_schema(),
       .response_schema = confirmation_sent_schema(),
       .success_status = 202,
       .errors = {"invalid_action", "unknown_household", "outside_your_area", "too_many_requests"},
       .summary = "Send the household's card phone a code to confirm an order or listing "
                  "the station makes for it",
       .handler = bind(ask_confirmation)});
  std::vector<std::string> order_errors = confirmation_errors;
  order_errors.insert(order_errors.end(),
                      {"not_in_campaign", "campaign_not_running", "over_buyer_limit",
                       "campaign_sold_out", "shop_not_opted_in", "out_of_stock"});
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
