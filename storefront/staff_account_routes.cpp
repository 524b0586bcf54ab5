// Accounts made by those who vouch for them, over HTTP (staff_accounts.hpp has the rules).
#include <optional>
#include <string>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "logistics/network.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/registry.hpp"
#include "storefront/route_support.hpp"
#include "storefront/staff_accounts.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

constexpr std::size_t kMaxPhoneBytes = 20;
constexpr std::size_t kMaxStatusBytes = 12;  // a claim status, read before it is parsed

using Context = StaffAccountsContext;

Error outside_area(std::string field) {
  return make_error(ErrorKind::forbidden, "outside_your_area", "this is outside your area",
                    std::move(field));
}

Result<std::string> read_phone(const FieldReader& body) {
  auto phone = CUNHUO_TRY(body.string("phone", kMaxPhoneBytes));
  if (!is_mobile_number(phone))
    return make_error(ErrorKind::invalid, "invalid_phone",
                      "phone must be an 11-digit mobile number", "phone");
  return phone;
}

// ---- staff accounts ----

struct StaffRequest {
  std::string phone, display_name;
  Role role = Role::helper;
  std::optional<std::string> region_code, node_code;
};

schema::Schema staff_request_schema() {
  using namespace schema;
  std::vector<std::string> roles;
  for (const auto& rule : creation_rules()) roles.emplace_back(to_string(rule.role));
  return object(
      {required("phone", text(kMaxPhoneBytes)),
       required("display_name", text(kMaxDisplayNameBytes, 1)),
       required("role", name_among(kMaxRoleNameBytes, roles)),
       optional("region_code",
                text(kVillageCodeDigits).described("where the account works (not a station's)")),
       optional("node_code", text(kMaxNodeCodeBytes).described("a station operator's station"))});
}

Result<StaffRequest> read_staff_request(const Request& req) {
  auto doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"phone", "display_name", "role", "region_code", "node_code"}));
  StaffRequest r;
  r.phone = CUNHUO_TRY(read_phone(body));
  r.display_name = CUNHUO_TRY(body.string("display_name", kMaxDisplayNameBytes));
  r.role = CUNHUO_TRY(parse_role(CUNHUO_TRY(body.string("role", kMaxRoleNameBytes))));
  r.region_code = CUNHUO_TRY(body.optional_string("region_code", kVillageCodeDigits));
  r.node_code = CUNHUO_TRY(body.optional_string("node_code", kMaxNodeCodeBytes));
  return r;
}

// Where a new account is placed, and the field of the request that said so.
struct Place {
  std::string region_code;
  std::optional<std::int64_t> node_id;
  std::string field;
};

bool level_fits(Placement placement, RegionLevel level) {
  switch (placement) {
    case Placement::township: return level == RegionLevel::township;
    case Placement::county_or_township:
      return level == RegionLevel::county || level == RegionLevel::township;
    case Placement::any_area:
      return level == RegionLevel::county || level == RegionLevel::township ||
             level == RegionLevel::village;
    case Placement::station: return false;
  }
  return false;
}

Result<Place> station_place(db::Session& s, const StaffRequest& r) {
  if (r.region_code)
    return make_error(ErrorKind::invalid, "node_code_only",
                      "a station operator is placed by its station's node_code", "region_code");
  if (!r.node_code)
    return make_error(ErrorKind::invalid, "missing_field", "name the station", "node_code");
  auto node = CUNHUO_TRY(logistics::find_node(s, *r.node_code));
  if (!node)
    return make_error(ErrorKind::invalid, "unknown_node", "no node with this code", "node_code");
  // The operator acts for the households of the station's township (assisted selling): a
  // station placed at a county would give it the whole county.
  const auto level = region_level(node->region_code);
  if (node->kind != logistics::NodeKind::township_station || !level.ok() ||
      *level != RegionLevel::township)
    return make_error(ErrorKind::invalid, "not_a_station", "this node is not a township station",
                      "node_code");
  return Place{node->region_code, node->id.value, "node_code"};
}

