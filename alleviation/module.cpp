#include "alleviation/module.hpp"

#include "alleviation/exits.hpp"
#include "alleviation/funds.hpp"
#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "alleviation/work_queue.hpp"

namespace cunhuo::alleviation {

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list : {score_migrations(), exit_migrations(), monitoring_migrations(),
                    fund_migrations(), work_queue_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

}  // namespace cunhuo::alleviation
