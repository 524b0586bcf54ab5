#include "core/privacy.hpp"

#include <vector>

namespace cunhuo {
namespace {

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 1;
    if (i + len > s.size()) len = 1;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string mask_name(std::string_view name) {
  auto cps = code_points(name);
  if (cps.empty()) return {};
  std::string out(cps.front());
  if (cps.size() == 1) return out;
  if (cps.size() == 2) return out + "*";
  for (std::size_t i = 1; i + 1 < cps.size(); ++i) out += '*';
  out += cps.back();
  return out;
}

// A resident ID is region (6), birth date (8 digits, or 6 on the old 15-digit cards), then a
// sequence and on 18-digit cards a check digit. Only the region and what follows the birth
// date are kept, so no digit of the date shows; anything else is masked whole.
std::string mask_id_number(std::string_view id) {
  constexpr std::size_t kRegionDigits = 6;
  std::size_t tail = 0;
  if (id.size() == 18)
    tail = 4;
  else if (id.size() == 15)
    tail = 3;
  else
    return std::string(id.size(), '*');
  return std::string(id.substr(0, kRegionDigits)) +
         std::string(id.size() - kRegionDigits - tail, '*') +
         std::string(id.substr(id.size() - tail));
}

std::string mask_phone(std::string_view phone) {
  if (phone.size() <= 7) return std::string(phone.size(), '*');
  return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
         std::string(phone.substr(phone.size() - 4));
}

std::string mask_account(std::string_view account) {
  if (account.size() <= 4) return std::string(account.size(), '*');
  return std::string(account.size() - 4, '*') + std::string(account.substr(account.size() - 4));
}

bool is_mobile_number(std::string_view phone) {
  if (phone.size() != 11 || phone[0] != '1') return false;
  for (char c : phone)
    if (!is_digit(c)) return false;
  return true;
}

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_digit(text[j])) ++j;
    // An 18-character resident ID may end in X.
    if (j - i == 17 && j < text.size() && (text[j] == 'X' || text[j] == 'x')) ++j;
    std::string_view run = text.substr(i, j - i);
    // A phone written with the country code: 8613812345678 (after "+" or not).
    if (run.size() == 13 && run.substr(0, 2) == "86" && is_mobile_number(run.substr(2))) {
      out += "86" + mask_phone(run.substr(2));
      i = j;
      continue;
    }
    // "86 138…" or "86-138…": the country code apart from the number.
    if (run == "86" && j + 12 <= text.size() && (text[j] == ' ' || text[j] == '-') &&
        is_mobile_number(text.substr(j + 1, 11)) &&
        (j + 12 == text.size() || !is_digit(text[j + 12]))) {
      out += std::string(run) + text[j] + mask_phone(text.substr(j + 1, 11));
      i = j + 12;
      continue;
    }
    if (run.size() == 18 || run.size() == 15)
      out += mask_id_number(run);
    else if (run.size() == 11 && run[0] == '1')
      out += mask_phone(run);
    else if (run.size() >= 12 && run.size() <= 19 && run.size() != 13)
      out += mask_account(run);  // bank cards; 13 digits is an epoch-ms timestamp, kept
    else
      out += run;
    i = j;
  }
  return out;
}

}  // namespace cunhuo
