// The pages the storefront renders from what the domain modules return: a household's
// printable income statement and an area's open statistics. Chinese first, readable at
// 360 px, no script (a Content-Security-Policy without 'unsafe-inline' holds).
#pragma once

#include <string>

#include "alleviation/statistics.hpp"
#include "payments/statements.hpp"

namespace cunhuo::storefront {

std::string statement_html(const payments::StatementView& statement);
std::string statistics_html(const alleviation::AreaStatistics& stats);

}  // namespace cunhuo::storefront
