#include "storefront/shop_routes.hpp"

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/shops.hpp"
#include "marketplace/village_profiles.hpp"
#include "storefront/membership_moves.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

constexpr std::size_t kMaxFlagChars = 5;  // "true" or "false"

struct Context {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  const CursorSeal& cursors;
};

Result<FieldReader> body_of(const Request& req, Json& doc) {
  doc = CUNHUO_TRY(Json::parse(req.body));
  return FieldReader::root(doc);
}

schema::Schema shop_schema() {
  using namespace schema;
  const Schema listing =
      object({required("product_id", id()), required("title", text()), required("unit", text()),
              required("price_fen", fen()), required("certified", boolean())});
  const Schema certified = object({required("product_id", id()), required("title", text()),
                                   required("certificate_no", text())});
  return object(
      {required("id", id()), required("name", text()),
       required("kind", choice({"household", "cooperative"})),
       required("status", choice({"active", "pending", "declined"})),
       required("village_code", text()), required("story", text()), optional("photo_id", id()),
       required("members", array(object({required("head_name", text())}))),
       required("listings", array(listing)), required("certified_products", array(certified))});
}

// A shop's public page: heads of member households masked, listings on sale.
Result<std::string> shop_page(db::Session& s, const mk::Shop& shop) {
  JsonWriter w;
  w.begin_object().field("id", shop.id.value).field("name", shop.name);
  w.field("kind", mk::to_string(shop.kind)).field("status", mk::to_string(shop.status));
  w.field("village_code", shop.village_code).field("story", shop.story);
  if (shop.photo_id) w.field("photo_id", *shop.photo_id);
  w.key("members").begin_array();
  for (auto member : shop.members) {
    auto h = CUNHUO_TRY(mk::find_household(s, member));
    if (h) w.begin_object().field("head_name", mask_name(h->head_name)).end_object();
  }
  w.end_array();
  const auto listings = CUNHUO_TRY(mk::listings_on_sale(s, shop.id));
  std::vector<mk::ProductId> ids;
  for (const auto& l : listings) ids.push_back(mk::ProductId{l.product_id});
  const auto certificates = CUNHUO_TRY(mk::certificates_of(s, ids));
  w.key("listings").begin_array();
  for (const auto& l : listings)
    w.begin_object()
        .field("product_id", l.product_id)
        .field("title", l.title)
        .field("unit", l.unit)
        .field("price_fen", l.price.fen())
        .field("certified", certificates.contains(l.product_id))
        .end_object();
  w.end_array().key("certified_products").begin_array();
  for (const auto& l : listings)
    if (auto c = certificates.find(l.product_id); c != certificates.end())
      w.begin_object()
          .field("product_id", l.product_id)
          .field("title", l.title)
          .field("certificate_no", c->second.certificate_no)
          .end_object();
  w.end_array().end_object();
  return w.take();
}

Result<Response> page_of(db::Session& s, mk::ShopId id, int status) {
  auto shop = CUNHUO_TRY(mk::find_shop(s, id));
  if (!shop) return no_such("shop");
  return Response::json(status, CUNHUO_TRY(shop_page(s, *shop)));
}

schema::Schema new_shop_schema() {
  using namespace schema;
  return object({required("name", text(mk::kMaxShopNameBytes, 1)),
                 optional("story", text(mk::kMaxShopStoryBytes))});
}

Result<Response> open_shop(Context& ctx, const Call& call) {
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  const std::string name = CUNHUO_TRY(body.string("name", mk::kMaxShopNameBytes));
  const std::string story =
      CUNHUO_TRY(body.optional_string("story", mk::kMaxShopStoryBytes)).value_or("");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto household = CUNHUO_TRY(own_household(tx, call.caller()));
    const auto id = CUNHUO_TRY(mk::open_household_shop(tx, household, name, story, ctx.clock));
    return page_of(tx, id, 201);
  });
}

schema::Schema new_cooperative_schema() {
  using namespace schema;
  return object({required("name", text(mk::kMaxShopNameBytes, 1)),
                 required("village_code", text(kVillageCodeDigits)),
                 optional("story", text(mk::kMaxShopStoryBytes))});
}

