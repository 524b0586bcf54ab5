#include "tests/bench/bench_accounts.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace cunhuo::bench {
namespace {

// Long enough for any benchmark run.
constexpr std::int64_t kBenchSessionMs = 24LL * 3600 * 1000;
// Accounts written per transaction.
constexpr int kAccountsPerTransaction = 1000;

std::string hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2, '0');
  sodium_bin2hex(out.data(), out.size() + 1, data, n);
  return out;
}

// A random session token and the digest the sessions table keeps of it (as Auth does).
std::pair<std::string, std::string> new_token() {
  unsigned char raw[32], digest[32];
  randombytes_buf(raw, sizeof raw);
  std::string token = hex(raw, sizeof raw);
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return {std::move(token), hex(digest, sizeof digest)};
}

storefront::NewAccount account_number(const storefront::NewAccount& like, int i,
                                      const VaryAccount& vary) {
  storefront::NewAccount a = like;
  a.phone = std::to_string(std::stoll(like.phone) + i);
  if (vary) vary(a, i);
  return a;
}

Result<BenchAccount> with_session(db::Session& tx, std::int64_t id, std::int64_t now_ms) {
  auto [token, digest] = new_token();
  CUNHUO_TRY(tx.exec(
      "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      {digest, id, now_ms, now_ms + kBenchSessionMs}));
  return BenchAccount{id, std::move(token)};
}

}  // namespace

std::unique_ptr<db::Database> open_store_or_exit(const std::string& url) {
  auto db = db::open_database(url);
  if (!db.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", url.c_str(), db.error().message.c_str());
    std::exit(1);
  }
  return std::move(*db);
}

Result<std::vector<BenchAccount>> make_accounts(db::Database& db, const Clock& clock,
                                                const storefront::NewAccount& like, int n,
                                                const VaryAccount& vary) {
  if (sodium_init() < 0)
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  storefront::Auth auth(db, clock);
  const std::int64_t now = clock.now_ms();
  std::string password_hash;
  std::vector<BenchAccount> out,
      batch;  // a body may run again after a conflict: it rebuilds its batch
  CUNHUO_CHECK(db.write([&](db::Session& tx) -> Status {
    batch.clear();
    const std::int64_t id = CUNHUO_TRY(auth.create_account(tx, account_number(like, 0, vary)));
    auto row = CUNHUO_TRY(tx.query_one("SELECT password_hash FROM accounts WHERE id = ?", {id}));
    password_hash = row->str(0);
    batch.push_back(CUNHUO_TRY(with_session(tx, id, now)));
    return {};
  }));
  out = batch;
  for (int first = 1; first < n; first += kAccountsPerTransaction) {
    CUNHUO_CHECK(db.write([&](db::Session& tx) -> Status {
      batch.clear();
      for (int i = first; i < std::min(n, first + kAccountsPerTransaction); ++i) {
        const auto a = account_number(like, i, vary);
        CUNHUO_TRY(tx.exec(
            "INSERT INTO accounts (phone, display_name, role, region_code, household_id, shop_id, "
            "node_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {a.phone, a.display_name, storefront::to_string(a.role), a.region_code, a.household_id,
             a.shop_id, a.node_id, password_hash, now}));
        batch.push_back(CUNHUO_TRY(with_session(tx, CUNHUO_TRY(tx.last_insert_id()), now)));
      }
      return {};
    }));
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

}  // namespace cunhuo::bench
