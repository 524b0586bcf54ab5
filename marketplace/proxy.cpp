#include "marketplace/proxy.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/assert.hpp"
#include "core/enum_names.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 14, "orders and listings made by proxy at a station",
     "CREATE TABLE IF NOT EXISTS proxy_actions (\n"
     "  id {{ID}},\n"
     "  kind VARCHAR(12) NOT NULL,\n"
     "  object_id BIGINT NOT NULL,\n"
     "  operator_account BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  villager_account BIGINT,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS proxy_actions_household ON proxy_actions (household_id, id);\n"
     "CREATE INDEX IF NOT EXISTS proxy_actions_object ON proxy_actions (kind, object_id);\n"},
};

constexpr EnumNames<ProxyKind, 2> kKindNames = {{
    {ProxyKind::order, "order"},
    {ProxyKind::listing, "listing"},
}};

Result<ProxyKind> parse_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return make_error(ErrorKind::internal, "unknown_proxy_kind", "an unknown proxy action kind");
}

// Writes fields as name=length:bytes; an absent one as name!; so no two contents share a
// form. The first field names what the form is of, and its version.
class CanonicalForm {
 public:
  explicit CanonicalForm(std::string_view of) { text("form", of); }
  CanonicalForm& text(std::string_view name, std::string_view value) {
    out_.append(name).append("=").append(std::to_string(value.size())).append(":");
    out_.append(value).append(";");
    return *this;
  }
  CanonicalForm& number(std::string_view name, std::int64_t value) {
    return text(name, std::to_string(value));
  }
  template <typename T, typename Write>
  CanonicalForm& maybe(std::string_view name, const std::optional<T>& value, Write write) {
    if (value) return write(*this, name, *value);
    out_.append(name).append("!;");
    return *this;
  }
  std::string digest() const {
    CUNHUO_ASSERT(sodium_init() >= 0);
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(out_.data()),
                       out_.size(), nullptr, 0);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return hex;
  }

 private:
  std::string out_;
};

auto write_text = [](CanonicalForm& f, std::string_view name,
                     const std::string& v) -> CanonicalForm& { return f.text(name, v); };

}  // namespace

std::string order_digest(const CheckoutRequest& cart) {
  CanonicalForm form("proxy-order-v1");
  std::vector<CheckoutItem> items = cart.items;
  std::sort(items.begin(), items.end(), [](const CheckoutItem& a, const CheckoutItem& b) {
    return std::pair(a.product.value, a.quantity) < std::pair(b.product.value, b.quantity);
  });
  form.number("items", static_cast<std::int64_t>(items.size()));
  for (const auto& item : items)
    form.number("product", item.product.value).number("quantity", item.quantity);
  form.maybe("campaign", cart.campaign,
             [](CanonicalForm& f, std::string_view name, CampaignId c) -> CanonicalForm& {
               return f.number(name, c.value);
             });
  const ShippingAddress& to = cart.ship_to;
  form.text("name", to.name).text("phone", to.phone).text("address", to.address);
  return form.text("region", to.region_code).digest();
}

std::string listing_digest(const ListingFields& l) {
  CanonicalForm form("proxy-listing-v1");
  form.maybe("title", l.title, write_text).maybe("category", l.category, write_text);
  form.maybe("unit", l.unit, write_text).maybe("harvest_date", l.harvest_date, write_text);
  form.maybe("lot", l.lot, write_text).maybe("origin_code", l.origin_code, write_text);
  form.maybe("origin_name", l.origin_name, write_text);
  form.maybe("description", l.description, write_text);
  auto number = [](CanonicalForm& f, std::string_view name, auto v) -> CanonicalForm& {
    return f.number(name, static_cast<std::int64_t>(v));
  };
  form.maybe("price_fen", l.price ? std::optional(l.price->fen()) : std::nullopt, number);
  form.maybe("stock", l.stock, number).maybe("shelf_life_days", l.shelf_life_days, number);
  form.maybe("temperature", l.temperature,
             [](CanonicalForm& f, std::string_view name, TemperatureClass t) -> CanonicalForm& {
               return f.text(name, to_string(t));
             });
  form.maybe("active", l.active, number);
  form.maybe("producers", l.producers,
             [](CanonicalForm& f, std::string_view name,
                std::vector<ProducerShare> shares) -> CanonicalForm& {
               std::sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) {
                 return std::pair(a.household.value, a.share_bps) <
                        std::pair(b.household.value, b.share_bps);
               });
               f.number(name, static_cast<std::int64_t>(shares.size()));
               for (const auto& s : shares)
                 f.number("household", s.household.value).number("share_bps", s.share_bps);
               return f;
             });
  return form.digest();
}

std::string_view unit_in_chinese(std::string_view unit) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kNames = {{
      {"jin", "斤"},
      {"kg", "公斤"},
      {"box", "箱"},
      {"piece", "件"},
  }};
  for (const auto& [code, name] : kNames)
    if (code == unit) return name;
  return unit;
}

std::string_view to_string(ProxyKind kind) { return name_of(kKindNames, kind); }

std::span<const db::Migration> proxy_migrations() { return kMigrations; }

Status record_proxy_action(db::Session& tx, const ProxyAction& a, const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO proxy_actions (kind, object_id, operator_account, household_id, "
              "villager_account, at) VALUES (?, ?, ?, ?, ?, ?)",
              {to_string(a.kind), a.object_id, a.operator_account, a.household.value,
               a.villager_account, now}));
  // The household's own trail says it too: what was done in its name, and by whom.
  const std::string field = "proxy_" + std::string(to_string(a.kind));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO household_audit (household_id, actor, field, old_value, new_value, reason, at) "
      "VALUES (?, ?, ?, '', ?, ?, ?)",
      {a.household.value, "account:" + std::to_string(a.operator_account), field,
       std::to_string(a.object_id), "confirmed by the household's code", now}));
  return {};
}

Result<std::vector<ProxyAction>> proxy_actions_of(db::Session& s, HouseholdId household) {
  std::vector<ProxyAction> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT id, kind, object_id, operator_account, household_id, villager_account, "
                   "at FROM proxy_actions WHERE household_id = ? ORDER BY id",
                   {household.value})))
    out.push_back(ProxyAction{.id = r.i64(0),
                              .kind = CUNHUO_TRY(parse_kind(r.str(1))),
                              .object_id = r.i64(2),
                              .operator_account = r.i64(3),
                              .household = HouseholdId{r.i64(4)},
                              .villager_account = r.opt_i64(5),
                              .at_ms = r.i64(6)});
  return out;
}

Result<std::optional<ShopId>> household_shop(db::Session& s, HouseholdId household) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT s.id FROM shops s JOIN shop_members m ON m.shop_id = s.id "
                             "WHERE s.kind = 'household' AND m.household_id = ? "
                             "ORDER BY s.id LIMIT 1",
                             {household.value}));
  if (!row) return std::optional<ShopId>();
  return std::optional<ShopId>(ShopId{row->i64(0)});
}

}  // namespace cunhuo::marketplace
