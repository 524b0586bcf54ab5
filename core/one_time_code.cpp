#include "core/one_time_code.hpp"

#include <sodium.h>

#include <mutex>

#include "core/assert.hpp"

namespace cunhuo {
namespace {

// 30 bytes (240 bits): with the prefix, 63 hex characters fit the 64-character columns.
constexpr std::size_t kDigestBytes = 30;

struct ProcessKey {
  std::mutex mu;
  bool installed = false;
  OneTimeCodeKey key{};
  ProcessKey() {
    CUNHUO_ASSERT(sodium_init() >= 0);
    randombytes_buf(key.data(), key.size());
  }
};

ProcessKey& process_key() {
  static ProcessKey k;
  return k;
}

OneTimeCodeKey current_key() {
  auto& k = process_key();
  std::lock_guard lock(k.mu);
  return k.key;
}

}  // namespace

std::string random_digits(int digits) {
  CUNHUO_ASSERT(digits > 0);
  std::string code;
  for (int i = 0; i < digits; ++i) code += static_cast<char>('0' + randombytes_uniform(10));
  return code;
}

bool install_one_time_code_key(const OneTimeCodeKey& key) {
  auto& k = process_key();
  std::lock_guard lock(k.mu);
  if (k.installed) return false;
  k.key = key;
  k.installed = true;
  return true;
}

std::string one_time_code_hash(std::string_view bound_to, std::string_view code) {
  const std::string input = std::string(bound_to) + "|" + std::string(code);
  const OneTimeCodeKey key = current_key();
  unsigned char digest[kDigestBytes];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), key.data(), key.size());
  char hex[2 * kDigestBytes + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(kKeyedCodeHashPrefix) + hex;
}

bool one_time_code_matches(std::string_view stored, std::string_view bound_to,
                           std::string_view code) {
  const std::string given = one_time_code_hash(bound_to, code);
  return stored.size() == given.size() &&
         sodium_memcmp(stored.data(), given.data(), given.size()) == 0;
}

bool is_unkeyed_code_hash(std::string_view stored) {
  return stored.substr(0, kKeyedCodeHashPrefix.size()) != kKeyedCodeHashPrefix;
}

}  // namespace cunhuo