Result<Response> propose(Context& ctx, const Call& call) {
  const Account& a = call.caller();
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  mk::NewCooperative c{
      .name = CUNHUO_TRY(body.string("name", mk::kMaxShopNameBytes)),
      .village_code = CUNHUO_TRY(body.string("village_code", kVillageCodeDigits)),
      .story = CUNHUO_TRY(body.optional_string("story", mk::kMaxShopStoryBytes)).value_or(""),
      .manager_account = a.id};
  if (a.shop_id)
    return make_error(ErrorKind::conflict, "already_manages_a_shop",
                      "your account manages a shop already");
  if (!region_within(c.village_code, a.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "this village is outside your area", "village_code");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto id = CUNHUO_TRY(mk::propose_cooperative(tx, c, ctx.clock));
    return page_of(tx, id, 201);
  });
}

schema::Schema decision_schema() {
  using namespace schema;
  return object(
      {required("approve", boolean()), required("reason", text(mk::kMaxDecisionReasonBytes, 1))});
}

// The county's poverty-alleviation office decides: it keeps the registry of the households a
// cooperative will pay, and a cooperative's products count as poverty-alleviation products
// by the households it links; the e-commerce centre runs the shops' logistics, not this.
Result<Response> decide(Context& ctx, const Call& call) {
  const Account& a = call.caller();
  const mk::ShopId id{CUNHUO_TRY(path_id(call.request))};
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  const bool approve = CUNHUO_TRY(body.boolean("approve"));
  const std::string reason = CUNHUO_TRY(body.string("reason", mk::kMaxDecisionReasonBytes));
  if (a.region_code.size() != kCountyCodeDigits)
    return make_error(ErrorKind::forbidden, "county_office_only",
                      "a county office decides on a cooperative");
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto shop = CUNHUO_TRY(mk::find_shop(tx, id));
    if (!shop || shop->kind != mk::ShopKind::cooperative ||
        !region_within(shop->village_code, a.region_code))
      return no_such("cooperative");
    auto decided = CUNHUO_TRY(mk::decide_cooperative(tx, id, approve, reason));
    if (decided.status == mk::ShopStatus::active && decided.manager_account) {
      const std::int64_t manager = *decided.manager_account;
      CUNHUO_CHECK(Auth::assign_shop(tx, manager, id.value));
      CUNHUO_CHECK(Auth::account_changed(tx, manager, ctx.clock));  // every process, at once
    }
    return page_of(tx, id, 200);
  });
  return answer;
}

Result<Response> get_shop(Context& ctx, const Call& call) {
  const mk::ShopId id{CUNHUO_TRY(path_id(call.request))};
  return ctx.db.read([&](db::Session& s) { return page_of(s, id, 200); });
}

schema::Schema shop_list_schema() {
  using namespace schema;
  const Schema item =
      object({required("id", id()), required("name", text()),
              required("kind", choice({"household", "cooperative"})),
              required("village_code", text()), required("member_count", integer(0))});
  return object({required("items", array(item)), required("next_cursor", nullable(text()))});
}

Result<bool> flag_param(const Request& req, const char* name) {
  auto v = req.query_param(name);
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  return make_error(ErrorKind::invalid, "invalid_type", "true or false", name);
}

Result<Response> list(Context& ctx, const Call& call) {
  const Request& req = call.request;
  mk::ShopQuery q;
  q.region_code = req.query_param("village").value_or("");
  if (!q.region_code.empty()) CUNHUO_TRY(region_level(q.region_code, "village"));
  q.taobao_villages = CUNHUO_TRY(flag_param(req, "taobao_village"));
  const std::string list_name =
      "shops|" + q.region_code + "|" + (q.taobao_villages ? "taobao" : "all");
  auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list_name, 1));
  q.limit = page.limit + 1;  // one more says whether another page follows
  if (page.after) q.after_id = page.after->front();
  auto shops = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::list_shops(s, q); }));
  const bool more = static_cast<std::int64_t>(shops.size()) > page.limit;
  if (more) shops.pop_back();
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& shop : shops)
    w.begin_object()
        .field("id", shop.id.value)
        .field("name", shop.name)
        .field("kind", mk::to_string(shop.kind))
        .field("village_code", shop.village_code)
        .field("member_count", static_cast<std::int64_t>(shop.members.size()))
        .end_object();
  w.end_array().key("next_cursor");
  if (more)
    w.value(ctx.cursors.seal(list_name, {shops.back().id.value}));
  else
    w.null();
  w.end_object();
  return Response::json(200, w.take());
}

