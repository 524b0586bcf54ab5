#include "storefront/marketplace_routes.hpp"

#include <spdlog/spdlog.h>

#include "storefront/order_moves.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>

#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/organisations.hpp"
#include "marketplace/photos.hpp"
#include "storefront/checkout_flow.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

// Limits of fields these routes read that the marketplace modules do not name; the handler
// reads with each and the operation's schema publishes it.
constexpr std::size_t kMaxCampaignNameBytes = 200;
constexpr std::size_t kMaxCampaignKindBytes = 40;
constexpr std::size_t kMaxCampaignEntries = 10'000;  // listings, or villages, of one campaign
constexpr std::size_t kMaxRecipientNameBytes = 100;
constexpr std::size_t kMaxPhoneBytes = 20;
constexpr std::size_t kMaxAddressBytes = 500;
constexpr std::size_t kMaxOrderStatusBytes = 20;
constexpr std::size_t kMaxCorrectionReasonBytes = 500;  // order_events.reason holds this much
constexpr std::size_t kMaxOrganisationNameBytes = 200;
constexpr std::size_t kMaxOrganisationKindBytes = 20;
constexpr std::size_t kMaxPairedVillages = 1000;
constexpr std::size_t kMaxOrganisationBuyers = 1000;
constexpr std::size_t kMaxCertificationTextBytes = 1000;  // a benefit mechanism, note or reason
constexpr std::size_t kMaxCertificateNoBytes = 60;
constexpr std::size_t kMaxIssuingOfficeBytes = 200;

// The shop a farmer lists into when the request names none: their household's own shop.
Result<mk::ShopId> default_shop(db::Session& s, const Account& a) {
  if (a.role == Role::shop_manager && a.shop_id) return mk::ShopId{*a.shop_id};
  if (a.role == Role::farmer && a.household_id) {
    auto row =
        CUNHUO_TRY(s.query_one("SELECT s.id FROM shops s JOIN shop_members m ON m.shop_id = s.id "
                               "WHERE s.kind = 'household' "
                               "AND m.household_id = ? ORDER BY s.id LIMIT 1",
                               {*a.household_id}));
    if (row) return mk::ShopId{row->i64(0)};
  }
  return make_error(ErrorKind::invalid, "missing_field", "name the shop to list in", "shop_id");
}

// The JSON Schema of a listing's fields, from the catalog's own limits; `required` lists the
// fields a new listing must name.
schema::Schema listing_schema(bool for_new_listing) {
  using namespace schema;
  auto field = [for_new_listing](std::string name, Schema s, bool needed_when_new) {
    return needed_when_new && for_new_listing ? required(std::move(name), std::move(s))
                                              : optional(std::move(name), std::move(s));
  };
  const Schema producer =
      object({required("household_id", id()), required("share_bps", integer())});
  return object({
      field("shop_id", integer(), false),
      field("title", text(mk::kMaxTitleBytes), true),
      field("category", text(mk::kMaxCategoryBytes), true),
      field("unit", text().described("jin, kg, box or piece"), true),
      field("price_fen", integer(1, mk::kMaxPriceFen), true),
      field("stock", integer(0, mk::kMaxStock), true),
      field("temperature_class", text().described("ambient, chilled or frozen"), true),
      field("shelf_life_days", integer(1, mk::kMaxShelfLifeDays), true),
      field("harvest_date", text(mk::kDateBytes), false),
      field("lot", text(mk::kMaxLotBytes), false),
      field("origin_code", text(kVillageCodeDigits), true),
      field("origin_name", text(mk::kMaxOriginNameBytes), false),
      field("description", text(mk::kMaxDescriptionBytes), false),
      field("active", boolean(), false),
      field("producers", array(producer, mk::kMaxProducers), true),
  });
}

Result<mk::ListingFields> listing_fields(const FieldReader& body) {
  CUNHUO_CHECK(body.only({"shop_id", "title", "category", "unit", "price_fen", "stock",
                          "temperature_class", "shelf_life_days", "harvest_date", "lot",
                          "origin_code", "origin_name", "description", "producers", "active"}));
  mk::ListingFields f;
  f.title = CUNHUO_TRY(body.optional_string("title", mk::kMaxTitleBytes));
  f.category = CUNHUO_TRY(body.optional_string("category", mk::kMaxCategoryBytes));
  f.unit = CUNHUO_TRY(body.optional_string("unit", mk::kMaxUnitBytes));
  if (auto p =
          CUNHUO_TRY(body.optional_integer("price_fen", -1'000'000'000'000, 1'000'000'000'000)))
    f.price = Money::fen(*p);
  f.stock = CUNHUO_TRY(body.optional_integer("stock", -1'000'000'000'000, 1'000'000'000'000));
  if (auto t = CUNHUO_TRY(body.optional_string("temperature_class", 20)))
    f.temperature = CUNHUO_TRY(mk::parse_temperature_class(*t));
  if (auto d = CUNHUO_TRY(body.optional_integer("shelf_life_days", -100000, 100000)))
    f.shelf_life_days = static_cast<int>(*d);
  f.harvest_date = CUNHUO_TRY(body.optional_string("harvest_date", mk::kDateBytes));
  f.lot = CUNHUO_TRY(body.optional_string("lot", mk::kMaxLotBytes));
  f.origin_code = CUNHUO_TRY(body.optional_string("origin_code", kVillageCodeDigits));
  f.origin_name = CUNHUO_TRY(body.optional_string("origin_name", mk::kMaxOriginNameBytes));
  f.description = CUNHUO_TRY(body.optional_string("description", mk::kMaxDescriptionBytes));
  f.active = CUNHUO_TRY(body.optional_boolean("active"));
  if (body.has("producers")) {
    std::vector<mk::ProducerShare> producers;
    for (const auto& p : CUNHUO_TRY(body.objects("producers", mk::kMaxProducers))) {
      CUNHUO_CHECK(p.only({"household_id", "share_bps"}));
      producers.push_back(
          mk::ProducerShare{mk::HouseholdId{CUNHUO_TRY(p.integer("household_id", 1, INT64_MAX))},
                            static_cast<int>(CUNHUO_TRY(p.integer("share_bps", -100000, 100000)))});
    }
    f.producers = std::move(producers);
  }
  return f;
}

// The names mk::to_string gives a temperature class.
schema::Schema temperature_schema() {
  using T = mk::TemperatureClass;
  return schema::choice(
      {mk::to_string(T::ambient), mk::to_string(T::chilled), mk::to_string(T::frozen)});
}

// A producer's share of a listing or of an order line, in basis points.
schema::Schema share_schema() {
  using namespace schema;
  return object(
      {required("household_id", id()), required("share_bps", integer(1, mk::kFullShare))});
}

