#include "storefront/list_routes.hpp"

#include <algorithm>
#include <charconv>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/work_queue.hpp"
#include "marketplace/organisations.hpp"
#include "storefront/policy.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

// Error codes of the order list.
constexpr std::string_view kFilterNotAllowed = "filter_not_allowed";
constexpr std::string_view kInvalidDate = "invalid_date";
constexpr std::string_view kInvalidDateRange = "invalid_date_range";
constexpr std::string_view kOutsideYourArea = "outside_your_area";
// A station's orders are read from logistics in batches of this many ids, at most this many
// batches a page (a page filtered by status may then come back short, with a next_cursor).
constexpr int kStationBatch = 100;
constexpr int kMaxStationBatches = 10;
constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;  // Shanghai keeps no summer time

static_assert(mk::kMaxOrderListPage == kMaxPageSize);

// Whose orders a role lists.
enum class Scope { buyer, shop, station, area, all };

Scope scope_of(Role role) {
  switch (role) {
    case Role::consumer:
    case Role::org_buyer: return Scope::buyer;
    case Role::farmer:
    case Role::shop_manager: return Scope::shop;
    case Role::station_operator: return Scope::station;
    case Role::county_centre:
    case Role::poverty_office: return Scope::area;
    case Role::admin: return Scope::all;
    case Role::helper: break;
  }
  CUNHUO_ASSERT(false);  // the route table admits no other role
  return Scope::buyer;
}

// Where the caller stands to the orders of its scope, for the policy's view.
Relation relation_of(Scope scope) {
  switch (scope) {
    case Scope::buyer:
    case Scope::shop: return Relation::own;
    case Scope::station: return Relation::assigned;
    case Scope::area: return Relation::in_area;
    case Scope::all: return Relation::unrelated;
  }
  return Relation::unrelated;
}

// The filters each scope takes; any other is refused, naming it.
bool allows(Scope scope, std::string_view filter) {
  const auto in = [&](std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), filter) != names.end();
  };
  switch (scope) {
    case Scope::buyer: return in({"status", "from", "to"});
    case Scope::shop: return in({"status", "from", "to", "to_pack"});
    case Scope::station: return in({"status", "from", "to", "shop", "village"});
    case Scope::area:
    case Scope::all: return in({"status", "from", "to", "shop", "village"});
  }
  return false;
}

struct Filters {
  std::optional<mk::OrderStatus> status;
  std::optional<std::int64_t> from_ms, to_ms, shop;
  std::string village;
  bool to_pack = false;
};

Error invalid(std::string_view code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::string(code), std::move(message), std::move(field));
}

// A YYYY-MM-DD day in Shanghai: its first millisecond (and, for `to`, the next day's).
Result<std::int64_t> day_start(const std::string& text, const char* field, bool next_day) {
  auto date = parse_date(text);
  if (!date) return invalid(kInvalidDate, "a date is YYYY-MM-DD", field);
  return shanghai_midnight_ms(*date) + (next_day ? kDayMs : 0);
}

Result<std::int64_t> positive_id(const std::string& text, const char* field) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1)
    return invalid("invalid_type", "expected a positive whole number", field);
  return v;
}

// Reads the filters in the order their refusals take precedence: a filter the role does
// not take, then each value.
Result<Filters> read_filters(Scope scope, const OrderListParams& p) {
  const std::pair<const char*, const std::optional<std::string>*> given[] = {
      {"status", &p.status}, {"from", &p.from},       {"to", &p.to},
      {"shop", &p.shop},     {"village", &p.village}, {"to_pack", &p.to_pack}};
  for (const auto& [name, value] : given)
    if (value->has_value() && !allows(scope, name))
      return invalid(kFilterNotAllowed, std::string(name) + " is not a filter of your list", name);
  Filters f;
  if (p.status) f.status = CUNHUO_TRY(mk::parse_order_status(*p.status));
  if (p.from) f.from_ms = CUNHUO_TRY(day_start(*p.from, "from", false));
  if (p.to) f.to_ms = CUNHUO_TRY(day_start(*p.to, "to", true));
  if (f.from_ms && f.to_ms && *f.from_ms >= *f.to_ms)
    return invalid(kInvalidDateRange, "from is a day after to", "from");
  if (p.shop) f.shop = CUNHUO_TRY(positive_id(*p.shop, "shop"));
  if (p.village) {
    auto level = region_level(*p.village, "village");
    if (!level.ok() || *level != RegionLevel::village)
      return invalid("invalid_region_code", "a village has a 12-digit code", "village");
    f.village = *p.village;
  }
  if (p.to_pack) {
    if (*p.to_pack != "true" && *p.to_pack != "false")
      return invalid("invalid_type", "to_pack is true or false", "to_pack");
    f.to_pack = *p.to_pack == "true";
    if (f.to_pack && f.status)
      return invalid(kFilterNotAllowed, "the to-pack list is of paid orders", "status");
  }
  return f;
}

