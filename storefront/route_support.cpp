#include "storefront/route_support.hpp"

#include "storefront/policy.hpp"

#include <charconv>

#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::storefront {

Response respond(const Result<Response>& r) { return r.ok() ? *r : error_response(r.error()); }

Result<std::int64_t> path_id(const Request& req, const char* name) {
  const std::string& text = req.params.at(name);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0)
    return make_error(ErrorKind::not_found, "not_found", "no such object", name);
  return id;
}

Error no_such(const char* what) {
  return make_error(ErrorKind::not_found, "not_found", std::string("no such ") + what);
}

Result<Account> require_role(Auth& auth, const Request& req, std::initializer_list<Role> roles) {
  auto account = CUNHUO_TRY(auth.authenticate(req));
  for (Role r : roles)
    if (account.role == r) return account;
  return make_error(ErrorKind::forbidden, "forbidden", "your role cannot do this");
}

Result<bool> can_manage_shop(db::Session& s, const Account& a, marketplace::ShopId shop) {
  if (a.role == Role::admin) return true;
  if (a.role == Role::shop_manager) return a.shop_id && *a.shop_id == shop.value;
  if (a.role != Role::farmer || !a.household_id) return false;
  auto row =
      CUNHUO_TRY(s.query_one("SELECT 1 FROM shops s JOIN shop_members m ON m.shop_id = s.id WHERE "
                             "s.id = ? AND s.kind = 'household' "
                             "AND m.household_id = ?",
                             {shop.value, *a.household_id}));
  return row.has_value();
}

Result<Json> json_body(const Request& req) { return Json::parse(req.body); }

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether the parameters after a media range (";q=0;level=1") leave it acceptable.
bool weight_above_zero(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    const auto param = trimmed(params.substr(0, semi));
    params = semi == std::string_view::npos ? "" : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const auto value = param.substr(2);
    return value.find_first_not_of("0.") != std::string_view::npos;  // "0", "0.0", "0.000": no
  }
  return true;
}

}  // namespace

bool accepts(const Request& req, std::string_view media_type) {
  const std::string header = ascii_lower(req.header("accept").value_or(""));
  std::string_view rest = header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto range = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    const auto semi = range.find(';');
    if (trimmed(range.substr(0, semi)) != media_type) continue;
    return semi == std::string_view::npos || weight_above_zero(range.substr(semi + 1));
  }
  return false;
}

Result<std::optional<std::int64_t>> query_integer(const Request& req, const char* name,
                                                  std::int64_t lo, std::int64_t hi) {
  auto text = req.query_param(name);
  if (!text) return std::optional<std::int64_t>();
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || end != text->data() + text->size() || v < lo || v > hi)
    return make_error(
        ErrorKind::invalid, "out_of_range",
        "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi), name);
  return std::optional<std::int64_t>(v);
}

std::string actor_of(const Account& a) { return "account:" + std::to_string(a.id); }

Result<bool> may_see_order(db::Session& s, const Account& a, const marketplace::Order& o) {
  Relation relation = Relation::unrelated;
  if (o.buyer == a.id || CUNHUO_TRY(can_manage_shop(s, a, o.shop))) {
    relation = Relation::own;
  } else if (!a.region_code.empty()) {
    auto shop = CUNHUO_TRY(marketplace::find_shop(s, o.shop));
    if (shop && region_within(shop->village_code, a.region_code)) relation = Relation::in_area;
  }
  return view_of(ObjectKind::order, a.role, relation) != View::none;
}

Result<std::optional<marketplace::Household>> household_for(db::Session& s, const Account& a,
                                                            std::int64_t id) {
  auto h = CUNHUO_TRY(marketplace::find_household(s, marketplace::HouseholdId{id}));
  if (!h) return h;
  const bool own = a.role == Role::farmer && a.household_id && *a.household_id == id;
  const bool office = (a.role == Role::poverty_office || a.role == Role::county_centre) &&
                      region_within(h->village_code, a.region_code);
  if (own || office || a.role == Role::admin) return h;
  if (a.role == Role::helper && CUNHUO_TRY(marketplace::helper_of(s, h->id)) == a.id)
    return h;  // the household's assigned helper
  return std::optional<marketplace::Household>();
}

}  // namespace cunhuo::storefront
