// Resident identity numbers (GB 11643-1999): six digits of the issuing area, eight of the
// birth date (YYYYMMDD), three of sequence (odd for men, even for women), and a check
// character over the first seventeen (ISO 7064 MOD 11-2: weights 7 9 10 5 8 4 2 1 6 3 7 9
// 10 5 8 4 2, the sum mod 11 indexes "10X98765432"). The registry takes no other form.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo::marketplace {

inline constexpr std::size_t kIdNumberChars = 18;
inline constexpr int kEarliestBirthYear = 1900;  // no card names anyone born before

// The check character of an ID number's first seventeen digits ('0'-'9' or 'X').
char id_number_check_char(std::string_view first_seventeen);

struct BirthDate {
  int year = 0, month = 0, day = 0;
};
// The birth date an ID number states, when its eight digits form a real calendar date.
std::optional<BirthDate> id_number_birth_date(std::string_view id_number);

// Whether `id_number` has the form, a real birth date and the right check character. The
// refusal is `invalid_id_number` naming `field`.
Status check_id_number(std::string_view id_number, const std::string& field);

// Full years of age on `on` (a date) of someone born on `birth`.
int age_on(const BirthDate& birth, const BirthDate& on);

}  // namespace cunhuo::marketplace
