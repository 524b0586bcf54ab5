// Names of places by their administrative division code: the county, its townships and its
// villages (core/region.hpp), as the county's civil affairs office publishes them. Pages show
// a name beside every code they show; a code the store has no name for shows alone. Names
// come with the seed data (a seed's "places"); nothing else writes them.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::marketplace {

inline constexpr std::size_t kMaxPlaceNameChars = 50;  // characters, not bytes
// Codes looked up in one statement; a longer list is read in batches of this many.
inline constexpr std::size_t kPlaceLookupBatch = 500;

// Names by code; a code the store has no name for is absent.
using PlaceNames = std::map<std::string, std::string>;

std::span<const db::Migration> place_migrations();

// Names the place `code` (a county, township or village code): a second call renames it.
Status name_place(db::Session& tx, std::string_view code, std::string_view name);
// The names the store has for `codes` (duplicates and unknown codes are fine).
Result<PlaceNames> place_names(db::Session& s, const std::vector<std::string>& codes);

}  // namespace cunhuo::marketplace
