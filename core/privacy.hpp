// Masking of personal data (names, ID numbers, phones, bank accounts) for public
// pages and logs. Stored data stays whole; only what is shown is masked.
#pragma once

#include <string>
#include <string_view>

namespace cunhuo {

// 张三明 -> 张*明, 张三 -> 张*, Li Ming -> L******g. Works on UTF-8 code points.
std::string mask_name(std::string_view name);
// 620621199001011234 -> 620621********1234: the region code and what follows the birth
// date (the last four of 18 digits, the last three of 15); other lengths masked whole.
std::string mask_id_number(std::string_view id_number);
// 13812345678 -> 138****5678
std::string mask_phone(std::string_view phone);
// 6222021234567890123 -> ************0123
std::string mask_account(std::string_view account);
// An 11-digit mainland mobile number (starts with 1).
bool is_mobile_number(std::string_view phone);
// Finds runs that look like ID numbers, phones (also +86 / 86 prefixed) or account numbers in
// free text and masks them.
std::string redact(std::string_view text);

}  // namespace cunhuo