Result<Place> place_of(db::Session& s, const CreationRule& rule, const StaffRequest& r) {
  if (rule.placement == Placement::station) return station_place(s, r);
  if (r.node_code)
    return make_error(ErrorKind::invalid, "region_code_only",
                      "only a station operator is placed at a node", "node_code");
  if (!r.region_code)
    return make_error(ErrorKind::invalid, "missing_field", "name the area", "region_code");
  const RegionLevel level = CUNHUO_TRY(region_level(*r.region_code));
  if (!level_fits(rule.placement, level))
    return make_error(ErrorKind::invalid, "invalid_region_level",
                      rule.placement == Placement::township
                          ? "a township office is placed at a 9-digit township code"
                          : "name a county, township or village code",
                      "region_code");
  return Place{*r.region_code, std::nullopt, "region_code"};
}

Result<Response> create_staff(Context& ctx, const Call& call) {
  const Account& creator = call.caller();
  auto r = CUNHUO_TRY(read_staff_request(call.request));
  const auto kind = creator_kind(creator);
  if (!kind)
    return make_error(ErrorKind::forbidden, "county_office_only",
                      "a county office, not a township's, makes accounts");
  const CreationRule* rule = creation_rule(*kind, r.role);
  if (rule == nullptr)
    return make_error(ErrorKind::invalid, "role_not_creatable",
                      "you cannot make an account of this role", "role");
  auto made = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<Account> {
    const Place place = CUNHUO_TRY(place_of(tx, *rule, r));
    if (rule->own_county_only && !region_within(place.region_code, county_of(creator.region_code)))
      return outside_area(place.field);
    const NewAccount account{.phone = r.phone,
                             .password = "",  // logs in by a code sent to the phone
                             .display_name = r.display_name,
                             .role = r.role,
                             .region_code = place.region_code,
                             .household_id = std::nullopt,
                             .shop_id = std::nullopt,
                             .node_id = place.node_id};
    const std::int64_t id = CUNHUO_TRY(ctx.auth.create_account(tx, account));
    if (r.role == Role::helper)
      CUNHUO_TRY(mk::link_helper_account(tx, r.phone, id, place.region_code));
    CUNHUO_CHECK(record_account_action(tx,
                                       {.actor = creator.id,
                                        .action = AccountAction::account_created,
                                        .subject = id,
                                        .area_code = place.region_code,
                                        .detail = std::string(to_string(r.role))},
                                       ctx.clock));
    return std::move(*CUNHUO_TRY(Auth::find_account(tx, id)));
  }));
  JsonWriter w;
  write_account(w, made);
  return Response::json(201, w.take());
}

// ---- farmer claims ----

schema::Schema claim_schema() {
  using namespace schema;
  return object({required("id", id()), required("account_id", id()), required("household_id", id()),
                 required("shop_id", id()), required("village_code", text()),
                 required("status", choice({"pending", "confirmed", "refused"})),
                 required("reason", text()), optional("phone_matched", boolean()),
                 required("invited_by", id()), optional("decided_by", id()),
                 optional("decided_at", utc_time()), required("created_at", utc_time())});
}

void write_claim(JsonWriter& w, const FarmerClaim& c) {
  w.begin_object().field("id", c.id).field("account_id", c.account_id);
  w.field("household_id", c.household_id).field("shop_id", c.shop_id);
  w.field("village_code", c.village_code).field("status", to_string(c.status));
  w.field("reason", c.reason);
  if (c.phone_matched) w.field("phone_matched", *c.phone_matched);
  w.field("invited_by", c.invited_by);
  if (c.decided_by) w.field("decided_by", *c.decided_by);
  if (c.decided_at_ms) w.field("decided_at", format_utc(*c.decided_at_ms));
  w.field("created_at", format_utc(c.created_at_ms)).end_object();
}

// A claim and its account, as invitations and decisions answer.
schema::Schema claim_with_account_schema() {
  using namespace schema;
  return object({required("claim", claim_schema()), required("account", account_schema())});
}

Result<Response> claim_with_account(db::Session& s, std::int64_t claim_id, int status) {
  auto claim = CUNHUO_TRY(find_claim(s, claim_id));
  CUNHUO_ASSERT(claim.has_value());
  auto account = CUNHUO_TRY(Auth::find_account(s, claim->account_id));
  CUNHUO_ASSERT(account.has_value());
  JsonWriter w;
  w.begin_object().key("claim");
  write_claim(w, *claim);
  w.key("account");
  write_account(w, *account);
  w.end_object();
  return Response::json(status, w.take());
}

