// Text for documents people open: HTML pages and CSV files. Both escape what they are
// given, so a name or a note can never become markup or a spreadsheet formula.
#pragma once

#include <string>
#include <string_view>

namespace cunhuo {

std::string html_escape(std::string_view text);
// A quoted CSV field; a leading = + - @ is defused so spreadsheets do not run it.
std::string csv_field(std::string_view text);

}  // namespace cunhuo
