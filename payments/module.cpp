#include "payments/module.hpp"

namespace cunhuo::payments {

// No tables yet: the module's first migration arrives with its first feature.
std::span<const db::Migration> migrations() { return {}; }

}  // namespace cunhuo::payments
