// Seed data sets and their loader. A seed is JSON: the county, its logistics nodes,
// households, shops and accounts. Loading is one transaction and is recorded by name,
// so a set loads once and a crash half-way leaves nothing behind.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::seeds {

// An account to create, with the ids its references resolved to.
struct SeedAccount {
  std::string phone, password, display_name, role, region_code;
  std::optional<std::int64_t> household_id, shop_id, node_id;
};

// Accounts belong to the storefront (auth); the loader hands them over through this.
using AccountCreator =
    std::function<Result<std::int64_t>(db::Session& tx, const SeedAccount& account)>;

std::span<const db::Migration> migrations();

// The small built-in set the tests use (its accounts' password is published).
inline constexpr std::string_view kFixtureName = "fixture";

// The JSON of a built-in seed set ("fixture", the small set the tests use), if there is
// one by that name. The demo county "minqin" is generated: seeds/demo.hpp.
std::optional<std::string_view> builtin(std::string_view name);
// A set once loaded is never changed (a store that loaded it would not see the change):
// what a later version adds is a set of its own, named "<set>:<what>:<version>", loaded
// after it. These are a built-in set's, in order ("fixture:places:1", its place names).
std::vector<std::string_view> updates_of(std::string_view name);

// Whether the store holds a seed set of invented sample data ("sample_data": true).
Result<bool> holds_sample_data(db::Session& s);
// Whether it holds accounts whose password is published: the fixture's or sample data's.
Result<bool> holds_published_accounts(db::Session& s);

struct LoadReport {
  bool loaded = false;  // false: this set was loaded before
  int nodes = 0, links = 0, households = 0, shops = 0, accounts = 0, organisations = 0;
  int places = 0;
};

// The ids a seed set's households ("household") or shops ("shop") were given, by their
// keys in the seed, as the loader recorded them with the set.
Result<std::map<std::string, std::int64_t>> seeded_ids(db::Session& s, std::string_view seed,
                                                       std::string_view kind);

// `seed` is the JSON text of a seed set.
Result<LoadReport> load(db::Database& db, std::string_view seed, const Clock& clock,
                        const AccountCreator& create_account);

}  // namespace cunhuo::seeds
