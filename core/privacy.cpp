#include "core/privacy.hpp"

#include <vector>

namespace cunhuo {
namespace {

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
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

std::string mask_id_number(std::string_view id) {
  if (id.size() <= 10) return std::string(id.size(), '*');
  return std::string(id.substr(0, 6)) + std::string(id.size() - 10, '*') + std::string(id.substr(id.size() - 4));
}

std::string mask_phone(std::string_view phone) {
  if (phone.size() <= 7) return std::string(phone.size(), '*');
  return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') + std::string(phone.substr(phone.size() - 4));
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