void write_shares(JsonWriter& w, const std::vector<mk::ProducerShare>& shares) {
  w.begin_array();
  for (const auto& s : shares) {
    w.begin_object().field("household_id", s.household.value).field("share_bps", s.share_bps);
    w.end_object();
  }
  w.end_array();
}

// A listing photo as write_photo writes it.
schema::Schema photo_schema() {
  using namespace schema;
  return object({required("id", id()), required("url", text()), required("thumbnail_url", text()),
                 required("width", integer(1)), required("height", integer(1))});
}

std::string photo_url(const mk::Photo& photo) {
  return "/api/v1/photos/" + std::to_string(photo.id.value);
}

void write_photo(JsonWriter& w, const mk::Photo& photo) {
  const std::string url = photo_url(photo);
  w.begin_object().field("id", photo.id.value).field("url", url);
  w.field("thumbnail_url", url + "/thumbnail").field("width", photo.width);
  w.field("height", photo.height).end_object();
}

// A listing as write_product writes it.
schema::Schema product_schema() {
  using namespace schema;
  const Schema certification =
      object({required("certificate_no", text()), required("issued_date", text()),
              required("issuing_office", text()), required("benefit_mechanism", text())});
  return object({
      required("id", id()),
      required("shop_id", id()),
      required("title", text()),
      required("category", text()),
      required("unit", text()),
      required("price_fen", fen()),
      required("stock", integer(0)),
      required("temperature_class", temperature_schema()),
      required("shelf_life_days", integer(1)),
      required("harvest_date", text()),
      required("lot", text()),
      required("origin_code", text()),
      required("origin_name", text()),
      required("description", text()),
      required("active", boolean()),
      required("version", integer(1)),
      required("producers", array(share_schema())),
      required("photos", array(photo_schema())),
      required("certification", nullable(certification)),
  });
}

void write_product(JsonWriter& w, const mk::Product& p,
                   const std::optional<mk::Certification>& certificate = std::nullopt,
                   const std::vector<mk::Photo>& photos = {}) {
  w.begin_object().field("id", p.id.value).field("shop_id", p.shop.value).field("title", p.title);
  w.field("category", p.category).field("unit", p.unit).field("price_fen", p.price.fen());
  w.field("stock", p.stock).field("temperature_class", mk::to_string(p.temperature));
  w.field("shelf_life_days", p.shelf_life_days).field("harvest_date", p.harvest_date);
  w.field("lot", p.lot).field("origin_code", p.origin_code).field("origin_name", p.origin_name);
  w.field("description", p.description).field("active", p.active).field("version", p.version);
  w.key("producers");
  write_shares(w, p.producers);
  w.key("photos").begin_array();
  for (const auto& ph : photos) write_photo(w, ph);
  w.end_array();
  if (certificate) {
    w.key("certification").begin_object().field("certificate_no", certificate->certificate_no);
    w.field("issued_date", certificate->issued_date);
    w.field("issuing_office", certificate->issuing_office);
    w.field("benefit_mechanism", certificate->benefit_mechanism).end_object();
  } else {
    w.key("certification").null();
  }
  w.end_object();
}

// A listing with its certificate in force, as buyers see it.
Result<Response> product_response(db::Session& s, const mk::Product& p, int status) {
  auto certificate = CUNHUO_TRY(mk::certificate_of(s, p.id));
  auto photos = CUNHUO_TRY(mk::photos_of(s, p.id));
  JsonWriter w;
  write_product(w, p, certificate, photos);
  return Response::json(status, w.take());
}

// The names mk::to_string gives an order status.
schema::Schema order_status_schema() {
  using S = mk::OrderStatus;
  auto name = [](S s) { return mk::to_string(s); };
  return schema::choice({name(S::pending_payment), name(S::paid), name(S::packed), name(S::shipped),
                         name(S::delivered), name(S::completed), name(S::cancelled),
                         name(S::refunded)});
}

// An order as write_order writes it, the recipient whole or masked.
schema::Schema order_schema() {
  using namespace schema;
  const Schema address = object({required("name", text()), required("phone", text()),
                                 required("address", text()), required("region_code", text())});
  const Schema line = object(
      {required("product_id", id()), required("title", text()), required("quantity", integer(1)),
       required("unit_price_fen", fen()), required("line_total_fen", fen()),
       required("campaign_id", nullable(id())), required("temperature_class", temperature_schema()),
       required("producers", array(share_schema()))});
  return object({required("id", id()), required("checkout_id", id()), required("shop_id", id()),
                 required("status", order_status_schema()), required("total_fen", fen()),
                 required("created_at", utc_time()), required("pay_before", utc_time()),
                 required("shipping_address", address), required("lines", array(line))});
}

void write_order_line(JsonWriter& w, const mk::OrderLine& l) {
  w.begin_object().field("product_id", l.product.value).field("title", l.title);
  w.field("quantity", l.quantity).field("unit_price_fen", l.unit_price.fen());
  w.field("line_total_fen", l.line_total.fen());
  if (l.campaign)
    w.field("campaign_id", l.campaign->value);
  else
    w.key("campaign_id").null();
  w.field("temperature_class", mk::to_string(l.temperature)).key("producers");
  write_shares(w, l.producers);
  w.end_object();
}

// `full`: the buyer (and the office) see the recipient whole; the shop sees it masked.
void write_order(JsonWriter& w, const mk::Order& o, bool full) {
  w.begin_object().field("id", o.id.value).field("checkout_id", o.checkout.value);
  w.field("shop_id", o.shop.value).field("status", mk::to_string(o.status));
  w.field("total_fen", o.total.fen()).field("created_at", format_utc(o.created_at_ms));
  w.field("pay_before", format_utc(o.expires_at_ms)).key("shipping_address").begin_object();
  w.field("name", full ? o.ship_to.name : mask_name(o.ship_to.name));
  w.field("phone", full ? o.ship_to.phone : mask_phone(o.ship_to.phone));
  w.field("address", o.ship_to.address).field("region_code", o.ship_to.region_code).end_object();
  w.key("lines").begin_array();
  for (const auto& l : o.lines) write_order_line(w, l);
  w.end_array().end_object();
}

// A checkout as write_checkout writes it.
schema::Schema checkout_schema() {
  using namespace schema;
  return object({required("checkout_id", id()), required("total_fen", fen()),
                 required("pay_before", utc_time()), required("orders", array(order_schema()))});
}

void write_checkout(JsonWriter& w, const mk::Checkout& c) {
  w.begin_object().field("checkout_id", c.id.value).field("total_fen", c.total.fen());
  w.field("pay_before", format_utc(c.expires_at_ms)).key("orders").begin_array();
  for (const auto& o : c.orders) write_order(w, o, true);
  w.end_array().end_object();
}

// What a create answers when the new row's id is all there is to say.
schema::Schema created_schema() { return schema::object({schema::required("id", schema::id())}); }

Response created(std::int64_t id) {
  return Response::json(201, "{\"id\":" + std::to_string(id) + "}");
}