// The list a cursor belongs to: the caller and every filter, so that a cursor carried to
// another list, or to another caller, is refused.
std::string list_name(const Account& caller, const OrderListParams& p) {
  std::string name = "orders:" + std::to_string(caller.id);
  for (const auto* v : {&p.status, &p.from, &p.to, &p.shop, &p.village, &p.to_pack})
    name += ":" + v->value_or("-");
  return name;
}

// The caller's area and the shop or village it names within it.
Status narrow_to_area(db::Session& s, const Account& caller, const Filters& f,
                      mk::OrderListQuery& q) {
  const bool admin = caller.role == Role::admin;
  q.area = admin ? std::string() : caller.region_code;
  if (!f.village.empty()) {
    if (!admin && !region_within(f.village, caller.region_code))
      return make_error(ErrorKind::forbidden, std::string(kOutsideYourArea),
                        "a village outside your area", "village");
    q.area = f.village;
  }
  if (f.shop) {
    auto shop = CUNHUO_TRY(mk::find_shop(s, mk::ShopId{*f.shop}));
    // An unknown shop answers as one outside the area: ids say nothing of other counties.
    if (!shop || (!admin && !region_within(shop->village_code, caller.region_code)))
      return make_error(ErrorKind::forbidden, std::string(kOutsideYourArea),
                        "a shop outside your area", "shop");
    q.shops = {shop->id};
  }
  return {};
}

// The query of a buyer, shop, area or everyone's list; nullopt: the caller has nothing
// to list (a farmer of no shop).
Result<std::optional<mk::OrderListQuery>> query_for(db::Session& s, Scope scope,
                                                    const Account& caller, const Filters& f) {
  mk::OrderListQuery q;
  q.status = f.status;
  q.from_ms = f.from_ms;
  q.to_ms = f.to_ms;
  q.to_pack = f.to_pack;
  switch (scope) {
    case Scope::buyer: q.buyer = caller.id; break;
    case Scope::shop:
      if (caller.role == Role::shop_manager && caller.shop_id)
        q.shops = {mk::ShopId{*caller.shop_id}};
      else if (caller.role == Role::farmer && caller.household_id)
        // The household's own shop: a cooperative's orders are its manager's (a member who
        // saw them would see every buyer of the cooperative).
        q.shops = CUNHUO_TRY(mk::own_shops_of(s, mk::HouseholdId{*caller.household_id}));
      if (q.shops.empty()) return std::optional<mk::OrderListQuery>();
      break;
    case Scope::area:
    case Scope::all: CUNHUO_CHECK(narrow_to_area(s, caller, f, q)); break;
    case Scope::station: CUNHUO_ASSERT(false);
  }
  return std::optional<mk::OrderListQuery>(std::move(q));
}

// A station's orders: those whose shipments logistics planned through its node, newest
// first, read by id in batches and filtered here (status, dates, shop, village: any shop's
// parcels may pass the station, so a shop or village is not checked against its area; the
// list holds only its own orders). The position is the last order id looked at.
Result<mk::OrderPage> station_page(db::Session& s, const Account& caller, const Filters& f,
                                   const PageRequest& page) {
  mk::OrderPage out;
  if (!caller.node_id) return out;
  const mk::OrderFilters filters{.status = f.status,
                                 .from_ms = f.from_ms,
                                 .to_ms = f.to_ms,
                                 .shop = f.shop ? std::optional(mk::ShopId{*f.shop}) : std::nullopt,
                                 .village = f.village};
  std::optional<std::int64_t> before;
  if (page.after) before = page.after->front();
  for (int batch = 0; batch < kMaxStationBatches; ++batch) {
    const auto ids =
        CUNHUO_TRY(logistics::orders_through_node(s, *caller.node_id, before, kStationBatch));
    for (auto& o : CUNHUO_TRY(mk::order_summaries(s, ids, filters))) {
      if (out.items.size() == static_cast<std::size_t>(page.limit)) {
        out.next = std::vector<std::int64_t>{out.items.back().id.value};
        return out;
      }
      out.items.push_back(std::move(o));
    }
    if (ids.size() < static_cast<std::size_t>(kStationBatch)) return out;
    before = ids.back();
  }
  out.next = std::vector<std::int64_t>{*before};  // looked far enough for one page
  return out;
}

