// Accounts and their sessions made straight in the store before a benchmark's timed part.
// One account goes through Auth::create_account (its checks and one Argon2 hash); the
// others copy its password hash, and each gets a session written as Auth writes one. So
// the setup costs neither thousands of password hashes nor a trip through login and its
// rate limits, and the timed part measures only what it names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::bench {

struct BenchAccount {
  std::int64_t id = 0;
  std::string token;  // for "Authorization: Bearer <token>"
};

// The store at `url`; a benchmark that cannot open it says so and exits.
std::unique_ptr<db::Database> open_store_or_exit(const std::string& url);

// Creates `n` accounts like `like`; account i has the phone `like.phone` plus i, and
// `vary(account, i)`, when given, changes anything else (its shop, say).
using VaryAccount = std::function<void(storefront::NewAccount& account, int i)>;
Result<std::vector<BenchAccount>> make_accounts(db::Database& db, const Clock& clock,
                                                const storefront::NewAccount& like, int n,
                                                const VaryAccount& vary = {});

}  // namespace cunhuo::bench