Result<Response> create_product(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  auto fields = CUNHUO_TRY(listing_fields(body));
  auto shop_field = CUNHUO_TRY(body.optional_integer("shop_id", 1, INT64_MAX));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    mk::ShopId shop = shop_field ? mk::ShopId{*shop_field} : CUNHUO_TRY(default_shop(tx, account));
    if (!CUNHUO_TRY(can_manage_shop(tx, account, shop))) return no_such("shop");
    auto id = CUNHUO_TRY(mk::create_product(tx, shop, fields, ctx.clock));
    auto product = CUNHUO_TRY(mk::find_product(tx, id));
    auto r = CUNHUO_TRY(product_response(tx, *product, 201));
    r.headers.emplace_back("Location", "/api/v1/products/" + std::to_string(id.value));
    return r;
  });
}

Result<Response> update_product(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::ProductId id{CUNHUO_TRY(path_id(req))};
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  auto fields = CUNHUO_TRY(listing_fields(body));
  if (body.has("shop_id"))
    return make_error(ErrorKind::invalid, "immutable_field", "a listing cannot move shops",
                      "shop_id");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto current = CUNHUO_TRY(mk::find_product(tx, id));
    // Another household's listing is indistinguishable from a missing one.
    if (!current || !CUNHUO_TRY(can_manage_shop(tx, account, current->shop)))
      return no_such("product");
    auto updated = CUNHUO_TRY(mk::update_product(tx, id, fields, ctx.clock));
    return product_response(tx, updated, 200);
  });
}

Result<Response> get_product(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const mk::ProductId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto product = CUNHUO_TRY(mk::find_product(s, id));
    if (!product || !product->active) return no_such("product");
    return product_response(s, *product, 200);
  });
}

// A page of listings as list_products writes it; next_cursor is null on the last page.
schema::Schema product_page_schema() {
  using namespace schema;
  return object(
      {required("items", array(product_schema())), required("next_cursor", nullable(text()))});
}

Result<Response> list_products(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  mk::ProductQuery q;
  q.text = req.query_param("q").value_or("");
  q.region = req.query_param("region");
  q.category = req.query_param("category");
  if (auto t = req.query_param("temperature_class")) {
    auto parsed = mk::parse_temperature_class(*t);
    if (!parsed.ok()) return parsed.error();
    q.temperature = *parsed;
  }
  auto integer = [&](const char* name, std::int64_t lo, std::int64_t hi) {
    return query_integer(req, name, lo, hi);
  };
  q.campaign_id = CUNHUO_TRY(integer("campaign_id", 1, INT64_MAX));
  q.limit = static_cast<int>(CUNHUO_TRY(integer("limit", 1, 100)).value_or(20));
  q.cursor = req.query_param("cursor").value_or("");
  if (auto certified = req.query_param("certified")) {
    if (*certified != "true" && *certified != "false")
      return make_error(ErrorKind::invalid, "invalid_type", "certified is true or false",
                        "certified");
    q.certified_only = *certified == "true";
  }
  JsonWriter w;
  CUNHUO_CHECK(ctx.db.read([&](db::Session& s) -> Status {
    auto page = CUNHUO_TRY(mk::search_products(s, q));
    std::vector<mk::ProductId> ids;
    for (const auto& p : page.items) ids.push_back(p.id);
    auto certificates = CUNHUO_TRY(mk::certificates_of(s, ids));
    auto photos = CUNHUO_TRY(mk::photos_of(s, ids));
    w.begin_object().key("items").begin_array();
    for (const auto& p : page.items) {
      auto c = certificates.find(p.id.value);
      auto ph = photos.find(p.id.value);
      write_product(
          w, p,
          c == certificates.end() ? std::nullopt : std::optional<mk::Certification>(c->second),
          ph == photos.end() ? std::vector<mk::Photo>{} : ph->second);
    }
    w.end_array();
    if (page.next_cursor.empty())
      w.key("next_cursor").null();
    else
      w.field("next_cursor", page.next_cursor);
    return {};
  }));
  w.end_object();
  return Response::json(200, w.take());
}

// A centre runs campaigns of its own county; an admin names the county.
Result<std::string> campaign_county(const Account& account, const FieldReader& body) {
  auto given = CUNHUO_TRY(body.optional_string("county_code", kCountyCodeDigits));
  if (account.role == Role::admin) {
    if (!given)
      return make_error(ErrorKind::invalid, "missing_field", "name the campaign's county",
                        "county_code");
    return *given;
  }
  const std::string own = county_of(account.region_code);
  if (given && *given != own)
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "campaigns of your own county only", "county_code");
  return own;
}

// The names mk::to_string gives the campaign kinds, for a description: the handler parses
// the kind itself, so that an unknown one is its invalid_kind.
std::string campaign_kinds() {
  using K = mk::CampaignKind;
  std::string out;
  for (K k : {K::consumption, K::festival, K::anti_season, K::special_price, K::flash_sale,
              K::enterprise_pairing})
    out += (out.empty() ? "" : ", ") + std::string(mk::to_string(k));
  return out;
}

// A new campaign as create_campaign reads it; the campaign module checks the values.
schema::Schema new_campaign_schema() {
  using namespace schema;
  const Schema item = object({required("product_id", id()), optional("price_fen", fen()),
                              optional("stock_cap", integer(0))});
  const Schema kind = text(kMaxCampaignKindBytes).described("one of " + campaign_kinds());
  return object({
      required("name", text(kMaxCampaignNameBytes)),
      required("kind", kind),
      required("starts_at_ms", timestamp()),
      required("ends_at_ms", timestamp()),
      optional("discount_bps", integer(0, mk::kFullShare - 1)),
      optional("per_buyer_limit", integer(1)),
      optional("items", array(item, kMaxCampaignEntries)),
      optional("villages", array(text(kVillageCodeDigits), kMaxCampaignEntries)),
      optional("county_code", text(kCountyCodeDigits).described("an admin names it")),
  });
}

