#include "storefront/cart.hpp"

#include <algorithm>
#include <charconv>

#include "core/assert.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

// The owner column is kMaxCartOwnerBytes wide (cart.hpp).
constexpr db::Migration kMigrations[] = {
    {"storefront", 14, "carts of visitors and accounts",
     "CREATE TABLE IF NOT EXISTS cart_lines (\n"
     "  owner VARCHAR(40) NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  quantity BIGINT NOT NULL,\n"
     "  added_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (owner, product_id)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS cart_lines_added ON cart_lines (added_at);\n"},
    {"storefront", 19, "a cart line remembers the campaign it was put in through",
     "ALTER TABLE cart_lines ADD COLUMN campaign_id BIGINT;\n"},
};

db::Value campaign_value(std::optional<mk::CampaignId> campaign) {
  return campaign ? db::Value(campaign->value) : db::Value();
}

Error bad_quantity() {
  return make_error(ErrorKind::invalid, "invalid_quantity",
                    "a quantity from 1 to " + std::to_string(kMaxCartQuantity), "quantity");
}

Result<std::optional<std::int64_t>> quantity_in_cart(db::Session& s, const CartOwner& owner,
                                                     mk::ProductId product) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT quantity FROM cart_lines WHERE owner = ? AND product_id = ?",
                             {owner.key, product.value}));
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(row->i64(0));
}

}  // namespace

std::span<const db::Migration> cart_migrations() { return kMigrations; }

Result<std::vector<CartLine>> cart_lines(db::Session& s, const CartOwner& owner) {
  std::vector<CartLine> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT product_id, quantity, campaign_id FROM cart_lines "
                          "WHERE owner = ? ORDER BY added_at, product_id",
                          {owner.key}))) {
    CartLine line{.product = mk::ProductId{r.i64(0)}, .quantity = r.i64(1)};
    if (auto c = r.opt_i64(2)) line.campaign = mk::CampaignId{*c};
    out.push_back(line);
  }
  return out;
}

Status add_to_cart(db::Session& tx, const CartOwner& owner, const CartLine& line,
                   const Clock& clock) {
  CUNHUO_ASSERT(owner.key.size() <= kMaxCartOwnerBytes);
  const std::int64_t quantity = line.quantity;
  const mk::ProductId product = line.product;
  if (quantity < 1 || quantity > kMaxCartQuantity) return bad_quantity();
  if (auto had = CUNHUO_TRY(quantity_in_cart(tx, owner, product))) {
    if (*had + quantity > kMaxCartQuantity) return bad_quantity();
    CUNHUO_TRY(
        tx.exec("UPDATE cart_lines SET quantity = ?, "
                "campaign_id = COALESCE(?, campaign_id) WHERE owner = ? AND product_id = ?",
                {*had + quantity, campaign_value(line.campaign), owner.key, product.value}));
    return {};
  }
  if (CUNHUO_TRY(cart_lines(tx, owner)).size() >= kMaxCartLines)
    return make_error(ErrorKind::conflict, "cart_full",
                      "a cart holds at most " + std::to_string(kMaxCartLines) + " products");
  CUNHUO_TRY(
      tx.exec("INSERT INTO cart_lines (owner, product_id, quantity, added_at, campaign_id) "
              "VALUES (?, ?, ?, ?, ?)",
              {owner.key, product.value, quantity, clock.now_ms(), campaign_value(line.campaign)}));
  return {};
}

Status set_cart_quantity(db::Session& tx, const CartOwner& owner, mk::ProductId product,
                         std::int64_t quantity) {
  if (quantity < 1 || quantity > kMaxCartQuantity) return bad_quantity();
  auto done =
      CUNHUO_TRY(tx.exec("UPDATE cart_lines SET quantity = ? WHERE owner = ? AND product_id = ?",
                         {quantity, owner.key, product.value}));
  if (done.affected_rows == 0 && !CUNHUO_TRY(quantity_in_cart(tx, owner, product)))
    return make_error(ErrorKind::not_found, "not_found", "not in the cart");
  return {};
}

Status remove_from_cart(db::Session& tx, const CartOwner& owner, mk::ProductId product) {
  CUNHUO_TRY(tx.exec("DELETE FROM cart_lines WHERE owner = ? AND product_id = ?",
                     {owner.key, product.value}));
  return {};
}

Status clear_cart(db::Session& tx, const CartOwner& owner) {
  CUNHUO_TRY(tx.exec("DELETE FROM cart_lines WHERE owner = ?", {owner.key}));
  return {};
}

Status move_cart(db::Session& tx, const CartOwner& from, const CartOwner& to, const Clock& clock) {
  for (const auto& line : CUNHUO_TRY(cart_lines(tx, from))) {
    const auto had = CUNHUO_TRY(quantity_in_cart(tx, to, line.product)).value_or(0);
    const std::int64_t room = kMaxCartQuantity - had;
    if (room <= 0) continue;
    // A line past the bounds is dropped rather than refusing the login.
    CartLine moved = line;
    moved.quantity = std::min(room, line.quantity);
    auto added = add_to_cart(tx, to, moved, clock);
    if (!added.ok() && added.error().code != "cart_full") return added.error();
  }
  return clear_cart(tx, from);
}

Result<std::int64_t> prune_carts(db::Session& tx, std::int64_t now_ms) {
  return db::prune_older(tx, "cart_lines", "added_at", now_ms - kCartKeptMs, kCartPruneBatch);
}

Result<std::int64_t> cart_quantity(std::string_view typed) {
  std::int64_t q = 0;
  auto [end, ec] = std::from_chars(typed.data(), typed.data() + typed.size(), q);
  if (typed.empty() || ec != std::errc() || end != typed.data() + typed.size() || q < 1 ||
      q > kMaxCartQuantity)
    return bad_quantity();
  return q;
}

}  // namespace cunhuo::storefront