schema::Schema invitation_schema() {
  using namespace schema;
  return object({required("phone", text(kMaxPhoneBytes)),
                 required("display_name", text(kMaxDisplayNameBytes, 1)),
                 required("household_id", id())});
}

// The cooperative's own manager invites; the household is one of its members and lies in
// its county.
Result<mk::Household> invited_household(db::Session& s, const mk::Shop& shop,
                                        std::int64_t household_id) {
  auto household = CUNHUO_TRY(mk::find_household(s, mk::HouseholdId{household_id}));
  if (!household)
    return make_error(ErrorKind::invalid, "unknown_household", "no such household", "household_id");
  if (!region_within(household->village_code, county_of(shop.village_code)))
    return outside_area("household_id");
  for (const auto& member : shop.members)
    if (member.value == household_id) return std::move(*household);
  return make_error(ErrorKind::invalid, "not_a_member",
                    "the household is not a member of this cooperative", "household_id");
}

Result<Response> invite_farmer(Context& ctx, const Call& call) {
  const Account& manager = call.caller();
  const mk::ShopId shop_id{CUNHUO_TRY(path_id(call.request))};
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"phone", "display_name", "household_id"}));
  const std::string phone = CUNHUO_TRY(read_phone(body));
  const std::string name = CUNHUO_TRY(body.string("display_name", kMaxDisplayNameBytes));
  const std::int64_t household_id = CUNHUO_TRY(body.integer("household_id", 1, INT64_MAX));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto shop = CUNHUO_TRY(mk::find_shop(tx, shop_id));
    if (!shop || !CUNHUO_TRY(can_manage_shop(tx, manager, shop_id))) return no_such("shop");
    if (shop->kind != mk::ShopKind::cooperative)
      return make_error(ErrorKind::conflict, "not_a_cooperative",
                        "a cooperative invites its members; this is a household's shop");
    const auto household = CUNHUO_TRY(invited_household(tx, *shop, household_id));
    // No household until an office confirms: a pending farmer acts for none.
    const NewAccount account{.phone = phone,
                             .password = "",
                             .display_name = name,
                             .role = Role::farmer,
                             .region_code = county_of(shop->village_code),
                             .household_id = std::nullopt,
                             .shop_id = std::nullopt,
                             .node_id = std::nullopt};
    const std::int64_t account_id = CUNHUO_TRY(ctx.auth.create_account(tx, account));
    const std::int64_t claim = CUNHUO_TRY(open_claim(tx,
                                                     {.account_id = account_id,
                                                      .household_id = household_id,
                                                      .shop_id = shop_id.value,
                                                      .invited_by = manager.id,
                                                      .village_code = household.village_code},
                                                     ctx.clock));
    CUNHUO_CHECK(record_account_action(tx,
                                       {.actor = manager.id,
                                        .action = AccountAction::farmer_invited,
                                        .subject = account_id,
                                        .area_code = household.village_code,
                                        .detail = "household:" + std::to_string(household_id)},
                                       ctx.clock));
    return claim_with_account(tx, claim, 201);
  });
}

// The area whose claims an office decides: its own (an admin's is everywhere).
std::string decider_area(const Account& a) { return a.role == Role::admin ? "" : a.region_code; }

schema::Schema claim_page_schema() {
  using namespace schema;
  return object(
      {required("claims", array(claim_schema())), required("next_cursor", nullable(text()))});
}

Result<Response> list_claims(Context& ctx, const Call& call) {
  const Account& office = call.caller();
  const Request& req = call.request;
  std::optional<ClaimStatus> status;
  if (auto s = req.query_param("status")) status = CUNHUO_TRY(parse_claim_status(*s));
  const std::string list = "farmer-claims:" + std::to_string(office.id) + ":" +
                           std::string(status ? to_string(*status) : "");
  auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
  auto claims = CUNHUO_TRY(ctx.db.read(
      [&](db::Session& s) { return claims_in(s, decider_area(office), status, page); }));
  std::optional<std::string> next;
  if (static_cast<std::int64_t>(claims.size()) > page.limit) {
    claims.resize(page.limit);
    next = ctx.cursors.seal(list, {claims.back().id});
  }
  JsonWriter w;
  w.begin_object().key("claims").begin_array();
  for (const auto& c : claims) write_claim(w, c);
  w.end_array().key("next_cursor");
  next ? w.value(*next) : w.null();
  w.end_object();
  return Response::json(200, w.take());
}

