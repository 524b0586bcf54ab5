#include "marketplace/organisations.hpp"

#include "core/assert.hpp"
#include "core/region.hpp"
#include "marketplace/orders.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 8, "organisation buyers",
     "CREATE TABLE IF NOT EXISTS organisations (\n"
     "  id {{ID}},\n"
     "  name VARCHAR(200) NOT NULL,\n"
     "  kind VARCHAR(20) NOT NULL,\n"
     "  region_code VARCHAR(12) NOT NULL,\n"
     "  budget_fen BIGINT NOT NULL,\n"
     "  spent_fen BIGINT NOT NULL,\n"
     "  certified_fen BIGINT NOT NULL,\n"
     "  required_share_bps INTEGER NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  CONSTRAINT organisations_within_budget CHECK (spent_fen >= 0 AND spent_fen <= budget_fen)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS organisation_villages (\n"
     "  organisation_id BIGINT NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  PRIMARY KEY (organisation_id, village_code)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS organisation_buyers (\n"
     "  account_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  organisation_id BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS organisation_orders (\n"
     "  order_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  organisation_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  certified_fen BIGINT NOT NULL\n"
     ");\n"},
    {"marketplace", 22, "an organisation's orders, for its buyers' pages",
     "CREATE INDEX IF NOT EXISTS organisation_orders_by_org "
     "ON organisation_orders (organisation_id, order_id);\n"},
};

constexpr std::int64_t kMaxBudget = 100'000'000'000'000;  // one trillion yuan

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

}  // namespace

std::span<const db::Migration> organisation_migrations() { return kMigrations; }

Result<OrganisationId> create_organisation(db::Session& tx, const NewOrganisation& o,
                                           const Clock& clock) {
  if (o.name.empty() || o.name.size() > 200)
    return invalid("invalid_length", "name must be 1 to 200 bytes", "name");
  CUNHUO_TRY(region_level(o.region_code));
  if (o.budget.fen() < 0 || o.budget.fen() > kMaxBudget)
    return invalid("out_of_range", "budget out of range", "budget_fen");
  if (o.required_share_bps < 0 || o.required_share_bps > 10000)
    return invalid("out_of_range", "required share must be 0 to 10000 basis points",
                   "required_share_bps");
  if (o.kind == OrganisationKind::enterprise && o.required_share_bps != 0)
    return invalid("out_of_range", "only public units have a required share", "required_share_bps");
  CUNHUO_TRY(tx.exec(
      "INSERT INTO organisations (name, kind, region_code, budget_fen, spent_fen, certified_fen, "
      "required_share_bps, created_at) VALUES (?, ?, ?, ?, 0, 0, ?, ?)",
      {o.name, o.kind == OrganisationKind::enterprise ? "enterprise" : "public_unit", o.region_code,
       o.budget.fen(), o.required_share_bps, clock.now_ms()}));
  const OrganisationId id{CUNHUO_TRY(tx.last_insert_id())};
  for (std::size_t i = 0; i < o.paired_villages.size(); ++i) {
    const std::string field = "paired_villages[" + std::to_string(i) + "]";
    if (CUNHUO_TRY(region_level(o.paired_villages[i], field)) != RegionLevel::village)
      return invalid("invalid_region_code", "a village has a 12-digit code", field);
    auto added =
        tx.exec("INSERT INTO organisation_villages (organisation_id, village_code) VALUES (?, ?)",
                {id.value, o.paired_villages[i]});
    if (!added.ok())
      return added.error().code == db::kDuplicate
                 ? invalid("duplicate_item", "village named twice", field)
                 : added.error();
  }
  for (std::size_t i = 0; i < o.buyer_accounts.size(); ++i) {
    auto added =
        tx.exec("INSERT INTO organisation_buyers (account_id, organisation_id) VALUES (?, ?)",
                {o.buyer_accounts[i], id.value});
    if (!added.ok())
      return added.error().code == db::kDuplicate
                 ? make_error(ErrorKind::conflict, "buyer_taken",
                              "this account buys for another organisation",
                              "buyer_account_ids[" + std::to_string(i) + "]")
                 : added.error();
  }
  return id;
}

