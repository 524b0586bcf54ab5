// What every group of routes needs: turning results into responses, reading path ids,
// checking roles, and the object-level checks shared by marketplace and payments
// routes (who manages a shop, who may see an order).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "storefront/auth.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront {

Response respond(const Result<Response>& r);
// A positive integer path parameter; anything else is a 404, as an unknown id is.
Result<std::int64_t> path_id(const Request& req, const char* name = "id");
Error no_such(const char* what);
Result<Account> require_role(Auth& auth, const Request& req, std::initializer_list<Role> roles);
Result<Json> json_body(const Request& req);
// An optional whole-number query parameter within [lo, hi]; anything else is a 400 naming it.
Result<std::optional<std::int64_t>> query_integer(const Request& req, const char* name,
                                                  std::int64_t lo, std::int64_t hi);
std::string actor_of(const Account& a);
// Whether the request's Accept header names `media_type` ("image/webp") with a q above 0.
// Only the type named counts: "image/*" is sent by browsers that cannot show WebP too.
bool accepts(const Request& req, std::string_view media_type);

// Farmers manage their own household's shop; a shop manager their shop; admins any.
Result<bool> can_manage_shop(db::Session& s, const Account& a, marketplace::ShopId shop);
// Who may see an order: its buyer, the shop that sells it, the county's staff.
Result<bool> may_see_order(db::Session& s, const Account& a, const marketplace::Order& o);

// A farmer sees their own household; the poverty office and the centre their area's;
// the assigned helper the households they help; admins all. Anyone else: nothing (a 404 for the
// caller).
Result<std::optional<marketplace::Household>> household_for(db::Session& s, const Account& a,
                                                            std::int64_t id);

}  // namespace cunhuo::storefront