schema::Schema decision_schema() {
  using namespace schema;
  return object({required("approve", boolean()),
                 optional("reason", text(kMaxDecisionReasonBytes)
                                        .described("required to refuse, or to confirm a "
                                                   "phone that is not the card's"))});
}

// Confirming ties the account to the household; the card's phone vouches for it, or the
// office says why it confirms another.
Result<ClaimDecision> confirmation(db::Session& tx, const FarmerClaim& claim,
                                   ClaimDecision decision) {
  auto account = CUNHUO_TRY(Auth::find_account(tx, claim.account_id));
  auto household = CUNHUO_TRY(mk::find_household(tx, mk::HouseholdId{claim.household_id}));
  CUNHUO_ASSERT(account.has_value());
  if (!household) return no_such("household");
  const bool matched = account->phone == household->phone;
  if (!matched && decision.reason.empty())
    return make_error(ErrorKind::conflict, "phone_mismatch",
                      "the account's phone is not the card's: give the reason to confirm it",
                      "reason");
  decision.phone_matched = matched;
  CUNHUO_CHECK(
      Auth::tie_household(tx, claim.account_id, claim.household_id, household->village_code));
  return decision;
}

Result<Response> decide(Context& ctx, const Call& call) {
  const Account& office = call.caller();
  const std::int64_t claim_id = CUNHUO_TRY(path_id(call.request));
  auto doc = CUNHUO_TRY(json_body(call.request));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"approve", "reason"}));
  const bool approve = CUNHUO_TRY(body.boolean("approve"));
  const std::string reason =
      CUNHUO_TRY(body.optional_string("reason", kMaxDecisionReasonBytes)).value_or("");
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto claim = CUNHUO_TRY(find_claim(tx, claim_id));
    if (!claim || !region_within(claim->village_code, decider_area(office)))
      return no_such("claim");
    if (claim->status != ClaimStatus::pending)
      return make_error(ErrorKind::conflict, "claim_decided", "this claim was decided already");
    if (!approve && reason.empty())
      return make_error(ErrorKind::invalid, "missing_field", "say why you refuse", "reason");
    ClaimDecision decision{.claim_id = claim_id,
                           .decided_by = office.id,
                           .status = approve ? ClaimStatus::confirmed : ClaimStatus::refused,
                           .reason = reason,
                           .phone_matched = std::nullopt};
    if (approve) decision = CUNHUO_TRY(confirmation(tx, *claim, decision));
    CUNHUO_CHECK(decide_claim(tx, decision, ctx.clock));
    CUNHUO_CHECK(record_account_action(
        tx,
        {.actor = office.id,
         .action = approve ? AccountAction::claim_confirmed : AccountAction::claim_refused,
         .subject = claim->account_id,
         .area_code = claim->village_code,
         .detail = "household:" + std::to_string(claim->household_id)},
        ctx.clock));
    // Its next request, through any process, sees the household.
    CUNHUO_CHECK(Auth::account_changed(tx, claim->account_id, ctx.clock));
    return claim_with_account(tx, claim_id, 200);
  });
  return answer;
}

// ---- the account audit ----

// The county whose audit a caller reads: a county office its own, an admin any (`?county=`)
// or all; a township office none.
Result<std::string> audit_county(const Account& a, const Request& req) {
  if (a.role == Role::admin) {
    auto county = req.query_param("county");
    if (!county) return std::string();
    if (county->size() != kCountyCodeDigits ||
        CUNHUO_TRY(region_level(*county, "county")) != RegionLevel::county)
      return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code",
                        "county");
    return *county;
  }
  if (creator_kind(a) != Creator::county_office)
    return make_error(ErrorKind::forbidden, "county_office_only",
                      "the county office reads its county's account audit");
  if (auto county = req.query_param("county"); county && *county != a.region_code)
    return outside_area("county");
  return a.region_code;
}

schema::Schema audit_page_schema() {
  using namespace schema;
  std::vector<std::string> actions;
  for (auto action : {AccountAction::account_created, AccountAction::farmer_invited,
                      AccountAction::claim_confirmed, AccountAction::claim_refused})
    actions.emplace_back(to_string(action));
  const Schema entry =
      object({required("id", id()), required("at", utc_time()), required("actor_account", id()),
              required("action", choice(actions)), required("subject_account", id()),
              required("area_code", text()), required("detail", text())});
  return object({required("entries", array(entry)), required("next_cursor", nullable(text()))});
}

