#include "payments/settlement.hpp"

#include <map>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "payments/accounts.hpp"
#include "payments/ledger.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 4, "settlement lines",
     "CREATE TABLE IF NOT EXISTS settlement_lines (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  order_id BIGINT NOT NULL,\n"
     "  line_no INT NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  title VARCHAR(200) NOT NULL,\n"
     "  quantity BIGINT NOT NULL,\n"
     "  share_bps INT NOT NULL,\n"
     "  gross_fen BIGINT NOT NULL,\n"
     "  fees_fen BIGINT NOT NULL,\n"
     "  net_fen BIGINT NOT NULL,\n"
     "  campaign_id BIGINT,\n"
     "  campaign_kind VARCHAR(20) NOT NULL,\n"
     "  settled_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS settlement_lines_household ON settlement_lines (household_id, "
     "settled_at);\n"
     "CREATE INDEX IF NOT EXISTS settlement_lines_order ON settlement_lines (order_id);\n"},
    // A month's sales per household (open statistics) read from the index alone.
    {"payments", 9, "settlement lines by month",
     "CREATE INDEX IF NOT EXISTS settlement_lines_month ON settlement_lines (settled_at, "
     "household_id, gross_fen, net_fen);\n"},
};

struct Line {
  int line_no = 0;
  std::int64_t product_id = 0, quantity = 0;
  std::string title, campaign_kind;
  std::optional<std::int64_t> campaign_id;
  Money total;
  bool alleviation = false;
  std::vector<std::pair<std::int64_t, int>> producers;  // household, share bps
};

Result<std::vector<Line>> load_lines(db::Session& tx, std::int64_t order_id) {
  std::vector<Line> out;
  for (const auto& r :
       CUNHUO_TRY(tx.query("SELECT line_no, product_id, quantity, title, campaign_kind, "
                           "campaign_id, line_total_fen, alleviation, producers "
                           "FROM payment_lines WHERE order_id = ? ORDER BY line_no",
                           {order_id}))) {
    Line l{static_cast<int>(r.i64(0)), r.i64(1),      r.i64(2), r.str(3), r.str(4), r.opt_i64(5),
           Money::fen(r.i64(6)),       r.i64(7) != 0, {}};
    auto doc = CUNHUO_TRY(Json::parse(r.str(8)));
    for (const auto& p : doc.as_array())
      l.producers.emplace_back(p.find("household_id")->as_integer(),
                               static_cast<int>(p.find("share_bps")->as_integer()));
    std::sort(l.producers.begin(),
              l.producers.end());  // ties in remainders go to the lower household id
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::int64_t> weights_of(const std::vector<Line>& lines) {
  std::vector<std::int64_t> w;
  for (const auto& l : lines) w.push_back(l.total.fen());
  return w;
}

std::int64_t bps_of(std::int64_t amount, int bps) {
  return static_cast<std::int64_t>((static_cast<__int128>(amount) * bps) / 10000);
}

struct Split {
  std::map<std::int64_t, std::int64_t> households;  // household → net fen
  std::int64_t commission = 0, logistics = 0, platform = 0;
  std::vector<SettlementLine> lines;
};

Result<Split> split(const std::vector<Line>& lines, std::int64_t order_id, Money available,
                    bool cooperative, const FeeRules& rules) {
  const auto weights = weights_of(lines);
  const auto gross = CUNHUO_TRY(allocate(available, weights));
  const Money logistics_total = Money::fen(std::min(rules.logistics_fee.fen(), available.fen()));
  std::vector<std::int64_t> gross_weights;
  for (auto g : gross) gross_weights.push_back(g.fen());
  const auto logistics = CUNHUO_TRY(allocate(logistics_total, gross_weights));
  Split out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    const std::int64_t g = gross[i].fen(), lf = logistics[i].fen();
    CUNHUO_ASSERT(lf <= g);  // logistics is allocated by gross weight out of at most the total
    const std::int64_t pf = std::min(
        bps_of(g, l.alleviation ? rules.alleviation_platform_fee_bps : rules.platform_fee_bps),
        g - lf);
    const std::int64_t cf =
        cooperative ? std::min(bps_of(g, rules.cooperative_commission_bps), g - lf - pf) : 0;
    const std::int64_t net = g - lf - pf - cf;
    out.logistics += lf;
    out.platform += pf;
    out.commission += cf;
    std::vector<std::int64_t> shares;
    for (const auto& [h, bps] : l.producers) shares.push_back(bps);
    const auto nets = CUNHUO_TRY(allocate(Money::fen(net), shares));
    const auto fees = CUNHUO_TRY(allocate(Money::fen(lf + pf + cf), shares));
    for (std::size_t k = 0; k < l.producers.size(); ++k) {
      const auto [h, bps] = l.producers[k];
      out.households[h] += nets[k].fen();
      SettlementLine s;
      s.household_id = h;
      s.order_id = order_id;
      s.line_no = l.line_no;
      s.product_id = l.product_id;
      s.quantity = l.quantity;
      s.share_bps = bps;
      s.title = l.title;
      s.campaign_kind = l.campaign_kind;
      s.campaign_id = l.campaign_id;
      s.net = nets[k];
      s.fees = fees[k];
      s.gross = Money::fen(nets[k].fen() + fees[k].fen());
      out.lines.push_back(std::move(s));
    }
  }
  std::int64_t sum = out.commission + out.logistics + out.platform;
  for (const auto& [h, v] : out.households) sum += v;
  CUNHUO_ASSERT(sum == available.fen());  // a settlement splits exactly what is in escrow
  return out;
}

}  // namespace