Result<Response> create_campaign(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"name", "kind", "starts_at_ms", "ends_at_ms", "discount_bps",
                          "per_buyer_limit", "items", "villages", "county_code"}));
  mk::NewCampaign c;
  c.county_code = CUNHUO_TRY(campaign_county(account, body));
  c.name = CUNHUO_TRY(body.string("name", kMaxCampaignNameBytes));
  const std::string kind = CUNHUO_TRY(body.string("kind", kMaxCampaignKindBytes));
  c.kind = CUNHUO_TRY(mk::parse_campaign_kind(kind));
  c.starts_at_ms = CUNHUO_TRY(body.integer("starts_at_ms", 0, INT64_MAX / 2));
  c.ends_at_ms = CUNHUO_TRY(body.integer("ends_at_ms", 0, INT64_MAX / 2));
  c.discount_bps = static_cast<int>(
      CUNHUO_TRY(body.optional_integer("discount_bps", -100000, 100000)).value_or(0));
  c.per_buyer_limit =
      CUNHUO_TRY(body.optional_integer("per_buyer_limit", -1'000'000'000, 1'000'000'000));
  c.villages = CUNHUO_TRY(body.strings("villages", kMaxCampaignEntries, kVillageCodeDigits));
  const auto items = body.has("items") ? CUNHUO_TRY(body.objects("items", kMaxCampaignEntries))
                                       : std::vector<FieldReader>{};
  for (const auto& item : items) {
    CUNHUO_CHECK(item.only({"product_id", "price_fen", "stock_cap"}));
    mk::CampaignItem ci;
    ci.product = mk::ProductId{CUNHUO_TRY(item.integer("product_id", 1, INT64_MAX))};
    if (auto p =
            CUNHUO_TRY(item.optional_integer("price_fen", -1'000'000'000'000, 1'000'000'000'000)))
      ci.special_price = Money::fen(*p);
    ci.stock_cap =
        CUNHUO_TRY(item.optional_integer("stock_cap", -1'000'000'000'000, 1'000'000'000'000));
    c.items.push_back(ci);
  }
  auto id = CUNHUO_TRY(
      ctx.db.write([&](db::Session& tx) { return mk::create_campaign(tx, c, ctx.clock); }));
  return created(id.value);
}

schema::Schema consent_request_schema() {
  return schema::object({schema::required("shop_id", schema::id())});
}

// The consent as consent_to_campaign answers it.
schema::Schema consent_schema() {
  using namespace schema;
  return object(
      {required("campaign_id", id()), required("shop_id", id()), required("consented", boolean())});
}

// A shop's manager (or its farmer) agrees to a campaign's price for the shop's listings.
Result<Response> consent_to_campaign(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::CampaignId campaign{CUNHUO_TRY(path_id(req))};
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"shop_id"}));
  const mk::ShopId shop{CUNHUO_TRY(body.integer("shop_id", 1, INT64_MAX))};
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    if (!CUNHUO_TRY(can_manage_shop(tx, account, shop))) return no_such("shop");
    CUNHUO_CHECK(mk::consent_to_campaign(tx, campaign, shop, actor_of(account), ctx.clock));
    JsonWriter w;
    w.begin_object()
        .field("campaign_id", campaign.value)
        .field("shop_id", shop.value)
        .field("consented", true);
    w.end_object();
    return Response::json(200, w.take());
  });
}

// A cart as checkout_request reads it; the order module checks quantities and the address.
schema::Schema checkout_request_schema() {
  using namespace schema;
  const Schema item =
      object({required("product_id", id()), required("quantity", integer(1, mk::kMaxItemQuantity)),
              optional("campaign_id", id())});
  const Schema address =
      object({required("name", text(kMaxRecipientNameBytes)),
              required("phone", text(kMaxPhoneBytes)), required("address", text(kMaxAddressBytes)),
              required("region_code", text(kVillageCodeDigits))});
  return object({required("items", array(item, mk::kMaxCheckoutItems)),
                 optional("campaign_id", id()), required("shipping_address", address)});
}

Result<mk::CheckoutRequest> cart_from(const FieldReader& body, std::int64_t buyer) {
  CUNHUO_CHECK(body.only({"items", "campaign_id", "shipping_address"}));
  mk::CheckoutRequest r;
  r.buyer = buyer;
  for (const auto& item : CUNHUO_TRY(body.objects("items", mk::kMaxCheckoutItems))) {
    CUNHUO_CHECK(item.only({"product_id", "quantity", "campaign_id"}));
    mk::CheckoutItem line{mk::ProductId{CUNHUO_TRY(item.integer("product_id", 1, INT64_MAX))},
                          CUNHUO_TRY(item.integer("quantity", INT64_MIN, INT64_MAX))};
    if (auto c = CUNHUO_TRY(item.optional_integer("campaign_id", 1, INT64_MAX)))
      line.campaign = mk::CampaignId{*c};
    r.items.push_back(line);
  }
  if (auto c = CUNHUO_TRY(body.optional_integer("campaign_id", 1, INT64_MAX)))
    r.campaign = mk::CampaignId{*c};
  auto ship = CUNHUO_TRY(body.object("shipping_address"));
  CUNHUO_CHECK(ship.only({"name", "phone", "address", "region_code"}));
  r.ship_to = mk::ShippingAddress{CUNHUO_TRY(ship.string("name", kMaxRecipientNameBytes)),
                                  CUNHUO_TRY(ship.string("phone", kMaxPhoneBytes)),
                                  CUNHUO_TRY(ship.string("address", kMaxAddressBytes)),
                                  CUNHUO_TRY(ship.string("region_code", kVillageCodeDigits))};
  return r;
}

Result<mk::CheckoutRequest> checkout_request(const Request& req, const Account& buyer) {
  auto doc = CUNHUO_TRY(json_body(req));
  return cart_from(CUNHUO_TRY(FieldReader::root(doc)), buyer.id);
}

// Answers once the order is durable; the reactor thread does not wait for the commit.
void place_order(MarketplaceContext ctx, const Call& call, Respond respond) {
  const Request& req = call.request;
  const Account& buyer = call.caller();
  auto request = checkout_request(req, buyer);
  if (!request.ok())
    return respond(error_response(request.error()));  // bad input never claims the key
  auto cart = std::make_shared<mk::CheckoutRequest>(std::move(*request));
  const std::int64_t buyer_id = buyer.id;
  ctx.idempotency.run_async(
      req, buyer_id,
      [ctx, cart](db::Session& tx) -> Result<Response> {
        auto checkout = CUNHUO_TRY(check_out(tx, *cart, ctx.clock, ctx.payment_window));
        JsonWriter w;
        write_checkout(w, checkout);
        return Response::json(201, w.take());
      },
      std::move(respond));
}

Result<Response> get_order(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::OrderId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto order = CUNHUO_TRY(mk::find_order(s, id));
    if (!order || !CUNHUO_TRY(may_see_order(s, account, *order))) return no_such("order");
    JsonWriter w;
    write_order(w, *order, order->buyer == account.id || account.role == Role::admin);
    return Response::json(200, w.take());
  });
}

Result<Response> get_checkout(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::CheckoutId id{CUNHUO_TRY(path_id(req))};
  auto checkout = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::find_checkout(s, id); }));
  if (!checkout || checkout->buyer != account.id) return no_such("checkout");
  JsonWriter w;
  write_checkout(w, *checkout);
  return Response::json(200, w.take());
}

// Staff who act on an order by hand (cancel it, correct it, read its audit): admin, and the
// county centre of the order's shop.
Result<bool> centre_of_order(db::Session& s, const Account& a, const mk::Order& o) {
  if (a.role == Role::admin) return true;
  if (a.role != Role::county_centre) return false;
  auto shop = CUNHUO_TRY(mk::find_shop(s, o.shop));
  return shop && region_within(shop->village_code, a.region_code);
}

