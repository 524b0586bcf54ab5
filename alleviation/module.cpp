#include "alleviation/module.hpp"

#include "alleviation/scores.hpp"

namespace cunhuo::alleviation {

std::vector<db::Migration> migrations() {
  const auto scores = score_migrations();
  return std::vector<db::Migration>(scores.begin(), scores.end());
}

}  // namespace cunhuo::alleviation