void write_order_item(JsonWriter& w, const mk::OrderSummary& o, View view) {
  const bool full = view == View::full;
  w.begin_object().field("id", o.id.value).field("checkout_id", o.checkout.value);
  w.field("shop_id", o.shop.value).field("status", mk::to_string(o.status));
  w.field("total_fen", o.total.fen()).field("created_at", format_utc(o.created_at_ms));
  if (o.paid_at_ms)
    w.field("paid_at", format_utc(*o.paid_at_ms));
  else
    w.key("paid_at").null();
  if (o.status == mk::OrderStatus::paid && o.pack_by_ms())
    w.field("pack_by", format_utc(*o.pack_by_ms()));
  else
    w.key("pack_by").null();
  w.field("item_count", o.item_count).field("title", o.first_title);
  w.key("ship_to").begin_object();
  w.field("name", full ? o.ship_name : mask_name(o.ship_name));
  w.field("phone", full ? o.ship_phone : mask_phone(o.ship_phone));
  w.field("region_code", o.ship_region).end_object().end_object();
}

schema::Schema order_item_schema() {
  using namespace schema;
  const Schema ship_to = object(
      {required("name", text()), required("phone", text()), required("region_code", text())});
  return object({
      required("id", id()),
      required("checkout_id", id()),
      required("shop_id", id()),
      required("status", choice(enum_names<mk::OrderStatus>())),
      required("total_fen", fen()),
      required("created_at", utc_time()),
      required("paid_at", nullable(utc_time())),
      required("pack_by", nullable(utc_time()).described("a paid order: pack it by then")),
      required("item_count", integer(1)),
      required("title", text().described("the first line's title")),
      required("ship_to", ship_to.described("name and phone masked unless policy shows them")),
  });
}

schema::Schema page_schema(const schema::Schema& item) {
  using namespace schema;
  return object({required("items", array(item)), required("next_cursor", nullable(text()))});
}

void write_next(JsonWriter& w, const CursorSeal& cursors, std::string_view list,
                const std::optional<std::vector<std::int64_t>>& next) {
  if (next)
    w.field("next_cursor", cursors.seal(list, *next));
  else
    w.key("next_cursor").null();
}

OrderListParams order_params(const Request& req) {
  return OrderListParams{.status = req.query_param("status"),
                         .from = req.query_param("from"),
                         .to = req.query_param("to"),
                         .shop = req.query_param("shop"),
                         .village = req.query_param("village"),
                         .to_pack = req.query_param("to_pack"),
                         .limit = req.query_param("limit"),
                         .cursor = req.query_param("cursor")};
}

Result<Response> list_orders(ListContext& ctx, const Call& call) {
  auto body = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return order_list_answer(s, ctx.cursors, call.caller(), order_params(call.request));
  }));
  return Response::json(200, std::move(body));
}

// --- campaigns ---

schema::Schema campaign_fields_schema(std::vector<schema::Property> more) {
  using namespace schema;
  std::vector<Property> fields = {
      required("id", id()),
      required("name", text()),
      required("kind", choice(enum_names<mk::CampaignKind>())),
      required("county_code", text()),
      required("starts_at", utc_time()),
      required("ends_at", utc_time()),
      required("discount_bps", integer(0, mk::kFullShare)),
      required("per_buyer_limit", nullable(integer(1))),
  };
  for (auto& p : more) fields.push_back(std::move(p));
  return object(fields);
}

void write_campaign_fields(JsonWriter& w, const mk::CampaignSummary& c) {
  w.field("id", c.id.value).field("name", c.name).field("kind", mk::to_string(c.kind));
  w.field("county_code", c.county_code).field("starts_at", format_utc(c.starts_at_ms));
  w.field("ends_at", format_utc(c.ends_at_ms)).field("discount_bps", c.discount_bps);
  if (c.per_buyer_limit)
    w.field("per_buyer_limit", *c.per_buyer_limit);
  else
    w.key("per_buyer_limit").null();
}