// The buyer cancels an unpaid order only: a paid one goes through a refund claim. Staff
// may cancel a paid one too; "order.cancelled", published with the change, refunds its
// escrow and cancels its shipments through the outbox.
Result<Response> cancel_order(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::OrderId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto order = CUNHUO_TRY(mk::find_order(tx, id));
    if (!order) return no_such("order");
    const bool buyer = order->buyer == account.id;
    if (!buyer && !CUNHUO_TRY(centre_of_order(tx, account, *order))) return no_such("order");
    if (buyer && order->status != mk::OrderStatus::pending_payment)
      return make_error(ErrorKind::conflict, "order_paid",
                        "a paid order is not cancelled: claim a refund instead", "status");
    auto moved = CUNHUO_TRY(mk::change_order_status(
        tx, id, mk::OrderStatus::cancelled, buyer ? "buyer" : "staff",
        buyer ? "cancelled by the buyer" : "cancelled by staff", ctx.clock));
    JsonWriter w;
    write_order(w, moved, true);
    return Response::json(200, w.take());
  });
}

schema::Schema order_move_schema() {
  using namespace schema;
  return object(
      {required("status", text(kMaxOrderStatusBytes).described("packed, shipped or delivered")),
       optional("correction_reason",
                text(kMaxCorrectionReasonBytes, 1)
                    .described("shipped or delivered set by hand: why (county centre, admin)"))});
}

Result<OrderMove> read_order_move(const Request& req) {
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"status", "correction_reason"}));
  const std::string status = CUNHUO_TRY(body.string("status", kMaxOrderStatusBytes));
  OrderMove move{.to = CUNHUO_TRY(mk::parse_order_status(status)),
                 .correction_reason = CUNHUO_TRY(
                     body.optional_string("correction_reason", kMaxCorrectionReasonBytes))};
  if (move.to != mk::OrderStatus::packed && !follows_shipments(move.to))
    return make_error(ErrorKind::invalid, "invalid_status",
                      "here an order becomes packed, shipped or delivered", "status");
  if (move.correction_reason &&
      (!follows_shipments(move.to) ||
       move.correction_reason->find_first_not_of(" \t\r\n") == std::string::npos))
    return make_error(ErrorKind::invalid, "invalid_correction_reason",
                      "a correction of shipped or delivered says why", "correction_reason");
  return move;
}

Result<Response> move_order(MarketplaceContext& ctx, const Call& call,
                            std::optional<mk::OrderStatus> fixed) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::OrderId id{CUNHUO_TRY(path_id(req))};
  OrderMove move{.to = mk::OrderStatus::completed};
  if (fixed)
    move.to = *fixed;
  else
    move = CUNHUO_TRY(read_order_move(req));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto moved = CUNHUO_TRY(move_order_as(tx, account, id, move, ctx.clock));
    JsonWriter w;
    write_order(w, moved, moved.buyer == account.id);
    return Response::json(200, w.take());
  });
}

// An order's history as order_audit writes it.
schema::Schema order_audit_schema() {
  using namespace schema;
  const Schema event = object({required("from", nullable(order_status_schema())),
                               required("to", order_status_schema()), required("actor", text()),
                               required("reason", text()), required("at", utc_time()),
                               required("correction", boolean())});
  return object({required("order_id", id()), required("events", array(event))});
}

// Every change of an order's status, corrections marked (the county's centre, admin).
Result<Response> order_audit(MarketplaceContext& ctx, const Call& call) {
  const Account& account = call.caller();
  const mk::OrderId id{CUNHUO_TRY(path_id(call.request))};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto order = CUNHUO_TRY(mk::find_order(s, id));
    if (!order || !CUNHUO_TRY(centre_of_order(s, account, *order))) return no_such("order");
    JsonWriter w;
    w.begin_object().field("order_id", id.value).key("events").begin_array();
    for (const auto& e : CUNHUO_TRY(mk::order_history(s, id))) {
      w.begin_object().key("from");
      if (e.from)
        w.value(mk::to_string(*e.from));
      else
        w.null();
      w.field("to", mk::to_string(e.to)).field("actor", e.actor).field("reason", e.reason);
      w.field("at", format_utc(e.at_ms)).field("correction", e.correction).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

Result<Response> set_order_status(MarketplaceContext& ctx, const Call& call) {
  return move_order(ctx, call, std::nullopt);
}
Result<Response> confirm_receipt(MarketplaceContext& ctx, const Call& call) {
  return move_order(ctx, call, mk::OrderStatus::completed);
}

Result<Response> upload_photo(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::ProductId id{CUNHUO_TRY(path_id(req))};
  auto owned = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<bool> {
    auto product = CUNHUO_TRY(mk::find_product(s, id));
    return product && CUNHUO_TRY(can_manage_shop(s, account, product->shop));
  }));
  if (!owned) return no_such("product");
  // Decoding and scaling are slow: they run before any transaction.
  auto image = CUNHUO_TRY(mk::process_image(req.body));
  auto key = CUNHUO_TRY(mk::store_photo_files(image, ctx.photo_folder));
  auto photo = ctx.db.write(
      [&](db::Session& tx) { return mk::record_photo(tx, id, key, image, ctx.clock); });
  if (!photo.ok()) {
    mk::remove_photo_files(ctx.photo_folder, key);
    return photo.error();
  }
  JsonWriter w;
  write_photo(w, *photo);
  auto r = Response::json(201, w.take());
  r.headers.emplace_back("Location", photo_url(*photo));
  return r;
}

// Decoding a photo takes a core for a while: it runs on the work pool, never on a
// network thread, and a full pool answers 503 at once.
void upload_photo_on_pool(MarketplaceContext ctx, const Call& call, const Respond& answer) {
  if (ctx.work_pool == nullptr) return answer(respond(upload_photo(ctx, call)));
  // The job runs after this call returns: it keeps its own copies of the request and caller.
  auto job = [ctx, req = call.request, account = call.caller(), answer]() mutable {
    answer(respond(upload_photo(ctx, Call{req, &account})));
  };
  if (!ctx.work_pool->try_submit(std::move(job)))
    answer(pool_full_response("too many photos being processed; retry shortly"));
}

Result<std::optional<mk::Photo>> shown_photo(MarketplaceContext& ctx, const Request& req) {
  const mk::PhotoId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.read([&](db::Session& s) -> Result<std::optional<mk::Photo>> {
    auto ph = CUNHUO_TRY(mk::find_photo(s, id));
    if (!ph) return ph;
    auto product = CUNHUO_TRY(mk::find_product(s, ph->product));
    return product && product->active ? ph : std::optional<mk::Photo>();
  });
}