Result<Response> list_audit(Context& ctx, const Call& call) {
  const Account& reader = call.caller();
  const Request& req = call.request;
  const std::string county = CUNHUO_TRY(audit_county(reader, req));
  const std::string list = "account-audit:" + std::to_string(reader.id) + ":" + county;
  auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
  auto entries =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return account_audit(s, county, page); }));
  std::optional<std::string> next;
  if (static_cast<std::int64_t>(entries.size()) > page.limit) {
    entries.resize(page.limit);
    next = ctx.cursors.seal(list, {entries.back().id});
  }
  JsonWriter w;
  w.begin_object().key("entries").begin_array();
  for (const auto& e : entries) {
    w.begin_object().field("id", e.id).field("at", format_utc(e.at_ms));
    w.field("actor_account", e.actor).field("action", to_string(e.action));
    w.field("subject_account", e.subject).field("area_code", e.area_code);
    w.field("detail", e.detail).end_object();
  }
  w.end_array().key("next_cursor");
  next ? w.value(*next) : w.null();
  w.end_object();
  return Response::json(200, w.take());
}

std::vector<QueryParam> page_params() {
  return {{.name = "limit",
           .type = "integer",
           .description = "items a page, 1 to 100 (20)",
           .required = false},
          {.name = "cursor",
           .type = "string",
           .description = "the next_cursor of the page before",
           .required = false}};
}

}  // namespace

void add_staff_account_routes(RouteTable& table, StaffAccountsContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  table.add({.method = "POST",
             .pattern = "/api/v1/accounts/staff",
             .access = only({Role::poverty_office, Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = staff_request_schema(),
             .response_schema = account_schema(),
             .success_status = 201,
             .errors = {"invalid_phone", "invalid_role", "county_office_only", "role_not_creatable",
                        "node_code_only", "region_code_only", "unknown_node", "not_a_station",
                        "invalid_region_code", "invalid_region_level", "outside_your_area",
                        "duplicate_phone"},
             .summary = "Make a township office, helper or station operator account in your "
                        "area; it logs in by a code sent to its phone",
             .handler = bind(create_staff)});
  table.add({.method = "POST",
             .pattern = "/api/v1/shops/:id/invitations",
             .access = only({Role::shop_manager, Role::admin}),
             .body = Body::json,
             .request_schema = invitation_schema(),
             .response_schema = claim_with_account_schema(),
             .success_status = 201,
             .errors = {"invalid_phone", "not_a_cooperative", "unknown_household",
                        "outside_your_area", "not_a_member", "duplicate_phone"},
             .summary = "A cooperative invites a member farmer: an account waiting for the "
                        "office to confirm its household",
             .handler = bind(invite_farmer)});
  std::vector<QueryParam> claim_query = page_params();
  claim_query.push_back({.name = "status",
                         .type = "string",
                         .description = "pending, confirmed or refused (all when absent)",
                         .required = false});
  table.add({.method = "GET",
             .pattern = "/api/v1/farmer-claims",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = claim_page_schema(),
             .query = claim_query,
             .errors = {"invalid_status", std::string(kInvalidCursor), "invalid_limit"},
             .summary = "Farmers' claims to households in your area, oldest first",
             .handler = bind(list_claims)});
  table.add({.method = "POST",
             .pattern = "/api/v1/farmer-claims/:id/decision",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = decision_schema(),
             .response_schema = claim_with_account_schema(),
             .errors = {"claim_decided", "phone_mismatch"},
             .summary = "Confirm a farmer's household against its card, or refuse it (office)",
             .handler = bind(decide)});
  std::vector<QueryParam> audit_query = page_params();
  audit_query.push_back({.name = "county",
                         .type = "string",
                         .description = "an admin's choice of county (all when absent)",
                         .required = false});
  table.add({.method = "GET",
             .pattern = "/api/v1/account-audit",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = audit_page_schema(),
             .query = audit_query,
             .errors = {"county_office_only", "outside_your_area", "invalid_region_code",
                        std::string(kInvalidCursor), "invalid_limit"},
             .summary = "Who made, invited or confirmed which account, newest first (county "
                        "office, admin)",
             .handler = bind(list_audit)});
}

}  // namespace cunhuo::storefront
