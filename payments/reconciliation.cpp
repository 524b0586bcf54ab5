#include "payments/reconciliation.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
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
    // A report is of the whole bill ('') or of one county's part of it, which only that
    // county's centre (and an admin) reads.
    {"payments", 11, "reconciliation reports by county",
     "ALTER TABLE reconciliations ADD COLUMN county_code VARCHAR(6) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS reconciliations_county ON reconciliations "
     "(bill_date, county_code, id);\n"},
};

// One payment or refund, with the shops of the orders it pays or refunds (which county's
// part of the bill it is in).
struct Item {
  std::string type, reference;
  std::int64_t intent_id = 0, fen = 0;
  std::set<std::int64_t> shops;
};
using Side = std::map<std::string, Item>;  // "payment:<intent>" or "refund:<provider ref>"

std::string key_of(const std::string& type, const std::string& reference) {
  return type + ":" + reference;
}

void add_shop(Item& item, const db::Row& row, std::size_t column) {
  if (!row.is_null(column)) item.shops.insert(row.i64(column));
}

// Payments the books say the provider captured in [from, to), each with its checkout's
// shops (one row per order).
Status book_payments(db::Session& s, const std::string& provider, std::int64_t from,
                     std::int64_t to, Side& side) {
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT i.id, i.amount_fen, o.shop_id FROM payment_intents i LEFT JOIN payment_orders o "
           "ON o.checkout_id = i.checkout_id WHERE i.provider = ? "
           "AND i.status IN ('succeeded', 'returned') AND i.paid_at >= ? AND i.paid_at < ?",
           {provider, from, to}))) {
    Item& item = side[key_of("payment", r.str(0))];
    item.type = "payment";
    item.reference = r.str(0);
    item.intent_id = r.i64(0);
    item.fen = r.i64(1);
    add_shop(item, r, 2);
  }
  return {};
}

// Refunds the books say went to the provider in [from, to), each with its order's shop.
Status book_refunds(db::Session& s, const std::string& provider, std::int64_t from, std::int64_t to,
                    Side& side) {
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT r.provider_ref, r.intent_id, r.amount_fen, o.shop_id FROM provider_refunds r "
           "JOIN payment_intents i ON i.id = r.intent_id "
           "LEFT JOIN payment_orders o ON o.order_id = r.order_id WHERE i.provider = ? "
           "AND r.status IN ('sent', 'succeeded') AND r.sent_at >= ? AND r.sent_at < ?",
           {provider, from, to}))) {
    Item& item = side[key_of("refund", r.str(0))];
    item.type = "refund";
    item.reference = r.str(0);
    item.intent_id = r.i64(1);
    item.fen = r.i64(2);
    add_shop(item, r, 3);
  }
  return {};
}

Result<Side> books(db::Session& s, const std::string& provider, std::int64_t from,
                   std::int64_t to) {
  Side side;
  CUNHUO_CHECK(book_payments(s, provider, from, to, side));
  CUNHUO_CHECK(book_refunds(s, provider, from, to, side));
  return side;
}

Side provider_side(const std::vector<BillLine>& bill) {
  Side side;
  for (const auto& l : bill) {
    const std::string ref = l.type == "payment" ? std::to_string(l.intent_id) : l.provider_ref;
    side[key_of(l.type, ref)] = Item{.type = l.type,
                                     .reference = ref,
                                     .intent_id = l.intent_id,
                                     .fen = l.amount_fen,
                                     .shops = {}};
  }
  return side;
}

// A provider line takes the shops of its counterpart in the books or, without one, those
// of its intent's checkout as the books know it (none for an intent they do not know).
Status place_provider_lines(db::Session& s, const Side& ours, Side& theirs) {
  for (auto& [key, item] : theirs) {
    if (auto it = ours.find(key); it != ours.end()) {
      item.shops = it->second.shops;
      continue;
    }
    for (const auto& r :
         CUNHUO_TRY(s.query("SELECT o.shop_id FROM payment_intents i JOIN payment_orders o "
                            "ON o.checkout_id = i.checkout_id WHERE i.id = ?",
                            {item.intent_id})))
      add_shop(item, r, 0);
  }
  return {};
}

bool in_scope(const Item& item, const BillScope& scope) {
  if (scope.whole()) return true;
  return std::any_of(item.shops.begin(), item.shops.end(),
                     [&](std::int64_t shop) { return scope.shop_ids.contains(shop); });
}

void keep_scope(Side& side, const BillScope& scope) {
  std::erase_if(side, [&](const auto& entry) { return !in_scope(entry.second, scope); });
}

