#include "storefront/secret_file.hpp"

#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "core/assert.hpp"

namespace cunhuo::storefront {

Secret random_secret() {
  CUNHUO_ASSERT(sodium_init() >= 0);
  Secret key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

namespace {

Result<Secret> read_secret(const std::string& path, const std::string& hex) {
  Secret key{};
  std::size_t n = 0;
  if (hex.size() != 2 * kSecretBytes ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &n, nullptr) != 0 ||
      n != kSecretBytes)
    return make_error(ErrorKind::internal, "bad_key", "the key file is damaged: " + path);
  return key;
}

// Written beside the file and renamed over it, so a crash leaves no half key.
Status write_secret(const std::string& path, const Secret& key) {
  char out[2 * kSecretBytes + 1];
  sodium_bin2hex(out, sizeof out, key.data(), key.size());
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string partial = path + ".new";
  {
    std::ofstream file(partial, std::ios::trunc);
    file << out << '\n';
    if (!file.flush())
      return make_error(ErrorKind::unavailable, "key_unwritable", "cannot write " + partial);
  }
  std::filesystem::permissions(
      partial, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(partial, path, ec);
  if (ec) return make_error(ErrorKind::unavailable, "key_unwritable", "cannot write " + path);
  return {};
}

}  // namespace

Result<Secret> load_or_create_secret(const std::string& path) {
  CUNHUO_ASSERT(sodium_init() >= 0);
  std::ifstream in(path);
  if (std::string hex; in >> hex) return read_secret(path, hex);
  const Secret key = random_secret();
  CUNHUO_CHECK(write_secret(path, key));
  return key;
}

}  // namespace cunhuo::storefront