Result<std::optional<OrganisationId>> organisation_of_buyer(db::Session& s, std::int64_t account) {
  auto r = CUNHUO_TRY(s.query_one(
      "SELECT organisation_id FROM organisation_buyers WHERE account_id = ?", {account}));
  return r ? std::optional<OrganisationId>(OrganisationId{r->i64(0)}) : std::nullopt;
}

Status charge_order(db::Session& tx, OrganisationId org, std::int64_t order_id, Money amount,
                    Money certified) {
  assert(certified <= amount && certified.fen() >= 0);
  auto charged = CUNHUO_TRY(tx.exec(
      "UPDATE organisations SET spent_fen = spent_fen + ?, certified_fen = certified_fen + ? "
      "WHERE id = ? AND spent_fen + ? <= budget_fen",
      {amount.fen(), certified.fen(), org.value, amount.fen()}));
  if (charged.affected_rows != 1)
    return make_error(ErrorKind::conflict, "over_budget",
                      "this order is over the organisation's remaining budget", "items");
  CUNHUO_TRY(
      tx.exec("INSERT INTO organisation_orders (order_id, organisation_id, amount_fen, "
              "certified_fen) VALUES (?, ?, ?, ?)",
              {order_id, org.value, amount.fen(), certified.fen()}));
  return {};
}

Status release_order_charge(db::Session& tx, std::int64_t order_id) {
  auto charge =
      CUNHUO_TRY(tx.query_one("SELECT organisation_id, amount_fen, certified_fen FROM "
                              "organisation_orders WHERE order_id = ?",
                              {order_id}));
  if (!charge) return {};
  CUNHUO_TRY(
      tx.exec("UPDATE organisations SET spent_fen = spent_fen - ?, certified_fen = certified_fen - "
              "? WHERE id = ?",
              {charge->i64(1), charge->i64(2), charge->i64(0)}));
  CUNHUO_TRY(tx.exec("DELETE FROM organisation_orders WHERE order_id = ?", {order_id}));
  return {};
}

Result<std::optional<OrganisationReport>> organisation_report(db::Session& s, OrganisationId id) {
  auto r = CUNHUO_TRY(
      s.query_one("SELECT id, name, kind, budget_fen, spent_fen, certified_fen, required_share_bps "
                  "FROM organisations WHERE id = ?",
                  {id.value}));
  if (!r) return std::optional<OrganisationReport>();
  OrganisationReport rep;
  rep.id = OrganisationId{r->i64(0)};
  rep.name = r->str(1);
  rep.kind =
      r->str(2) == "public_unit" ? OrganisationKind::public_unit : OrganisationKind::enterprise;
  rep.budget = Money::fen(r->i64(3));
  rep.spent = Money::fen(r->i64(4));
  rep.remaining = Money::fen(r->i64(3) - r->i64(4));
  rep.certified_spent = Money::fen(r->i64(5));
  rep.required_share_bps = static_cast<int>(r->i64(6));
  const std::int64_t spent = rep.spent.fen(), certified = rep.certified_spent.fen();
  rep.achieved_share_bps = spent > 0 ? static_cast<int>(certified * 10000 / spent) : 0;
  // Buying x more of certified produce gives (c + x) / (s + x) >= r, so x >= (r*s - c) / (1 - r).
  const std::int64_t req = rep.required_share_bps;
  if (req >= 10000) {
    rep.certified_needed =
        Money::fen(spent > certified ? spent - certified : 0);  // only certified buying counts then
  } else {
    const std::int64_t numerator = req * spent - 10000 * certified;
    rep.certified_needed =
        Money::fen(numerator > 0 ? (numerator + (10000 - req) - 1) / (10000 - req) : 0);
  }
  for (const auto& v : CUNHUO_TRY(s.query("SELECT village_code FROM organisation_villages WHERE "
                                          "organisation_id = ? ORDER BY village_code",
                                          {id.value})))
    rep.paired_villages.push_back(v.str(0));
  return std::optional<OrganisationReport>(std::move(rep));
}

