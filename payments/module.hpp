// The payments module: the double-entry ledger, payment intents, escrow, settlement and income evidence.
// Its schema grows by appending migrations to the list in module.cpp.
#pragma once

#include <span>

#include "core/db/migrations.hpp"

namespace cunhuo::payments {

std::span<const db::Migration> migrations();

}  // namespace cunhuo::payments
