#include "core/one_time_code.hpp"

#include <sodium.h>

#include "core/assert.hpp"

namespace cunhuo {

std::string random_digits(int digits) {
  CUNHUO_ASSERT(digits > 0);
  std::string code;
  for (int i = 0; i < digits; ++i) code += static_cast<char>('0' + randombytes_uniform(10));
  return code;
}

std::string one_time_code_hash(std::string_view bound_to, std::string_view code) {
  const std::string input = std::string(bound_to) + "|" + std::string(code);
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace cunhuo