Response picture(std::string bytes, const char* type) {
  auto r = Response::text(200, std::move(bytes), type);
  r.headers.emplace_back("Cache-Control", "public, max-age=86400, immutable");
  return r;
}

Result<Response> jpeg_of(MarketplaceContext& ctx, const mk::Photo& photo, bool thumbnail) {
  std::ifstream in(mk::photo_path(ctx.photo_folder, photo, thumbnail), std::ios::binary);
  if (!in) return no_such("photo");
  return picture(
      std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()),
      "image/jpeg");
}

Result<Response> get_photo(MarketplaceContext& ctx, const Call& call) {
  const auto photo = CUNHUO_TRY(shown_photo(ctx, call.request));
  if (!photo) return no_such("photo");
  return jpeg_of(ctx, *photo, false);
}

// WebP to a browser that says it takes it, JPEG to any other; caches keep one of each.
Result<Response> get_thumbnail(MarketplaceContext& ctx, const Call& call) {
  const auto photo = CUNHUO_TRY(shown_photo(ctx, call.request));
  if (!photo) return no_such("photo");
  std::string webp;
  if (accepts(call.request, "image/webp")) {
    auto made = mk::stored_webp_thumbnail(ctx.photo_folder, *photo);
    if (made.ok())
      webp = std::move(*made);
    else  // an unreadable thumbnail is still served as the JPEG it is
      spdlog::warn("webp thumbnail of photo {}: {}", photo->id.value, made.error().message);
  }
  Response r = webp.empty() ? CUNHUO_TRY(jpeg_of(ctx, *photo, true))
                            : picture(std::move(webp), "image/webp");
  r.headers.emplace_back("Vary", "Accept");
  return r;
}

// A centre registers organisation buyers paired with villages of its own county, and sees
// those; an admin any. (An organisation itself may sit anywhere: a Lanzhou unit buys from
// Minqin's villages.)
Status pairs_within_area(const Account& account, const std::vector<std::string>& villages) {
  if (account.role == Role::admin) return {};
  if (villages.empty())
    return make_error(ErrorKind::invalid, "missing_field", "pair it with your county's villages",
                      "paired_villages");
  for (std::size_t i = 0; i < villages.size(); ++i)
    if (!region_within(villages[i], account.region_code))
      return make_error(ErrorKind::forbidden, "outside_your_area", "a village of another county",
                        "paired_villages[" + std::to_string(i) + "]");
  return {};
}

bool centre_covers(const Account& account, const mk::OrganisationReport& report) {
  if (account.role == Role::admin) return true;
  if (account.role != Role::county_centre) return false;
  return std::any_of(report.paired_villages.begin(), report.paired_villages.end(),
                     [&](const std::string& v) { return region_within(v, account.region_code); });
}

// A new organisation as create_organisation reads it; the module checks the values.
schema::Schema new_organisation_schema() {
  using namespace schema;
  return object({
      required("name", text(kMaxOrganisationNameBytes)),
      required("kind", text(kMaxOrganisationKindBytes).described("enterprise or public_unit")),
      required("region_code", text(kVillageCodeDigits)),
      required("budget_fen", fen()),
      optional("required_share_bps", integer(0, mk::kFullShare)),
      optional("paired_villages", array(text(kVillageCodeDigits), kMaxPairedVillages)),
      optional("buyer_account_ids", array(id(), kMaxOrganisationBuyers)),
  });
}

// The buyer accounts an organisation is created with: positive ids, at most
// kMaxOrganisationBuyers of them.
Result<std::vector<std::int64_t>> buyer_accounts(const Json& doc) {
  const Json* ids = doc.find("buyer_account_ids");
  if (ids->type() != Json::Type::array)
    return make_error(ErrorKind::invalid, "invalid_type", "expected array", "buyer_account_ids");
  const auto& list = ids->as_array();
  if (list.size() > kMaxOrganisationBuyers)
    return make_error(ErrorKind::invalid, "too_many_items",
                      "at most " + std::to_string(kMaxOrganisationBuyers) + " items",
                      "buyer_account_ids");
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].type() != Json::Type::integer || list[i].as_integer() <= 0)
      return make_error(ErrorKind::invalid, "invalid_type", "expected an account id",
                        "buyer_account_ids[" + std::to_string(i) + "]");
    out.push_back(list[i].as_integer());
  }
  return out;
}

Result<Response> create_organisation(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"name", "kind", "region_code", "budget_fen", "required_share_bps",
                          "paired_villages", "buyer_account_ids"}));
  mk::NewOrganisation o;
  o.name = CUNHUO_TRY(body.string("name", kMaxOrganisationNameBytes));
  const std::string kind = CUNHUO_TRY(body.string("kind", kMaxOrganisationKindBytes));
  if (kind != "enterprise" && kind != "public_unit")
    return make_error(ErrorKind::invalid, "invalid_kind", "kind is enterprise or public_unit",
                      "kind");
  o.kind =
      kind == "enterprise" ? mk::OrganisationKind::enterprise : mk::OrganisationKind::public_unit;
  o.region_code = CUNHUO_TRY(body.string("region_code", kVillageCodeDigits));
  o.budget = Money::fen(CUNHUO_TRY(body.integer("budget_fen", -1, INT64_MAX)));
  o.required_share_bps = static_cast<int>(
      CUNHUO_TRY(body.optional_integer("required_share_bps", -1, 100000)).value_or(0));
  o.paired_villages =
      CUNHUO_TRY(body.strings("paired_villages", kMaxPairedVillages, kVillageCodeDigits));
  CUNHUO_CHECK(pairs_within_area(account, o.paired_villages));
  if (body.has("buyer_account_ids")) o.buyer_accounts = CUNHUO_TRY(buyer_accounts(doc));
  auto id = CUNHUO_TRY(
      ctx.db.write([&](db::Session& tx) { return mk::create_organisation(tx, o, ctx.clock); }));
  return created(id.value);
}

// An organisation's report as get_organisation writes it.
schema::Schema organisation_report_schema() {
  using namespace schema;
  const Schema share = integer(0, mk::kFullShare);
  return object({
      required("id", id()),
      required("name", text()),
      required("kind", choice({"enterprise", "public_unit"})),
      required("budget_fen", fen()),
      required("spent_fen", fen()),
      required("remaining_fen", fen()),
      required("certified_spent_fen", fen()),
      required("required_share_bps", share),
      required("achieved_share_bps", share),
      required("certified_needed_fen", fen()),
      required("paired_villages", array(text())),
  });
}