Result<PriceSplit> split_of_price(Money price, bool cooperative, bool alleviation,
                                  const FeeRules& rules) {
  // One household standing for all: the shares between households do not change the sum.
  const std::vector<Line> lines{Line{.line_no = 1,
                                     .product_id = 0,
                                     .quantity = 1,
                                     .title = {},
                                     .campaign_kind = {},
                                     .campaign_id = std::nullopt,
                                     .total = price,
                                     .alleviation = alleviation,
                                     .producers = {{1, 10000}}}};
  const auto s = CUNHUO_TRY(split(lines, 0, price, cooperative, rules));
  return PriceSplit{.price = price,
                    .logistics = Money::fen(s.logistics),
                    .platform = Money::fen(s.platform),
                    .commission = Money::fen(s.commission),
                    .households = Money::fen(s.households.at(1))};
}

namespace {

Status move_money(db::Session& tx, std::int64_t order_id, std::int64_t shop_id, const Split& s,
                  const Clock& clock) {
  const std::string escrow = accounts::escrow(order_id), ref = "order:" + std::to_string(order_id);
  const std::string key = "settle:order:" + std::to_string(order_id) + ":";
  std::vector<AccountSpec> specs{{accounts::shop(shop_id), false},
                                 {accounts::kLogisticsFees, false},
                                 {accounts::kPlatformFees, false}};
  std::vector<Transfer> moves;
  for (const auto& [h, net] : s.households) {
    specs.push_back({accounts::household(h), false});
    if (net > 0)
      moves.push_back({key + "household:" + std::to_string(h), escrow, accounts::household(h),
                       Money::fen(net), TransferKind::posted, "", ref, "sale income"});
  }
  if (s.commission > 0)
    moves.push_back({key + "shop", escrow, accounts::shop(shop_id), Money::fen(s.commission),
                     TransferKind::posted, "", ref, "cooperative commission"});
  if (s.logistics > 0)
    moves.push_back({key + "logistics", escrow, accounts::kLogisticsFees, Money::fen(s.logistics),
                     TransferKind::posted, "", ref, "logistics fee"});
  if (s.platform > 0)
    moves.push_back({key + "platform", escrow, accounts::kPlatformFees, Money::fen(s.platform),
                     TransferKind::posted, "", ref, "platform fee"});
  CUNHUO_CHECK(open_accounts(tx, specs, clock));
  CUNHUO_TRY(transfer(tx, moves, clock));
  return {};
}

Status record_lines(db::Session& tx, const std::vector<SettlementLine>& lines, std::int64_t now) {
  for (const auto& l : lines)
    CUNHUO_TRY(tx.exec(
        "INSERT INTO settlement_lines (household_id, order_id, line_no, product_id, title, "
        "quantity, share_bps, gross_fen, "
        "fees_fen, net_fen, campaign_id, campaign_kind, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?)",
        {l.household_id, l.order_id, l.line_no, l.product_id, l.title, l.quantity, l.share_bps,
         l.gross.fen(), l.fees.fen(), l.net.fen(), l.campaign_id, l.campaign_kind, now}));
  return {};
}

}  // namespace

std::span<const db::Migration> settlement_migrations() { return kMigrations; }

Result<SettleOutcome> complete_order(db::Session& tx, std::int64_t order_id, const FeeRules& rules,
                                     const Clock& clock) {
  CUNHUO_TRY(tx.exec("UPDATE payment_orders SET completed = 1 WHERE order_id = ?", {order_id}));
  return settle_order(tx, order_id, rules, clock);
}

