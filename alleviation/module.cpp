#include "alleviation/module.hpp"

namespace cunhuo::alleviation {

// No tables yet: the module's first migration arrives with its first feature.
std::span<const db::Migration> migrations() { return {}; }

}  // namespace cunhuo::alleviation