Result<Response> get_organisation(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::OrganisationId id{CUNHUO_TRY(path_id(req))};
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto own = CUNHUO_TRY(mk::organisation_of_buyer(s, account.id));
    auto report = CUNHUO_TRY(mk::organisation_report(s, id));
    if (!report || (!(own && *own == id) && !centre_covers(account, *report)))
      return no_such("organisation");
    JsonWriter w;
    w.begin_object().field("id", report->id.value).field("name", report->name);
    w.field("kind",
            report->kind == mk::OrganisationKind::enterprise ? "enterprise" : "public_unit");
    w.field("budget_fen", report->budget.fen()).field("spent_fen", report->spent.fen());
    w.field("remaining_fen", report->remaining.fen())
        .field("certified_spent_fen", report->certified_spent.fen());
    w.field("required_share_bps", report->required_share_bps)
        .field("achieved_share_bps", report->achieved_share_bps);
    w.field("certified_needed_fen", report->certified_needed.fen())
        .key("paired_villages")
        .begin_array();
    for (const auto& v : report->paired_villages) w.value(v);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

// A certification as write_certification writes it.
schema::Schema certification_schema() {
  using namespace schema;
  using S = mk::CertificationStatus;
  auto name = [](S s) { return mk::to_string(s); };
  const Schema status = choice({name(S::applied), name(S::township_reviewed), name(S::approved),
                                name(S::rejected), name(S::revoked)});
  return object({
      required("id", id()),
      required("product_id", id()),
      required("status", status),
      required("benefit_mechanism", text()),
      required("certificate_no", text()),
      required("issuing_office", text()),
      required("issued_date", text().described("YYYY-MM-DD once approved, else empty")),
  });
}

void write_certification(JsonWriter& w, const mk::Certification& c) {
  w.begin_object()
      .field("id", c.id.value)
      .field("product_id", c.product.value)
      .field("status", mk::to_string(c.status));
  w.field("benefit_mechanism", c.benefit_mechanism).field("certificate_no", c.certificate_no);
  w.field("issuing_office", c.issuing_office).field("issued_date", c.issued_date).end_object();
}

Result<Response> certification_response(const mk::Certification& c, int status) {
  JsonWriter w;
  write_certification(w, c);
  return Response::json(status, w.take());
}

schema::Schema application_schema() {
  using namespace schema;
  return object({required("benefit_mechanism", text(kMaxCertificationTextBytes))});
}

Result<Response> apply_certification(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const mk::ProductId id{CUNHUO_TRY(path_id(req))};
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"benefit_mechanism"}));
  const std::string benefit =
      CUNHUO_TRY(body.string("benefit_mechanism", kMaxCertificationTextBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto product = CUNHUO_TRY(mk::find_product(tx, id));
    if (!product || !CUNHUO_TRY(can_manage_shop(tx, account, product->shop)))
      return no_such("product");
    auto cid =
        CUNHUO_TRY(mk::apply_for_certification(tx, id, benefit, actor_of(account), ctx.clock));
    return certification_response(*CUNHUO_TRY(mk::find_certification(tx, cid)), 201);
  });
}

schema::Schema review_schema() {
  using namespace schema;
  return object(
      {required("approve", boolean()), required("note", text(kMaxCertificationTextBytes))});
}

Result<Response> review(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"approve", "note"}));
  const bool approve = CUNHUO_TRY(body.boolean("approve"));
  const std::string note = CUNHUO_TRY(body.string("note", kMaxCertificationTextBytes));
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const OfficeDecision d{.approve = approve, .reason = note, .level = ""};
    return certification_response(
        CUNHUO_TRY(review_certification_as(tx, account, id, d, ctx.clock)), 200);
  });
}

schema::Schema approval_schema() {
  using namespace schema;
  return object({required("certificate_no", text(kMaxCertificateNoBytes)),
                 required("issuing_office", text(kMaxIssuingOfficeBytes))});
}

Result<Response> approve(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"certificate_no", "issuing_office"}));
  const std::string number = CUNHUO_TRY(body.string("certificate_no", kMaxCertificateNoBytes));
  const std::string office = CUNHUO_TRY(body.string("issuing_office", kMaxIssuingOfficeBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const std::int64_t id = CUNHUO_TRY(path_id(req));
    auto c = CUNHUO_TRY(certification_for_office(tx, account, id, RegionLevel::county));
    return certification_response(CUNHUO_TRY(mk::approve_certification(
                                      tx, c.id, number, office, actor_of(account), ctx.clock)),
                                  200);
  });
}

schema::Schema revocation_schema() {
  using namespace schema;
  return object({required("reason", text(kMaxCertificationTextBytes))});
}

Result<Response> revoke(MarketplaceContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"reason"}));
  const std::string reason = CUNHUO_TRY(body.string("reason", kMaxCertificationTextBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const std::int64_t id = CUNHUO_TRY(path_id(req));
    auto c = CUNHUO_TRY(certification_for_office(tx, account, id, RegionLevel::county));
    return certification_response(
        CUNHUO_TRY(mk::revoke_certification(tx, c.id, reason, actor_of(account), ctx.clock)), 200);
  });
}

}  // namespace

schema::Schema new_listing_schema() { return listing_schema(true); }
Result<marketplace::ListingFields> read_listing(const FieldReader& listing) {
  return listing_fields(listing);
}
schema::Schema product_answer_schema() { return product_schema(); }
Result<Response> product_answer(db::Session& s, const marketplace::Product& product, int status) {
  return product_response(s, product, status);
}
schema::Schema cart_schema() { return checkout_request_schema(); }
Result<marketplace::CheckoutRequest> read_cart(const FieldReader& cart, std::int64_t buyer) {
  return cart_from(cart, buyer);
}
schema::Schema checkout_answer_schema() { return checkout_schema(); }
Response checkout_answer(const marketplace::Checkout& checkout) {
  JsonWriter w;
  write_checkout(w, checkout);
  return Response::json(201, w.take());
}