schema::Schema village_schema() {
  using namespace schema;
  return object({required("village_code", text()), required("shops", integer(0)),
                 required("active_shops", integer(0)), required("taobao_village", boolean()),
                 required("taobao_village_shops", integer(0)), optional("story", text()),
                 optional("photo_id", id())});
}

Result<Response> village(Context& ctx, const Call& call) {
  const std::string code = call.request.params.at("code");
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    const auto v = CUNHUO_TRY(mk::village_shops(s, code));
    const auto profile = CUNHUO_TRY(mk::find_village_profile(s, v.village_code));
    JsonWriter w;
    w.begin_object().field("village_code", v.village_code).field("shops", v.shops);
    w.field("active_shops", v.active_shops).field("taobao_village", v.taobao_village);
    w.field("taobao_village_shops", mk::kTaobaoVillageShops);
    if (profile) w.field("story", profile->story);
    if (profile && profile->photo) w.field("photo_id", profile->photo->value);
    w.end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema village_profile_schema() {
  using namespace schema;
  return object({required("story", text(mk::kMaxVillageStoryBytes)), optional("photo_id", id())});
}

// The centre or office of the village's area tells its story to buyers.
Result<Response> set_village_profile(Context& ctx, const Call& call) {
  const std::string code = call.request.params.at("code");
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  CUNHUO_CHECK(body.only({"story", "photo_id"}));
  mk::VillageProfile profile{.village_code = code,
                             .story = CUNHUO_TRY(body.string("story", mk::kMaxVillageStoryBytes))};
  if (auto photo = CUNHUO_TRY(body.optional_integer("photo_id", 1, INT64_MAX)))
    profile.photo = mk::PhotoId{*photo};
  CUNHUO_TRY(region_level(code, "village_code"));
  const Account& a = call.caller();
  if (a.role != Role::admin && !region_within(code, a.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "this village is outside your area", "village_code");
  auto saved = CUNHUO_TRY(ctx.db.write(
      [&](db::Session& tx) { return mk::set_village_profile(tx, profile, ctx.clock); }));
  JsonWriter w;
  w.begin_object().field("story", saved.story);
  if (saved.photo) w.field("photo_id", saved.photo->value);
  w.end_object();
  return Response::json(200, w.take());
}

schema::Schema request_schema() {
  using namespace schema;
  return object({required("id", id()), required("shop_id", id()), required("household_id", id()),
                 required("direction", choice({"invite", "ask"})),
                 required("status", choice({"pending", "accepted", "declined"}))});
}

Response request_answer(const mk::MembershipRequest& r, int status) {
  JsonWriter w;
  w.begin_object().field("id", r.id.value).field("shop_id", r.shop.value);
  w.field("household_id", r.household.value).field("direction", mk::to_string(r.direction));
  w.field("status", mk::to_string(r.status)).end_object();
  return Response::json(status, w.take());
}

// A manager invites a household of the shop's county; a farmer asks for their own household.
Result<Response> ask_or_invite(Context& ctx, const Call& call) {
  const mk::ShopId shop_id{CUNHUO_TRY(path_id(call.request))};
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  const auto named = CUNHUO_TRY(body.optional_integer("household_id", 1, INT64_MAX));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    return request_answer(
        CUNHUO_TRY(ask_or_invite_as(tx, call.caller(), shop_id, named, ctx.clock)), 201);
  });
}

// The side that did not ask answers: the household's farmer an invitation, the shop's manager
// a household's request.
Result<Response> answer(Context& ctx, const Call& call) {
  const mk::MembershipRequestId id{CUNHUO_TRY(path_id(call.request))};
  Json doc;
  auto body = CUNHUO_TRY(body_of(call.request, doc));
  const bool accept = CUNHUO_TRY(body.boolean("accept"));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    return request_answer(CUNHUO_TRY(answer_request_as(tx, call.caller(), id, accept, ctx.clock)),
                          200);
  });
}

Result<Response> leave(Context& ctx, const Call& call) {
  const mk::ShopId shop_id{CUNHUO_TRY(path_id(call.request))};
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const auto household = CUNHUO_TRY(own_household(tx, call.caller()));
    CUNHUO_CHECK(mk::leave_shop(tx, shop_id, household));
    return page_of(tx, shop_id, 200);
  });
}

}  // namespace

