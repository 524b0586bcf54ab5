#include "payments/signing.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/assert.hpp"

namespace cunhuo::payments {
namespace {

bool ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

std::optional<std::string> unbase64(std::string_view text, std::size_t max) {
  std::vector<unsigned char> out(max);
  std::size_t n = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}

Result<std::array<unsigned char, 32>> read_seed(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return make_error(ErrorKind::unavailable, "key_unreadable", "cannot read the key file " + path);
  char text[80] = {};
  const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
  std::fclose(f);
  std::array<unsigned char, 32> seed{};
  std::size_t len = 0;
  if (sodium_hex2bin(seed.data(), seed.size(), text, n, "\n", &len, nullptr) != 0 ||
      len != seed.size())
    return make_error(ErrorKind::unavailable, "key_unreadable",
                      "the key file " + path + " does not hold a 32-byte hex seed");
  return seed;
}

Status write_seed(const std::string& path, const std::array<unsigned char, 32>& seed) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".new";
  const mode_t old = ::umask(077);  // the seed is the key: owner-only
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  ::umask(old);
  if (f == nullptr)
    return make_error(ErrorKind::unavailable, "key_unwritable",
                      "cannot create the key file " + path);
  const std::string text = hex(seed.data(), seed.size()) + "\n";
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() &&
                       std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(ErrorKind::unavailable, "key_unwritable",
                      "cannot write the key file " + path);
  return {};
}

}  // namespace

SigningKey SigningKey::from_seed(const std::array<unsigned char, 32>& seed) {
  CUNHUO_ASSERT(ready());  // libsodium initialises once; without it no key is safe
  SigningKey key;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), seed.data());
  key.serial_ = key_serial(key.public_key());
  return key;
}

Result<SigningKey> SigningKey::load_or_create(const std::string& path) {
  if (!ready()) return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  if (!std::filesystem::exists(path)) {
    std::array<unsigned char, 32> seed{};
    randombytes_buf(seed.data(), seed.size());
    CUNHUO_CHECK(write_seed(path, seed));
  }
  return from_seed(CUNHUO_TRY(read_seed(path)));
}

Result<SigningKey> SigningKey::load(const std::string& path) {
  if (!ready()) return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  return from_seed(CUNHUO_TRY(read_seed(path)));
}

std::string SigningKey::public_key() const {
  return base64(std::string_view(reinterpret_cast<const char*>(public_.data()), public_.size()));
}

std::string SigningKey::sign(std::string_view message) const {
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_.data());
  return base64(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

bool signature_valid(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (!ready()) return false;
  auto pk = unbase64(public_key, 64);
  auto sig = unbase64(signature, 128);
  if (!pk || !sig || pk->size() != crypto_sign_PUBLICKEYBYTES || sig->size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(pk->data())) == 0;
}

std::string key_serial(std::string_view public_key) { return sha256_hex(public_key).substr(0, 16); }

std::string sha256_hex(std::string_view data) {
  [[maybe_unused]] const bool ok = ready();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return hex(digest.data(), digest.size());
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string random_hex(std::size_t bytes) {
  [[maybe_unused]] const bool ok = ready();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return hex(buf.data(), buf.size());
}

}  // namespace cunhuo::payments