void add_marketplace_routes(RouteTable& table, MarketplaceContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/products",
       .access = anyone(),
       .response_schema = product_page_schema(),
       .query = {{.name = "q", .description = "words of the title, a partial word matches"},
                 {.name = "region", .description = "a county, township or village code of origin"},
                 {.name = "category", .description = "the category, exactly"},
                 {.name = "temperature_class", .description = "ambient, chilled or frozen"},
                 {.name = "campaign_id",
                  .type = "integer",
                  .description = "listings in a campaign"},
                 {.name = "certified", .type = "boolean", .description = "true: certified only"},
                 {.name = "limit", .type = "integer", .description = "1 to 100 (20)"},
                 {.name = "cursor", .description = "next_cursor of the page before"}},
       .summary = "Search and filter listings (q, region, category, temperature_class, "
                  "campaign_id, cursor, limit)",
       .handler = bind(list_products)});
  table.add({.method = "POST",
             .pattern = "/api/v1/products",
             .access = only({Role::farmer, Role::shop_manager, Role::admin}),
             .body = Body::json,
             .request_schema = listing_schema(true),
             .response_schema = product_schema(),
             .success_status = 201,
             .errors = {"out_of_range", "invalid_unit", "invalid_date", "origin_outside_county",
                        "unknown_shop", "invalid_region_code", "not_a_member", "shares_not_whole",
                        "duplicate_producer", "invalid_temperature_class"},
             .summary = "List a product (farmer, shop manager)",
             .handler = bind(create_product)});
  table.add({.method = "GET",
             .pattern = "/api/v1/products/:id",
             .access = anyone(),
             .response_schema = product_schema(),
             .summary = "One listing",
             .handler = bind(get_product)});
  table.add({.method = "PATCH",
             .pattern = "/api/v1/products/:id",
             .access = only({Role::farmer, Role::shop_manager, Role::admin}),
             .body = Body::json,
             .request_schema = listing_schema(false),
             .response_schema = product_schema(),
             .errors = {"out_of_range", "invalid_unit", "invalid_date", "origin_outside_county",
                        "concurrent_update", "invalid_temperature_class", "not_a_member",
                        "shares_not_whole"},
             .summary = "Edit a listing of your own shop",
             .handler = bind(update_product)});
  table.add({.method = "POST",
             .pattern = "/api/v1/campaigns",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = new_campaign_schema(),
             .response_schema = created_schema(),
             .success_status = 201,
             .summary = "Create a campaign of your county (county centre)",
             .handler = bind(create_campaign)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/campaigns/:id/consent",
       .access = only({Role::farmer, Role::shop_manager, Role::admin}),
       .body = Body::json,
       .request_schema = consent_request_schema(),
       .response_schema = consent_schema(),
       .summary = "Agree that a campaign may sell your shop's listings at its price (the shop)",
       .handler = bind(consent_to_campaign)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/orders",
       .access = only({Role::consumer, Role::org_buyer}),
       .body = Body::json,
       .request_schema = checkout_request_schema(),
       .response_schema = checkout_schema(),
       .success_status = 201,
       .errors = {"not_in_campaign", "campaign_not_running", "over_buyer_limit",
                  "campaign_sold_out", "shop_not_opted_in", "out_of_stock", "over_budget"},
       .summary = "Check out a cart: one order per shop",
       .async_handler = [ctx](const Call& call,
                              Respond respond) { place_order(ctx, call, std::move(respond)); },
       .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/orders/:id",
             .access = signed_in(),
             .response_schema = order_schema(),
             .summary = "One order (its buyer, its shop, the county)",
             .handler = bind(get_order)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/orders/:id/cancel",
       .access = signed_in(),
       .response_schema = order_schema(),
       .summary =
           "Cancel an unpaid order (its buyer), or a paid one (county centre, admin: refunded)",
       .handler = bind(cancel_order)});
  table.add({.method = "POST",
             .pattern = "/api/v1/orders/:id/status",
             .access = signed_in(),
             .body = Body::json,
             .request_schema = order_move_schema(),
             .response_schema = order_schema(),
             .errors = {"invalid_status", "invalid_correction_reason", "follows_shipments",
                        "invalid_transition"},
             .summary =
                 "Mark an order packed (its shop); shipped and delivered follow the parcels' "
                 "scans, and only a correction with a reason sets them (county centre, admin)",
             .handler = bind(set_order_status)});
  table.add({.method = "GET",
             .pattern = "/api/v1/orders/:id/audit",
             .access = only({Role::county_centre, Role::admin}),
             .response_schema = order_audit_schema(),
             .summary = "Every change of an order's status: who, from, to, why, when; "
                        "corrections marked (county centre, admin)",
             .handler = bind(order_audit)});
  table.add({.method = "POST",
             .pattern = "/api/v1/orders/:id/confirm-receipt",
             .access = signed_in(),
             .response_schema = order_schema(),
             .summary = "The buyer confirms delivery: the order completes and settles",
             .handler = bind(confirm_receipt)});
  table.add({.method = "GET",
             .pattern = "/api/v1/checkouts/:id",
             .access = signed_in(),
             .response_schema = checkout_schema(),
             .summary = "One checkout with its orders (its buyer)",
             .handler = bind(get_checkout)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/products/:id/photos",
       .access = only({Role::farmer, Role::shop_manager, Role::admin}),
       .body = Body::raw,
       .max_body = ctx.max_upload_body,
       .response_schema = photo_schema(),
       .success_status = 201,
       .errors = {"unsupported_image", "too_many_pixels", "busy"},
       .summary = "Upload a JPEG or PNG photo of your listing (raw body); a thumbnail is made",
       .async_handler = [ctx](const Call& call, Respond answer) {
         upload_photo_on_pool(ctx, call, answer);
       }});
  table.add({.method = "GET",
             .pattern = "/api/v1/photos/:id",
             .access = anyone(),
             .response_type = "image/jpeg",
             .summary = "A listing photo (JPEG)",
             .handler = bind(get_photo)});
  table.add({.method = "GET",
             .pattern = "/api/v1/photos/:id/thumbnail",
             .access = anyone(),
             .response_type = "image/jpeg",
             .other_types = {"image/webp"},
             .summary = "A listing photo's thumbnail, 320 px: WebP when the Accept header names "
                        "image/webp, else JPEG (Vary: Accept)",
             .handler = bind(get_thumbnail)});
  table.add({.method = "POST",
             .pattern = "/api/v1/organisations",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = new_organisation_schema(),
             .response_schema = created_schema(),
             .success_status = 201,
             .summary = "Register an organisation buyer with its budget (county centre)",
             .handler = bind(create_organisation)});
  table.add({.method = "GET",
             .pattern = "/api/v1/organisations/:id",
             .access = signed_in(),
             .response_schema = organisation_report_schema(),
             .summary = "An organisation's budget and how far it is from its required share",
             .handler = bind(get_organisation)});
  table.add({.method = "POST",
             .pattern = "/api/v1/products/:id/certification",
             .access = only({Role::farmer, Role::shop_manager}),
             .body = Body::json,
             .request_schema = application_schema(),
             .response_schema = certification_schema(),
             .success_status = 201,
             .summary = "Apply to certify a listing as a poverty-alleviation product (its shop)",
             .handler = bind(apply_certification)});
  table.add({.method = "POST",
             .pattern = "/api/v1/certifications/:id/review",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = review_schema(),
             .response_schema = certification_schema(),
             .summary = "Township review of an application",
             .handler = bind(review)});
  table.add({.method = "POST",
             .pattern = "/api/v1/certifications/:id/approve",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = approval_schema(),
             .response_schema = certification_schema(),
             .summary = "County approval: issues the certificate",
             .handler = bind(approve)});
  table.add({.method = "POST",
             .pattern = "/api/v1/certifications/:id/revoke",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = revocation_schema(),
             .response_schema = certification_schema(),
             .summary = "County revocation of a certificate",
             .handler = bind(revoke)});
}

}  // namespace cunhuo::storefront