Result<Response> list_campaigns(ListContext& ctx, const Call& call) {
  const Request& req = call.request;
  std::string county;
  if (auto region = req.query_param("region")) {
    CUNHUO_TRY(region_level(*region, "region"));
    county = county_of(*region);
  }
  const std::string list = "campaigns:" + county;
  const auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
  std::optional<std::int64_t> before;
  if (page.after) before = page.after->front();
  auto found = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return mk::running_campaigns(s, ctx.clock.now_ms(), county, before,
                                 static_cast<int>(page.limit) + 1);
  }));
  std::optional<std::vector<std::int64_t>> next;
  if (found.size() > static_cast<std::size_t>(page.limit)) {
    found.resize(static_cast<std::size_t>(page.limit));
    next = std::vector<std::int64_t>{found.back().id.value};
  }
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& c : found) {
    w.begin_object();
    write_campaign_fields(w, c);
    w.end_object();
  }
  w.end_array();
  write_next(w, ctx.cursors, list, next);
  w.end_object();
  return Response::json(200, w.take());
}

schema::Schema campaign_detail_schema() {
  using namespace schema;
  const Schema listing = object({
      required("product_id", id()),
      required("shop_id", id()),
      required("title", text()),
      required("price_fen", fen()),
      required("campaign_price_fen",
               nullable(integer(0).described(
                   "fen; null until the shop consents to the campaign's price"))),
      required("stock_cap", nullable(integer(0))),
      required("sold", integer(0)),
  });
  return campaign_fields_schema({required("running", boolean()),
                                 required("listings", array(listing)),
                                 required("villages", array(text()))});
}

Result<Response> get_campaign(ListContext& ctx, const Call& call) {
  const mk::CampaignId id{CUNHUO_TRY(path_id(call.request))};
  auto detail = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::campaign_detail(s, id); }));
  if (!detail) return no_such("campaign");
  const auto now = ctx.clock.now_ms();
  JsonWriter w;
  w.begin_object();
  write_campaign_fields(w, detail->campaign);
  w.field("running", detail->campaign.starts_at_ms <= now && now < detail->campaign.ends_at_ms);
  w.key("listings").begin_array();
  for (const auto& l : detail->listings) {
    w.begin_object().field("product_id", l.product.value).field("shop_id", l.shop.value);
    w.field("title", l.title).field("price_fen", l.price.fen());
    if (l.campaign_price)
      w.field("campaign_price_fen", l.campaign_price->fen());
    else
      w.key("campaign_price_fen").null();
    if (l.stock_cap)
      w.field("stock_cap", *l.stock_cap);
    else
      w.key("stock_cap").null();
    w.field("sold", l.sold).end_object();
  }
  w.end_array().key("villages").begin_array();
  for (const auto& v : detail->villages) w.value(v);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// --- an organisation's progress ---

schema::Schema progress_schema() {
  using namespace schema;
  const Schema share = integer(0, mk::kFullShare);
  return object({
      required("organisation_id", id()),
      required("budget_fen", fen()),
      required("committed_fen", integer(0).described("fen held by its orders, unpaid ones too")),
      required("spent_fen",
               integer(0).described("fen of its paid orders (not cancelled nor refunded)")),
      required("remaining_fen", fen()),
      required("certified_spent_fen", fen()),
      required("certified_share_bps", share),
      required("required_share_bps", share),
      required("paid_orders", integer(0)),
      required("unpaid_orders", integer(0)),
  });
}

// Its own buyers, the centre of a county it is paired with, an admin; others: a 404.
Result<bool> may_see_organisation(db::Session& s, const Account& a, mk::OrganisationId id) {
  if (a.role == Role::admin) return true;
  if (a.role == Role::org_buyer) {
    auto own = CUNHUO_TRY(mk::organisation_of_buyer(s, a.id));
    return own && *own == id;
  }
  auto report = CUNHUO_TRY(mk::organisation_report(s, id));
  return report &&
         std::any_of(report->paired_villages.begin(), report->paired_villages.end(),
                     [&](const std::string& v) { return region_within(v, a.region_code); });
}

Result<Response> get_progress(ListContext& ctx, const Call& call) {
  const mk::OrganisationId id{CUNHUO_TRY(path_id(call.request))};
  auto progress = CUNHUO_TRY(
      ctx.db.read([&](db::Session& s) -> Result<std::optional<mk::OrganisationProgress>> {
        if (!CUNHUO_TRY(may_see_organisation(s, call.caller(), id)))
          return std::optional<mk::OrganisationProgress>();
        return mk::organisation_progress(s, id);
      }));
  if (!progress) return no_such("organisation");
  JsonWriter w;
  w.begin_object().field("organisation_id", progress->id.value);
  w.field("budget_fen", progress->budget.fen()).field("committed_fen", progress->committed.fen());
  w.field("spent_fen", progress->spent.fen()).field("remaining_fen", progress->remaining.fen());
  w.field("certified_spent_fen", progress->certified_spent.fen());
  w.field("certified_share_bps", progress->certified_share_bps);
  w.field("required_share_bps", progress->required_share_bps);
  w.field("paid_orders", progress->paid_orders).field("unpaid_orders", progress->unpaid_orders);
  w.end_object();
  return Response::json(200, w.take());
}

}  // namespace

