#include "payments/reconciliation.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "core/json.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 7, "reconciliation reports",
     "CREATE TABLE IF NOT EXISTS reconciliations (\n"
     "  id {{ID}},\n"
     "  bill_date VARCHAR(10) NOT NULL,\n"
     "  provider VARCHAR(20) NOT NULL,\n"
     "  matched INT NOT NULL,\n"
     "  difference_count INT NOT NULL,\n"
     "  differences TEXT NOT NULL,\n"
     "  run_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS reconciliations_date ON reconciliations (bill_date, id);\n"},
};

struct Item {
  std::string type, reference;
  std::int64_t intent_id = 0, fen = 0;
};
using Side = std::map<std::string, Item>;  // "payment:<intent>" or "refund:<provider ref>"

Result<Side> books(db::Session& s, const std::string& provider, std::int64_t from, std::int64_t to) {
  Side side;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT id, amount_fen FROM payment_intents WHERE "
                                          "provider = ? AND status IN ('succeeded', 'returned') "
                                          "AND paid_at >= ? AND paid_at < ?",
                                          {provider, from, to})))
    side["payment:" + r.str(0)] = Item{"payment", r.str(0), r.i64(0), r.i64(1)};
  for (const auto& r : CUNHUO_TRY(s.query("SELECT r.provider_ref, r.intent_id, r.amount_fen FROM provider_refunds r JOIN payment_intents i "
                                          "ON i.id = r.intent_id WHERE i.provider = ? AND r.status = 'sent' AND r.sent_at >= ? "
                                          "AND r.sent_at < ?", {provider, from, to})))
    side["refund:" + r.str(0)] = Item{"refund", r.str(0), r.i64(1), r.i64(2)};
  return side;
}

Side provider_side(const std::vector<BillLine>& bill) {
  Side side;
  for (const auto& l : bill) {
    const std::string ref = l.type == "payment" ? std::to_string(l.intent_id) : l.provider_ref;
    side[l.type + ":" + ref] = Item{l.type, ref, l.intent_id, l.amount_fen};
  }
  return side;
}

std::string differences_json(const std::vector<Difference>& ds) {
  JsonWriter w;
  w.begin_array();
  for (const auto& d : ds)
    w.begin_object().field("kind", d.kind).field("type", d.type).field("reference", d.reference).field("intent_id", d.intent_id)
        .field("books_fen", d.books_fen).field("provider_fen", d.provider_fen).end_object();
  w.end_array();
  return w.take();
}

std::vector<Difference> differences_from(const std::string& text) {
  std::vector<Difference> out;
  auto doc = Json::parse(text);
  if (!doc.ok() || doc->type() != Json::Type::array) return out;
  for (const auto& d : doc->as_array())
    out.push_back(Difference{d.find("kind")->as_string(), d.find("type")->as_string(), d.find("reference")->as_string(),
                             d.find("intent_id")->as_integer(), d.find("books_fen")->as_integer(), d.find("provider_fen")->as_integer()});
  return out;
}

}  // namespace

std::span<const db::Migration> reconciliation_migrations() { return kMigrations; }

Result<Reconciliation> reconcile(db::Database& db, PaymentProvider& provider, const std::string& date, const Clock& clock) {
  auto day = parse_date(date);
  if (!day) return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  const auto bill = CUNHUO_TRY(provider.bill(date));
  const std::int64_t from = shanghai_midnight_ms(*day), to = from + 86'400'000;
  const Side ours = CUNHUO_TRY(db.read([&](db::Session& s) { return books(s, provider.name(), from, to); }));
  const Side theirs = provider_side(bill);
  Reconciliation r;
  r.date = date;
  r.provider = provider.name();
  r.run_at_ms = clock.now_ms();
  for (const auto& [key, item] : ours) {
    auto it = theirs.find(key);
    if (it == theirs.end()) r.differences.push_back({"missing_at_provider", item.type, item.reference, item.intent_id, item.fen, 0});
    else if (it->second.fen != item.fen) r.differences.push_back({"amount_mismatch", item.type, item.reference, item.intent_id, item.fen, it->second.fen});
    else ++r.matched;
  }
  for (const auto& [key, item] : theirs)
    if (!ours.contains(key)) r.differences.push_back({"missing_in_books", item.type, item.reference, item.intent_id, 0, item.fen});
  for (const auto& d : r.differences)
    spdlog::warn("reconciliation {} {}: {} {} {} (books {} fen, provider {} fen)", date, r.provider, d.kind, d.type, d.reference,
                 d.books_fen, d.provider_fen);
  r.id = CUNHUO_TRY(db.write([&](db::Session& tx) -> Result<std::int64_t> {
    CUNHUO_TRY(tx.exec("INSERT INTO reconciliations (bill_date, provider, matched, difference_count, differences, run_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       {date, r.provider, r.matched, static_cast<std::int64_t>(r.differences.size()),
                        differences_json(r.differences), r.run_at_ms}));
    return tx.last_insert_id();
  }));
  return r;
}

Result<std::optional<Reconciliation>> find_reconciliation(db::Session& s, const std::string& date) {
  auto row = CUNHUO_TRY(s.query_one("SELECT id, bill_date, provider, matched, differences, run_at FROM reconciliations "
                                    "WHERE bill_date = ? ORDER BY id DESC LIMIT 1", {date}));
  if (!row) return std::optional<Reconciliation>();
  return std::optional<Reconciliation>(
      Reconciliation{row->i64(0), row->str(1), row->str(2), static_cast<int>(row->i64(3)), differences_from(row->str(4)), row->i64(5)});
}

}  // namespace cunhuo::payments
