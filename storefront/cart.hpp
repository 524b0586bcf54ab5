// The buyer's cart on the pages: products from any shops, kept in the store (never in
// memory) under the visitor's cookie until they log in, then under their account. A
// cart is bounded: at most kMaxCartLines products, each at most kMaxCartQuantity.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"

namespace cunhuo::storefront {

inline constexpr std::size_t kMaxCartLines = 30;       // within marketplace::kMaxCheckoutItems
inline constexpr std::int64_t kMaxCartQuantity = 99;   // of one product
inline constexpr std::size_t kMaxCartOwnerBytes = 40;  // the column cart_lines.owner
static_assert(kMaxCartLines <= marketplace::kMaxCheckoutItems);
// A line is forgotten this long after it was put in: as long as the visitor cookie lasts.
inline constexpr std::int64_t kCartKeptMs = 30LL * 24 * 3600 * 1000;
inline constexpr int kCartPruneBatch = 1000;  // rows per pruning transaction

// Whose cart: an account's ("a:<id>") or a visitor's ("v:<visitor id>").
struct CartOwner {
  std::string key;
  static CartOwner account(std::int64_t id) { return {"a:" + std::to_string(id)}; }
  static CartOwner visitor(const std::string& id) { return {"v:" + id}; }
};

struct CartLine {
  marketplace::ProductId product;
  std::int64_t quantity = 0;
  std::optional<marketplace::CampaignId> campaign;  // put in through this campaign's page
};

std::span<const db::Migration> cart_migrations();

// Oldest line first.
Result<std::vector<CartLine>> cart_lines(db::Session& s, const CartOwner& owner);
// Adds the line's quantity (1..kMaxCartQuantity) of a product; invalid_quantity past the
// bound, cart_full when it would be a line too many. A line's campaign replaces the one the
// product was put in with before; a line without one keeps it.
Status add_to_cart(db::Session& tx, const CartOwner& owner, const CartLine& line,
                   const Clock& clock);
// Sets a line's quantity (1..kMaxCartQuantity); a line not in the cart is not_found.
Status set_cart_quantity(db::Session& tx, const CartOwner& owner, marketplace::ProductId product,
                         std::int64_t quantity);
Status remove_from_cart(db::Session& tx, const CartOwner& owner, marketplace::ProductId product);
Status clear_cart(db::Session& tx, const CartOwner& owner);
// A visitor logs in: their lines join the account's (quantities added, within the bounds).
Status move_cart(db::Session& tx, const CartOwner& from, const CartOwner& to, const Clock& clock);
// Forgets up to a batch of lines older than kCartKeptMs; returns how many went.
Result<std::int64_t> prune_carts(db::Session& tx, std::int64_t now_ms);
// Reads a quantity typed in a form: a whole number within 1..kMaxCartQuantity.
Result<std::int64_t> cart_quantity(std::string_view typed);

}  // namespace cunhuo::storefront
