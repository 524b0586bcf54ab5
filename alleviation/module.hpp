// The alleviation module: exit evaluation, monitoring, fund tracking and public notices.
// Its schema grows by appending migrations to the list in module.cpp.
#pragma once

#include <span>

#include "core/db/migrations.hpp"

namespace cunhuo::alleviation {

std::span<const db::Migration> migrations();

}  // namespace cunhuo::alleviation