Result<std::string> order_list_answer(db::Session& s, const CursorSeal& cursors,
                                      const Account& caller, const OrderListParams& params) {
  const Scope scope = scope_of(caller.role);
  const Filters filters = CUNHUO_TRY(read_filters(scope, params));
  const std::string list = list_name(caller, params);
  const std::size_t keys = scope == Scope::station ? 1 : mk::kOrderPositionKeys;
  const auto page = CUNHUO_TRY(read_page(params.limit, params.cursor, cursors, list, keys));
  mk::OrderPage found;
  if (scope == Scope::station) {
    found = CUNHUO_TRY(station_page(s, caller, filters, page));
  } else if (auto q = CUNHUO_TRY(query_for(s, scope, caller, filters))) {
    q->after = page.after;
    q->limit = static_cast<int>(page.limit);
    found = CUNHUO_TRY(mk::list_orders(s, *q));
  }
  const View view = view_of(ObjectKind::order, caller.role, relation_of(scope));
  CUNHUO_ASSERT(view != View::none);
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& o : found.items) write_order_item(w, o, view);
  w.end_array();
  write_next(w, cursors, list, found.next);
  w.end_object();
  return w.take();
}

void add_list_routes(RouteTable& table, ListContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  const QueryParam limit{.name = "limit", .type = "integer", .description = "1 to 100 (20)"};
  const QueryParam cursor{.name = "cursor", .description = "next_cursor of the page before"};
  table.add({
      .method = "GET",
      .pattern = "/api/v1/orders",
      .access =
          only({Role::consumer, Role::org_buyer, Role::farmer, Role::shop_manager,
                Role::station_operator, Role::county_centre, Role::poverty_office, Role::admin}),
      .response_schema = page_schema(order_item_schema()),
      .query = {{.name = "status", .description = "an order status (every role)"},
                {.name = "from",
                 .description = "created on or after this day, YYYY-MM-DD in "
                                "Shanghai (buyer, shop, station, centre, office, admin)"},
                {.name = "to", .description = "created on or before this day, YYYY-MM-DD"},
                {.name = "shop",
                 .type = "integer",
                 .description = "a shop of your area (station: any shop)"},
                {.name = "village",
                 .description = "a village of your area, 12 digits (station: any village)"},
                {.name = "to_pack",
                 .type = "boolean",
                 .description = "true: paid orders to pack, by pack_by, oldest first (shop)"},
                limit,
                cursor},
      .errors = {"invalid_status", std::string(kInvalidDate), std::string(kInvalidDateRange),
                 std::string(kFilterNotAllowed), std::string(kOutsideYourArea),
                 std::string(kInvalidCursor), "invalid_region_code", "invalid_type"},
      .summary = "Orders of your role: a buyer's own, a shop's (to pack), those passing a "
                 "station, a centre's or office's area, everyone's (admin); newest first",
      .handler = bind(list_orders),
  });
  table.add({.method = "GET",
             .pattern = "/api/v1/campaigns",
             .access = anyone(),
             .response_schema = page_schema(campaign_fields_schema({})),
             .query = {{.name = "region", .description = "a code of the campaign's county"},
                       limit,
                       cursor},
             .errors = {"invalid_region_code", std::string(kInvalidCursor)},
             .summary = "Campaigns running now, newest first",
             .handler = bind(list_campaigns)});
  table.add({.method = "GET",
             .pattern = "/api/v1/campaigns/:id",
             .access = anyone(),
             .response_schema = campaign_detail_schema(),
             .summary = "One campaign with its listings and, where the shop agreed, their "
                        "campaign prices",
             .handler = bind(get_campaign)});
  table.add({.method = "GET",
             .pattern = "/api/v1/organisations/:id/progress",
             .access = only({Role::org_buyer, Role::county_centre, Role::admin}),
             .response_schema = progress_schema(),
             .summary = "An organisation's paid spending against its budget and certified share "
                        "(its buyers, a paired county's centre)",
             .handler = bind(get_progress)});
}

}  // namespace cunhuo::storefront