std::vector<Difference> differences_from(const std::string& text) {
  std::vector<Difference> out;
  auto doc = Json::parse(text);
  if (!doc.ok() || doc->type() != Json::Type::array) return out;
  for (const auto& d : doc->as_array())
    out.push_back(Difference{d.find("kind")->as_string(), d.find("type")->as_string(),
                             d.find("reference")->as_string(), d.find("intent_id")->as_integer(),
                             d.find("books_fen")->as_integer(),
                             d.find("provider_fen")->as_integer()});
  return out;
}

Difference difference(const char* kind, const Item& item, std::int64_t books_fen,
                      std::int64_t provider_fen) {
  return Difference{.kind = kind,
                    .type = item.type,
                    .reference = item.reference,
                    .intent_id = item.intent_id,
                    .books_fen = books_fen,
                    .provider_fen = provider_fen};
}

// What matches, and every line on one side only or with another amount.
Reconciliation compare(const Side& ours, const Side& theirs) {
  Reconciliation r;
  for (const auto& [key, item] : ours) {
    auto it = theirs.find(key);
    if (it == theirs.end())
      r.differences.push_back(difference("missing_at_provider", item, item.fen, 0));
    else if (it->second.fen != item.fen)
      r.differences.push_back(difference("amount_mismatch", item, item.fen, it->second.fen));
    else
      ++r.matched;
  }
  for (const auto& [key, item] : theirs)
    if (!ours.contains(key))
      r.differences.push_back(difference("missing_in_books", item, 0, item.fen));
  return r;
}

void log_differences(const Reconciliation& r) {
  const std::string part = r.county_code.empty() ? "the whole bill" : "county " + r.county_code;
  for (const auto& d : r.differences)
    spdlog::warn("reconciliation {} {} ({}): {} {} {} (books {} fen, provider {} fen)", r.date,
                 r.provider, part, d.kind, d.type, d.reference, d.books_fen, d.provider_fen);
}

Result<std::int64_t> record(db::Session& tx, const Reconciliation& r) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO reconciliations (bill_date, provider, county_code, matched, difference_count, "
      "differences, run_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {r.date, r.provider, r.county_code, r.matched,
       static_cast<std::int64_t>(r.differences.size()), differences_json(r.differences),
       r.run_at_ms}));
  return tx.last_insert_id();
}

}  // namespace

std::string differences_json(const std::vector<Difference>& ds) {
  JsonWriter w;
  w.begin_array();
  for (const auto& d : ds)
    w.begin_object()
        .field("kind", d.kind)
        .field("type", d.type)
        .field("reference", d.reference)
        .field("intent_id", d.intent_id)
        .field("books_fen", d.books_fen)
        .field("provider_fen", d.provider_fen)
        .end_object();
  w.end_array();
  return w.take();
}

BillScope whole_bill() { return BillScope{}; }

std::span<const db::Migration> reconciliation_migrations() { return kMigrations; }

Result<Reconciliation> reconcile(db::Database& db, PaymentProvider& provider,
                                 const std::string& date, const BillScope& scope,
                                 const Clock& clock) {
  auto day = parse_date(date);
  if (!day) return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  const auto bill = CUNHUO_TRY(provider.bill(date));
  const std::int64_t from = shanghai_midnight_ms(*day), to = from + 86'400'000;
  Side ours, theirs = provider_side(bill);
  CUNHUO_CHECK(db.read([&](db::Session& s) -> Status {
    ours = CUNHUO_TRY(books(s, provider.name(), from, to));
    if (scope.whole()) return {};
    return place_provider_lines(s, ours, theirs);
  }));
  keep_scope(ours, scope);
  keep_scope(theirs, scope);
  Reconciliation r = compare(ours, theirs);
  r.date = date;
  r.provider = provider.name();
  r.county_code = scope.county_code;
  r.run_at_ms = clock.now_ms();
  log_differences(r);
  r.id = CUNHUO_TRY(db.write([&](db::Session& tx) { return record(tx, r); }));
  return r;
}

Result<std::optional<Reconciliation>> find_reconciliation(db::Session& s, const std::string& date,
                                                          const std::string& county_code) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT id, bill_date, provider, matched, differences, run_at, county_code "
      "FROM reconciliations WHERE bill_date = ? AND county_code = ? ORDER BY id DESC LIMIT 1",
      {date, county_code}));
  if (!row) return std::optional<Reconciliation>();
  return std::optional<Reconciliation>(Reconciliation{.id = row->i64(0),
                                                      .date = row->str(1),
                                                      .provider = row->str(2),
                                                      .county_code = row->str(6),
                                                      .matched = static_cast<int>(row->i64(3)),
                                                      .differences = differences_from(row->str(4)),
                                                      .run_at_ms = row->i64(5)});
}

}  // namespace cunhuo::payments
