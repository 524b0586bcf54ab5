#include "marketplace/id_numbers.hpp"

#include <array>

namespace cunhuo::marketplace {
namespace {

constexpr std::array<int, 17> kWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr std::string_view kCheckChars = "10X98765432";

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

Error refused(std::string message, const std::string& field) {
  return make_error(ErrorKind::invalid, "invalid_id_number", std::move(message), field);
}

}  // namespace

char id_number_check_char(std::string_view first_seventeen) {
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size() && i < first_seventeen.size(); ++i)
    sum += (first_seventeen[i] - '0') * kWeights[i];
  return kCheckChars[static_cast<std::size_t>(sum % 11)];
}

std::optional<BirthDate> id_number_birth_date(std::string_view id) {
  if (id.size() != kIdNumberChars || !digits(id.substr(6, 8))) return std::nullopt;
  const BirthDate d{number(id.substr(6, 4)), number(id.substr(10, 2)), number(id.substr(12, 2))};
  if (d.year < kEarliestBirthYear || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > days_in_month(d.year, d.month))
    return std::nullopt;
  return d;
}

Status check_id_number(std::string_view id, const std::string& field) {
  if (id.size() != kIdNumberChars || !digits(id.substr(0, 17)))
    return refused("an ID number is 17 digits and a check character", field);
  if (!id_number_birth_date(id))
    return refused("the birth date in the ID number is not a date", field);
  if (id[17] != id_number_check_char(id.substr(0, 17)))
    return refused("the ID number's check character does not match (GB 11643)", field);
  return {};
}

int age_on(const BirthDate& birth, const BirthDate& on) {
  const bool had_birthday =
      on.month > birth.month || (on.month == birth.month && on.day >= birth.day);
  return on.year - birth.year - (had_birthday ? 0 : 1);
}

}  // namespace cunhuo::marketplace
