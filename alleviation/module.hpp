// The alleviation module: exit evaluation (evaluation.hpp) and the scores kept for each
// household (scores.hpp). Monitoring, fund tracking and public notices come next.
#pragma once

#include <vector>

#include "core/db/migrations.hpp"

namespace cunhuo::alleviation {

// Every alleviation migration, in order.
std::vector<db::Migration> migrations();

}  // namespace cunhuo::alleviation
