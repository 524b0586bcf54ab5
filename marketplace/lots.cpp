#include "marketplace/lots.hpp"

#include <sodium.h>

#include "core/assert.hpp"

namespace cunhuo::marketplace {
namespace {

// The order lines by listing are read for a lot's trace (its newest orders).
constexpr db::Migration kMigrations[] = {
    {"marketplace", 26, "lot codes for traceability, order lines by listing",
     "CREATE TABLE IF NOT EXISTS lot_codes (\n"
     "  code VARCHAR(16) NOT NULL PRIMARY KEY,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  lot VARCHAR(60) NOT NULL,\n"
     "  harvest_date VARCHAR(10) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS lot_codes_lot ON lot_codes (product_id, lot);\n"
     "CREATE INDEX IF NOT EXISTS order_lines_product ON order_lines (product_id, order_id);\n"},
};

// Letters and digits a reader does not confuse (no 0/o, 1/l/i).
constexpr std::string_view kAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

std::string random_code() {
  std::string code;
  while (code.size() < kLotCodeChars) {
    unsigned char byte = 0;
    randombytes_buf(&byte, 1);
    // Only bytes below a multiple of the alphabet's size: every letter equally likely.
    const unsigned limit = 256 - 256 % kAlphabet.size();
    if (byte < limit) code += kAlphabet[byte % kAlphabet.size()];
  }
  return code;
}

}  // namespace

std::span<const db::Migration> lot_migrations() { return kMigrations; }

Result<std::string> record_lot(db::Session& tx, ProductId product, std::string_view lot,
                               std::string_view harvest_date, const Clock& clock) {
  CUNHUO_ASSERT(!lot.empty());
  if (auto code = CUNHUO_TRY(lot_code_of(tx, product, lot))) return *code;
  CUNHUO_TRY(tx.exec(
      std::string(tx.insert_ignore()) +
          " INTO lot_codes (code, product_id, lot, harvest_date, created_at) "
          "VALUES (?, ?, ?, ?, ?)",
      {random_code(), product.value, std::string(lot), std::string(harvest_date), clock.now_ms()}));
  auto code = CUNHUO_TRY(lot_code_of(tx, product, lot));
  if (!code) return make_error(ErrorKind::conflict, "lot_code_taken", "try again");
  return *code;
}

Result<std::optional<std::string>> lot_code_of(db::Session& s, ProductId product,
                                               std::string_view lot) {
  auto rows = CUNHUO_TRY(s.query("SELECT code FROM lot_codes WHERE product_id = ? AND lot = ?",
                                 {product.value, std::string(lot)}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows.front().str(0));
}

Result<std::optional<LotCode>> find_lot(db::Session& s, std::string_view code) {
  // Only codes this module could have made: the store's collation is not asked to decide.
  if (code.size() != kLotCodeChars || code.find_first_not_of(kAlphabet) != std::string_view::npos)
    return std::optional<LotCode>();
  auto rows =
      CUNHUO_TRY(s.query("SELECT code, product_id, lot, harvest_date FROM lot_codes WHERE code = ?",
                         {std::string(code)}));
  if (rows.empty()) return std::optional<LotCode>();
  const auto& r = rows.front();
  return std::optional<LotCode>(LotCode{
      .code = r.str(0), .product = ProductId{r.i64(1)}, .lot = r.str(2), .harvest_date = r.str(3)});
}

Result<std::vector<std::int64_t>> orders_of_product(db::Session& s, ProductId product, int limit) {
  std::vector<std::int64_t> out;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT DISTINCT order_id FROM order_lines WHERE "
                                          "product_id = ? ORDER BY order_id DESC LIMIT " +
                                              std::to_string(limit),
                                          {product.value})))
    out.push_back(r.i64(0));
  return out;
}

}  // namespace cunhuo::marketplace