void add_shop_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth,
                     const CursorSeal& cursors) {
  Context ctx{db, clock, auth, cursors};
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  using schema::boolean;
  using schema::object;
  using schema::optional;
  using schema::required;
  table.add({.method = "POST",
             .pattern = "/api/v1/shops",
             .access = only({Role::farmer}),
             .body = Body::json,
             .request_schema = new_shop_schema(),
             .response_schema = shop_schema(),
             .success_status = 201,
             .errors = {"household_not_confirmed", "household_shop_exists", "invalid_name"},
             .summary = "Open your household's own shop (farmer)",
             .handler = bind(open_shop)});
  table.add({.method = "POST",
             .pattern = "/api/v1/cooperatives",
             .access = only({Role::shop_manager}),
             .body = Body::json,
             .request_schema = new_cooperative_schema(),
             .response_schema = shop_schema(),
             .success_status = 201,
             .errors = {"already_manages_a_shop", "outside_your_area", "cooperative_pending",
                        "invalid_region_code"},
             .summary = "Propose a cooperative; it opens when its county's office approves",
             .handler = bind(propose)});
  table.add({.method = "POST",
             .pattern = "/api/v1/cooperatives/:id/decision",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = decision_schema(),
             .response_schema = shop_schema(),
             .errors = {"county_office_only", "already_decided"},
             .summary = "Approve or decline a cooperative of your county (county office)",
             .handler = bind(decide)});
  table.add({.method = "GET",
             .pattern = "/api/v1/shops",
             .access = anyone(),
             .response_schema = shop_list_schema(),
             .query = {{.name = "village", .description = "a village, township or county code"},
                       {.name = "taobao_village",
                        .type = "boolean",
                        .description = "only shops in Taobao villages"},
                       {.name = "cursor", .description = "from the previous page"},
                       {.name = "limit", .type = "integer", .description = "1 to 100"}},
             .errors = {"invalid_cursor", "invalid_region_code"},
             .summary = "Approved shops, by place and in Taobao villages",
             .handler = bind(list)});
  table.add({.method = "GET",
             .pattern = "/api/v1/shops/:id",
             .access = anyone(),
             .response_schema = shop_schema(),
             .summary = "A shop's public page: story, members masked, listings, certified products",
             .handler = bind(get_shop)});
  table.add({.method = "GET",
             .pattern = "/api/v1/villages/:code",
             .access = anyone(),
             .response_schema = village_schema(),
             .errors = {"invalid_region_code"},
             .summary = "A village's shops, active shops and whether it is a Taobao village",
             .handler = bind(village)});
  table.add({.method = "PUT",
             .pattern = "/api/v1/villages/:code/profile",
             .access = only({Role::county_centre, Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = village_profile_schema(),
             .response_schema = village_profile_schema(),
             .errors = {"outside_your_area", "invalid_region_code", "photo_not_of_village"},
             .summary = "Tell a village's story to buyers, with a photo of one of its shops' "
                        "listings (the county centre or poverty office of its area)",
             .handler = bind(set_village_profile)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/shops/:id/membership-requests",
       .access = only({Role::farmer, Role::shop_manager}),
       .body = Body::json,
       .request_schema = object({optional("household_id", schema::id())}),
       .response_schema = request_schema(),
       .success_status = 201,
       .errors = {"household_not_confirmed", "not_your_household", "not_a_cooperative",
                  "shop_declined", "already_a_member", "request_pending", "unknown_household"},
       .summary = "A shop invites a household, or a household asks to join",
       .handler = bind(ask_or_invite)});
  table.add({.method = "POST",
             .pattern = "/api/v1/membership-requests/:id/answer",
             .access = only({Role::farmer, Role::shop_manager}),
             .body = Body::json,
             .request_schema = object({required("accept", boolean())}),
             .response_schema = request_schema(),
             .errors = {"household_consent_required", "shop_consent_required", "request_answered"},
             .summary = "The household accepts an invitation, or the shop a household's request",
             .handler = bind(answer)});
  table.add({.method = "POST",
             .pattern = "/api/v1/shops/:id/leave",
             .access = only({Role::farmer}),
             .response_schema = shop_schema(),
             .errors = {"household_not_confirmed", "not_a_member", "own_household_shop"},
             .summary = "Your household leaves a cooperative (its sold orders keep their shares)",
             .handler = bind(leave)});
}

}  // namespace cunhuo::storefront
