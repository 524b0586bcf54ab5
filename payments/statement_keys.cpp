#include "payments/statement_keys.hpp"

#include <sodium.h>

#include "core/assert.hpp"

namespace cunhuo::payments {
namespace {

const db::Migration kMigrations[] = {
    {"payments", 16, "the statement-signing keys, published by serial",
     "CREATE TABLE IF NOT EXISTS statement_keys (\n"
     "  serial VARCHAR(16) NOT NULL PRIMARY KEY,\n"
     "  public_key VARCHAR(64) NOT NULL,\n"
     "  first_used_at BIGINT NOT NULL,\n"
     "  retired_at BIGINT\n"
     ");\n"},
};

constexpr std::string_view kKeyColumns = "serial, public_key, first_used_at, retired_at";

PublishedKey key_from(const db::Row& r) {
  return PublishedKey{.serial = r.str(0),
                      .public_key = r.str(1),
                      .first_used_ms = r.i64(2),
                      .retired_ms = r.opt_i64(3)};
}

// DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410) before its 32 key bytes.
constexpr unsigned char kSpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                         0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr std::size_t kPemLine = 64;

std::string base64_of(const unsigned char* bytes, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

}  // namespace

std::span<const db::Migration> statement_key_migrations() { return kMigrations; }

Status record_statement_key(db::Session& tx, const SigningKey& key, const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) +
                  " INTO statement_keys (serial, public_key, first_used_at) VALUES (?, ?, ?)",
              {key.serial(), key.public_key(), now}));
  // A key put back in use after a rotation is in use again.
  CUNHUO_TRY(
      tx.exec("UPDATE statement_keys SET retired_at = NULL WHERE serial = ?", {key.serial()}));
  CUNHUO_TRY(
      tx.exec("UPDATE statement_keys SET retired_at = ? WHERE serial <> ? AND retired_at IS NULL",
              {now, key.serial()}));
  return {};
}

Result<std::vector<PublishedKey>> statement_keys(db::Session& s) {
  std::vector<PublishedKey> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT " + std::string(kKeyColumns) +
                   " FROM statement_keys ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, "
                   "first_used_at DESC, serial")))
    out.push_back(key_from(r));
  return out;
}

Result<std::optional<PublishedKey>> statement_key(db::Session& s, std::string_view serial) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT " + std::string(kKeyColumns) + " FROM statement_keys WHERE serial = ?", {serial}));
  if (!row) return std::optional<PublishedKey>();
  return std::optional<PublishedKey>(key_from(*row));
}

std::string public_key_pem(std::string_view public_key_base64) {
  unsigned char key[crypto_sign_PUBLICKEYBYTES];
  std::size_t n = 0;
  const int bad =
      sodium_base642bin(key, sizeof key, public_key_base64.data(), public_key_base64.size(),
                        nullptr, &n, nullptr, sodium_base64_VARIANT_ORIGINAL);
  CUNHUO_ASSERT(bad == 0 && n == sizeof key);  // keys are stored as this module wrote them
  unsigned char der[sizeof kSpkiPrefix + sizeof key];
  std::copy(std::begin(kSpkiPrefix), std::end(kSpkiPrefix), der);
  std::copy(std::begin(key), std::end(key), der + sizeof kSpkiPrefix);
  const std::string body = base64_of(der, sizeof der);
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (std::size_t at = 0; at < body.size(); at += kPemLine)
    pem += body.substr(at, kPemLine) + "\n";
  return pem + "-----END PUBLIC KEY-----\n";
}

}  // namespace cunhuo::payments
