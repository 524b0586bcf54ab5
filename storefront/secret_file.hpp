// A 32-byte secret kept in a file of the data directory (hex, owner-only), created on first
// use: every process serving one store shares it, and a restart keeps it. The keys that
// seal list cursors and page form tokens live so.
#pragma once

#include <array>
#include <string>

#include "core/result.hpp"

namespace cunhuo::storefront {

inline constexpr std::size_t kSecretBytes = 32;
using Secret = std::array<unsigned char, kSecretBytes>;

Secret random_secret();
// The secret at `path`, created when missing; an error when the file is damaged or
// cannot be written.
Result<Secret> load_or_create_secret(const std::string& path);

}  // namespace cunhuo::storefront
