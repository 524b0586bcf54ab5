// The public keys that sign household income statements, published so that a bank or a
// township can check a statement without the platform: the key in use and every key used
// before, by serial. Each process records the key it signs with when it starts; a key
// no longer in use is marked retired but stays published, so old statements still verify.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/signing.hpp"

namespace cunhuo::payments {

std::span<const db::Migration> statement_key_migrations();

struct PublishedKey {
  std::string serial;
  std::string public_key;  // raw Ed25519 key, base64
  std::int64_t first_used_ms = 0;
  std::optional<std::int64_t> retired_ms;  // none: the key in use
};

// Records `key` as the key in use; every other key recorded is retired from now.
Status record_statement_key(db::Session& tx, const SigningKey& key, const Clock& clock);
// Every key ever used, the one in use first, then by when each was first used, newest first.
Result<std::vector<PublishedKey>> statement_keys(db::Session& s);
Result<std::optional<PublishedKey>> statement_key(db::Session& s, std::string_view serial);

// The key as a PEM SubjectPublicKeyInfo block, which `openssl pkeyutl -pubin` reads.
std::string public_key_pem(std::string_view public_key_base64);

}  // namespace cunhuo::payments
