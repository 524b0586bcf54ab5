// The cryptography of WeChat Pay's merchant API v3, on OpenSSL's EVP interfaces: RSA-2048
// keys and SHA256-RSA (PKCS#1 v1.5) signatures, X.509 platform certificates and their
// serials, AEAD_AES_256_GCM for notification resources and downloaded certificates,
// base64 and SHA-1 (the bill's hash). Nothing of OpenSSL leaks out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

struct evp_pkey_st;
struct x509_st;

namespace cunhuo::payments::wechatpay {

inline constexpr std::size_t kApiV3KeyBytes = 32;  // the APIv3 key is 32 ASCII bytes
inline constexpr std::size_t kGcmNonceBytes = 12;  // "nonce" of a resource: 12 characters
inline constexpr std::size_t kGcmTagBytes = 16;    // appended to the ciphertext
// The largest sealed resource taken or made (a notification body is at most 1 MiB).
inline constexpr std::size_t kMaxSealedBytes = std::size_t{1} << 20;
inline constexpr int kRsaBits = 2048;

// The error codes of this module.
inline constexpr std::string_view kBadKey = "bad_key";
inline constexpr std::string_view kBadCertificate = "bad_certificate";
inline constexpr std::string_view kUndecryptable = "undecryptable";

// An RSA key: private (signs) or public only (verifies).
class RsaKey {
 public:
  static Result<RsaKey> generate();
  static Result<RsaKey> from_private_pem(std::string_view pem);
  static Result<RsaKey> from_public_pem(std::string_view pem);
  static Result<RsaKey> load_private_file(const std::string& path);

  // base64(SHA256-RSA PKCS#1 v1.5 signature over message); needs the private half.
  Result<std::string> sign(std::string_view message) const;
  bool verifies(std::string_view message, std::string_view signature_b64) const;
  Result<std::string> private_pem() const;
  Result<std::string> public_pem() const;
  evp_pkey_st* get() const { return key_.get(); }
  // `key` shared (its reference count raised); empty when OpenSSL refuses.
  static RsaKey sharing(evp_pkey_st* key);

 private:
  std::shared_ptr<evp_pkey_st> key_;
};

// An X.509 certificate: a platform certificate (or the merchant's).
class Certificate {
 public:
  static Result<Certificate> from_pem(std::string_view pem);
  // Self-signed for `key`, named `common_name`, with `serial` (hex), valid `days` from
  // `not_before_s` (Unix seconds). With `dns_ip` (e.g. "DNS:localhost,IP:127.0.0.1") it is
  // also fit to serve TLS for those names.
  static Result<Certificate> self_signed(const RsaKey& key, std::string_view common_name,
                                         std::string_view serial_hex, std::int64_t not_before_s,
                                         int days, std::string_view dns_ip = {});

  // The serial in upper-case hex, as WeChat Pay names it in Wechatpay-Serial.
  const std::string& serial() const { return serial_; }
  std::int64_t not_after_s() const { return not_after_s_; }
  std::int64_t not_before_s() const { return not_before_s_; }
  Result<std::string> pem() const;
  const RsaKey& public_key() const { return public_key_; }
  static Certificate from_parts(std::shared_ptr<x509_st> cert, std::string serial,
                                std::int64_t not_before_s, std::int64_t not_after_s,
                                RsaKey public_key);

 private:
  std::shared_ptr<x509_st> cert_;
  std::string serial_;
  std::int64_t not_before_s_ = 0, not_after_s_ = 0;
  RsaKey public_key_;
};

// AEAD_AES_256_GCM as WeChat Pay uses it: `ciphertext_b64` is the ciphertext with the
// 16-byte tag appended, in base64; the nonce is exactly kGcmNonceBytes. Any tampering,
// another key, another nonce length or a base64 that is not canonical is `undecryptable`.
Result<std::string> aes_gcm_open(std::string_view key, std::string_view nonce,
                                 std::string_view associated_data, std::string_view ciphertext_b64);
Result<std::string> aes_gcm_seal(std::string_view key, std::string_view nonce,
                                 std::string_view associated_data, std::string_view plaintext);

// A file of secrets (a key, the configuration): made anew, mode 0600, through
// open(O_CREAT|O_EXCL|O_NOFOLLOW) of a fresh name renamed over `path`, so no symlink is
// followed and no moment has it readable by others.
Status write_secret_file(const std::string& path, std::string_view text);
// Its text, opened with O_NOFOLLOW and refused (bad_key, naming `what`) when others may
// read it or another user owns it (checked on the open file, so it cannot be raced).
Result<std::string> read_secret_file(const std::string& path, std::string_view what);

std::string base64_encode(std::string_view bytes);
// Strict: only what base64_encode writes (standard alphabet, padded, no whitespace, unused
// bits zero) decodes; anything else is none.
std::optional<std::string> base64_decode(std::string_view text);
std::string sha1_hex(std::string_view data);  // lower-case
// `chars` random letters and digits (nonce_str, Wechatpay-Nonce, GCM nonces). Aborts when
// the system has no randomness to give: a predictable nonce is never made.
std::string random_token(std::size_t chars);

}  // namespace cunhuo::payments::wechatpay
