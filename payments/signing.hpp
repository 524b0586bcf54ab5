// Ed25519 keys (libsodium) for the two signatures payments relies on: the provider's
// signature on its notifications and the platform's signature on income statements.
// A key lives in a file holding its 32-byte seed in hex, created on first use with
// owner-only permissions; its serial is the first 16 hex digits of the public key's
// SHA-256, so a verifier can tell keys apart after a rotation.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo::payments {

class SigningKey {
 public:
  static Result<SigningKey> load_or_create(const std::string& path);
  static Result<SigningKey> load(const std::string& path);  // never creates one
  static SigningKey from_seed(const std::array<unsigned char, 32>& seed);

  const std::string& serial() const { return serial_; }
  // The public key in base64, for whoever verifies.
  std::string public_key() const;
  // A detached signature over `message`, in base64.
  std::string sign(std::string_view message) const;

 private:
  std::array<unsigned char, 32> public_{};
  std::array<unsigned char, 64> secret_{};
  std::string serial_;
};

// True when `signature` (base64) is `public_key`'s (base64) signature over `message`.
bool signature_valid(std::string_view public_key, std::string_view message,
                     std::string_view signature);
std::string key_serial(std::string_view public_key);

std::string sha256_hex(std::string_view data);
std::string base64(std::string_view bytes);
// A fresh random token of `bytes` random bytes, in hex.
std::string random_hex(std::size_t bytes);

}  // namespace cunhuo::payments