Result<std::optional<OrganisationProgress>> organisation_progress(db::Session& s,
                                                                  OrganisationId id) {
  auto org = CUNHUO_TRY(s.query_one(
      "SELECT budget_fen, spent_fen, required_share_bps FROM organisations WHERE id = ?",
      {id.value}));
  if (!org) return std::optional<OrganisationProgress>();
  OrganisationProgress p{.id = id,
                         .budget = Money::fen(org->i64(0)),
                         .committed = Money::fen(org->i64(1)),
                         .remaining = Money::fen(org->i64(0) - org->i64(1)),
                         .required_share_bps = static_cast<int>(org->i64(2))};
  // organisation_orders holds the charges still standing (a cancelled order gives its
  // charge back); an order is spent once paid, until it is refunded.
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT o.status, COUNT(*), SUM(c.amount_fen), SUM(c.certified_fen) "
                          "FROM organisation_orders c JOIN orders o ON o.id = c.order_id "
                          "WHERE c.organisation_id = ? GROUP BY o.status",
                          {id.value}))) {
    const auto status = CUNHUO_TRY(parse_order_status(r.str(0)));
    if (status == OrderStatus::pending_payment) {
      p.unpaid_orders += r.i64(1);
    } else if (status != OrderStatus::cancelled && status != OrderStatus::refunded) {
      p.paid_orders += r.i64(1);
      p.spent = CUNHUO_TRY(p.spent.plus(Money::fen(r.i64(2))));
      p.certified_spent = CUNHUO_TRY(p.certified_spent.plus(Money::fen(r.i64(3))));
    }
  }
  const std::int64_t spent = p.spent.fen();
  p.certified_share_bps =
      spent > 0 ? static_cast<int>(p.certified_spent.fen() * kFullShare / spent) : 0;
  return std::optional<OrganisationProgress>(p);
}

Result<std::map<std::int64_t, OrderCharge>> order_charges(db::Session& s,
                                                          const std::vector<std::int64_t>& orders) {
  CUNHUO_ASSERT(orders.size() <= 1000);
  std::map<std::int64_t, OrderCharge> out;
  if (orders.empty()) return out;
  const std::vector<db::Value> ids(orders.begin(), orders.end());
  const std::string sql =
      "SELECT order_id, organisation_id, amount_fen, certified_fen FROM organisation_orders "
      "WHERE order_id IN (" +
      db::placeholders(orders.size()) + ")";
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, ids))) {
    OrderCharge& charge = out[r.i64(0)];
    charge.organisation = r.i64(1);
    charge.amount = Money::fen(r.i64(2));
    charge.certified = Money::fen(r.i64(3));
  }
  return out;
}

Result<std::vector<SellerSpending>> paid_spending_by_shop(db::Session& s, OrganisationId id,
                                                          std::int64_t from_ms,
                                                          std::int64_t to_ms) {
  // Paid: on from payment, neither cancelled nor refunded (as organisation_progress counts).
  const std::vector<db::Value> params = {id.value,
                                         from_ms,
                                         to_ms,
                                         to_string(OrderStatus::pending_payment),
                                         to_string(OrderStatus::cancelled),
                                         to_string(OrderStatus::refunded)};
  const auto rows = CUNHUO_TRY(
      s.query_with("SELECT o.shop_id, COUNT(*), SUM(c.amount_fen), SUM(c.certified_fen) "
                   "FROM organisation_orders c JOIN orders o ON o.id = c.order_id "
                   "WHERE c.organisation_id = ? AND o.created_at >= ? AND o.created_at < ? "
                   "AND o.status NOT IN (?, ?, ?) GROUP BY o.shop_id ORDER BY o.shop_id",
                   params));
  std::vector<SellerSpending> out(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out[i].shop = rows[i].i64(0);
    out[i].orders = rows[i].i64(1);
    out[i].amount = Money::fen(rows[i].i64(2));
    out[i].certified = Money::fen(rows[i].i64(3));
  }
  return out;
}

}  // namespace cunhuo::marketplace