Result<SettleOutcome> settle_order(db::Session& tx, std::int64_t order_id, const FeeRules& rules,
                                   const Clock& clock) {
  auto order = CUNHUO_TRY(tx.query_one(
      "SELECT status, completed, shop_id, cooperative FROM payment_orders WHERE order_id = ?",
      {order_id}));
  if (!order) return SettleOutcome::not_payable;
  if (order->str(0) == "settled") return SettleOutcome::already;
  if (order->str(0) != "paid" || order->i64(1) == 0) return SettleOutcome::not_payable;
  auto escrow = CUNHUO_TRY(find_account(tx, accounts::escrow(order_id)));
  CUNHUO_ASSERT(escrow);  // a paid order has an escrow account
  if (escrow->debits_pending > 0) return SettleOutcome::waiting;
  const auto now = clock.now_ms();
  const Money available = Money::fen(escrow->balance());
  if (available.fen() > 0) {
    const auto lines = CUNHUO_TRY(load_lines(tx, order_id));
    const Split s = CUNHUO_TRY(split(lines, order_id, available, order->i64(3) != 0, rules));
    CUNHUO_CHECK(move_money(tx, order_id, order->i64(2), s, clock));
    CUNHUO_CHECK(record_lines(tx, s.lines, now));
    IncomeSettled income{.order_id = order_id};  // income arrived: who earned it
    for (const auto& [h, net] : s.households) income.household_ids.push_back(h);
    CUNHUO_TRY(outbox::publish(tx, kIncomeSettled, income.encode(), clock));
  }
  CUNHUO_TRY(
      tx.exec("UPDATE payment_orders SET status = 'settled', settled_at = ? WHERE order_id = ?",
              {now, order_id}));
  return SettleOutcome::settled;
}

Result<std::map<std::int64_t, Money>> household_net_income(db::Session& s, std::int64_t after,
                                                           std::int64_t last, std::int64_t from_ms,
                                                           std::int64_t to_ms) {
  std::map<std::int64_t, Money> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT household_id, SUM(net_fen) FROM settlement_lines WHERE household_id > ? "
           "AND household_id <= ? AND settled_at >= ? AND settled_at < ? GROUP BY household_id",
           {after, last, from_ms, to_ms})))
    out[r.i64(0)] = Money::fen(r.i64(1));
  return out;
}

Result<std::vector<HouseholdSales>> sales_by_household(db::Session& s, std::int64_t from_ms,
                                                       std::int64_t to_ms) {
  std::vector<HouseholdSales> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT household_id, SUM(gross_fen), SUM(net_fen) FROM settlement_lines "
                          "WHERE settled_at >= ? "
                          "AND settled_at < ? GROUP BY household_id ORDER BY household_id LIMIT " +
                              std::to_string(kMaxSellingHouseholds),
                          {from_ms, to_ms})))
    out.push_back(HouseholdSales{r.i64(0), Money::fen(r.i64(1)), Money::fen(r.i64(2))});
  return out;
}

namespace {

constexpr const char* kLineColumns =
    "SELECT household_id, order_id, product_id, quantity, line_no, share_bps, title, "
    "campaign_kind, campaign_id, gross_fen, fees_fen, net_fen, settled_at FROM settlement_lines ";

SettlementLine line_from(const db::Row& r) {
  SettlementLine l;
  l.household_id = r.i64(0);
  l.order_id = r.i64(1);
  l.product_id = r.i64(2);
  l.quantity = r.i64(3);
  l.line_no = static_cast<int>(r.i64(4));
  l.share_bps = static_cast<int>(r.i64(5));
  l.title = r.str(6);
  l.campaign_kind = r.str(7);
  l.campaign_id = r.opt_i64(8);
  l.gross = Money::fen(r.i64(9));
  l.fees = Money::fen(r.i64(10));
  l.net = Money::fen(r.i64(11));
  l.settled_at_ms = r.i64(12);
  return l;
}

}  // namespace

Result<std::vector<SettlementLine>> settlement_lines(db::Session& s, std::int64_t household_id,
                                                     std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<SettlementLine> out;
  for (const auto& r : CUNHUO_TRY(s.query(std::string(kLineColumns) +
                                              "WHERE household_id = ? AND settled_at >= ? "
                                              "AND settled_at < ? ORDER BY settled_at, order_id, "
                                              "line_no",
                                          {household_id, from_ms, to_ms})))
    out.push_back(line_from(r));
  return out;
}

Result<std::vector<SettlementLine>> settlement_lines_of_order(db::Session& s,
                                                              std::int64_t order_id) {
  std::vector<SettlementLine> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string(kLineColumns) + "WHERE order_id = ? ORDER BY line_no, id", {order_id})))
    out.push_back(line_from(r));
  return out;
}

std::string IncomeSettled::encode() const {
  JsonWriter w;
  w.begin_object().field("order_id", order_id).key("household_ids").begin_array();
  for (std::int64_t id : household_ids) w.value(id);
  w.end_array().end_object();
  return w.take();
}

Result<IncomeSettled> IncomeSettled::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("IncomeSettled", payload));
  return IncomeSettled{.order_id = CUNHUO_TRY(p.integer("order_id")),
                       .household_ids = CUNHUO_TRY(p.integers("household_ids"))};
}

}  // namespace cunhuo::payments
