#include "payments/wechatpay/crypto.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "core/assert.hpp"

namespace cunhuo::payments::wechatpay {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// Reads `text` in place; null when OpenSSL cannot allocate (or the text is over 2 GiB).
Bio memory_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT32_MAX)) return Bio(nullptr, BIO_free);
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
}

Error out_of_memory(const char* what) {
  return make_error(ErrorKind::internal, "openssl_failed", std::string("OpenSSL: ") + what);
}

// The PEM text `write` puts in a memory BIO; an error when OpenSSL cannot make or fill it.
template <class Write>
Result<std::string> pem_text(const char* what, Write write) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get()) != 1) return out_of_memory(what);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return out_of_memory(what);
  return std::string(data, static_cast<std::size_t>(n));
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Error bad_key(std::string message) {
  return make_error(ErrorKind::invalid, std::string(kBadKey), std::move(message));
}

Error undecryptable() {
  return make_error(ErrorKind::unauthorized, std::string(kUndecryptable),
                    "the resource does not decrypt under the APIv3 key");
}

// Seconds since the epoch of an ASN1 time; none when it does not parse.
std::optional<std::int64_t> epoch_of(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

Result<RsaKey> RsaKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kRsaBits));
  if (key == nullptr) return bad_key("cannot make an RSA key");
  RsaKey out;
  out.key_.reset(key, EVP_PKEY_free);
  return out;
}

// OpenSSL asks this for an encrypted key's passphrase: there is none, so it never prompts.
int no_passphrase(char*, int, int, void*) { return -1; }

Result<RsaKey> RsaKey::from_private_pem(std::string_view pem) {
  if (pem.find("ENCRYPTED") != std::string_view::npos)
    return bad_key("the private key is encrypted: give the service an unencrypted key (mode 0600)");
  auto bio = memory_bio(pem);
  if (!bio) return out_of_memory("BIO_new_mem_buf");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return bad_key("not an RSA private key in PEM");
  }
  RsaKey out;
  out.key_.reset(key, EVP_PKEY_free);
  return out;
}

Result<RsaKey> RsaKey::from_public_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return out_of_memory("BIO_new_mem_buf");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return bad_key("not an RSA public key in PEM");
  }
  RsaKey out;
  out.key_.reset(key, EVP_PKEY_free);
  return out;
}

Result<RsaKey> RsaKey::load_private_file(const std::string& path) {
  return from_private_pem(CUNHUO_TRY(read_secret_file(path, "the merchant key file")));
}

Status write_secret_file(const std::string& path, std::string_view text) {
  auto fail = [&] {
    return make_error(ErrorKind::unavailable, "cannot_write", "cannot write " + path);
  };
  const std::string fresh = path + ".new";
  ::unlink(fresh.c_str());  // a leftover (or a planted symlink) of an earlier attempt
  const int fd = ::open(fresh.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return fail();
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool written = done == text.size() && ::fchmod(fd, 0600) == 0;
  if (::close(fd) != 0 || !written || ::rename(fresh.c_str(), path.c_str()) != 0) {
    ::unlink(fresh.c_str());
    return fail();
  }
  return {};
}

Result<std::string> read_secret_file(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return bad_key("cannot read " + std::string(what));  // its path may name the merchant
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad_key("cannot read " + std::string(what));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || st.st_uid != ::geteuid()) {
    ::close(fd);
    return bad_key(std::string(what) +
                   " may be read by others or is not the service's own: chmod 600 and chown it");
  }
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return bad_key("cannot read " + std::string(what));
  return text;
}

Result<std::string> RsaKey::sign(std::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx || !key_ ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes(message), message.size()) != 1)
    return bad_key("the key cannot sign");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes(message), message.size()) != 1)
    return bad_key("the key cannot sign");
  signature.resize(length);
  return base64_encode(signature);
}

bool RsaKey::verifies(std::string_view message, std::string_view signature_b64) const {
  const auto signature = base64_decode(signature_b64);
  if (!key_ || !signature) return false;
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes(*signature), signature->size(), bytes(message),
                          message.size()) == 1;
}

Result<std::string> RsaKey::private_pem() const {
  if (!key_) return bad_key("no key");
  return pem_text("PEM_write_bio_PrivateKey", [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
}

Result<std::string> RsaKey::public_pem() const {
  if (!key_) return bad_key("no key");
  return pem_text("PEM_write_bio_PUBKEY",
                  [&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key_.get()); });
}

RsaKey RsaKey::sharing(evp_pkey_st* key) {
  RsaKey out;
  if (EVP_PKEY_up_ref(key) == 1) out.key_.reset(key, EVP_PKEY_free);
  return out;
}

namespace {

Result<Certificate> adopt(X509* raw) {
  std::shared_ptr<x509_st> cert(raw, X509_free);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(raw), nullptr);
  char* hex = bn != nullptr ? BN_bn2hex(bn) : nullptr;
  std::string serial = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  // The certificate's own key, shared (its count raised), not copied through PEM.
  EVP_PKEY* key = X509_get0_pubkey(raw);
  if (key == nullptr || serial.empty() || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    return make_error(ErrorKind::invalid, std::string(kBadCertificate), "no RSA key or serial");
  RsaKey public_key = RsaKey::sharing(key);
  if (public_key.get() == nullptr) return out_of_memory("EVP_PKEY_up_ref");
  const auto not_before = epoch_of(X509_get0_notBefore(raw));
  const auto not_after = epoch_of(X509_get0_notAfter(raw));
  if (!not_before || !not_after)
    return make_error(ErrorKind::invalid, std::string(kBadCertificate), "no validity period");
  return Certificate::from_parts(std::move(cert), std::move(serial), *not_before, *not_after,
                                 std::move(public_key));
}

}  // namespace

Certificate Certificate::from_parts(std::shared_ptr<x509_st> cert, std::string serial,
                                    std::int64_t not_before_s, std::int64_t not_after_s,
                                    RsaKey public_key) {
  Certificate c;
  c.cert_ = std::move(cert);
  c.serial_ = std::move(serial);
  c.not_before_s_ = not_before_s;
  c.not_after_s_ = not_after_s;
  c.public_key_ = std::move(public_key);
  return c;
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  if (!bio) return out_of_memory("BIO_new_mem_buf");
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr)
    return make_error(ErrorKind::invalid, std::string(kBadCertificate), "not a PEM certificate");
  return adopt(cert);
}

Result<Certificate> Certificate::self_signed(const RsaKey& key, std::string_view common_name,
                                             std::string_view serial_hex, std::int64_t not_before_s,
                                             int days, std::string_view dns_ip) {
  auto fail = [](const char* what) {
    return make_error(ErrorKind::internal, std::string(kBadCertificate), what);
  };
  X509* cert = X509_new();
  if (cert == nullptr) return fail("X509_new");
  std::unique_ptr<X509, decltype(&X509_free)> held(cert, X509_free);
  BIGNUM* bn = nullptr;
  const std::string serial(serial_hex);
  if (BN_hex2bn(&bn, serial.c_str()) == 0) return fail("the serial is not hex");
  const bool serial_set = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  if (!serial_set) return fail("BN_to_ASN1_INTEGER");
  time_t from = static_cast<time_t>(not_before_s);
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn(common_name);
  if (X509_set_version(cert, 2) != 1 ||
      X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &from) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, &from) == nullptr ||
      X509_set_pubkey(cert, key.get()) != 1 || name == nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1)
    return fail("the certificate's fields");
  if (!dns_ip.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    const std::string alt(dns_ip);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, alt.c_str()},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      const bool added = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
      X509_EXTENSION_free(ext);  // X509_add_ext copies it; freed whether or not it was added
      if (!added) return fail("an extension");
    }
  }
  if (X509_sign(cert, key.get(), EVP_sha256()) <= 0) return fail("X509_sign");
  return adopt(held.release());
}

Result<std::string> Certificate::pem() const {
  if (!cert_) return make_error(ErrorKind::invalid, std::string(kBadCertificate), "none");
  return pem_text("PEM_write_bio_X509",
                  [&](BIO* bio) { return PEM_write_bio_X509(bio, cert_.get()); });
}

Result<std::string> aes_gcm_open(std::string_view key, std::string_view nonce,
                                 std::string_view associated_data,
                                 std::string_view ciphertext_b64) {
  const auto sealed = base64_decode(ciphertext_b64);
  if (key.size() != kApiV3KeyBytes || nonce.size() != kGcmNonceBytes || !sealed ||
      sealed->size() < kGcmTagBytes || sealed->size() > kMaxSealedBytes)
    return undecryptable();
  const std::size_t n = sealed->size() - kGcmTagBytes;
  std::string tag = sealed->substr(n);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string plain(n, '\0');
  int len = 0, last = 0;
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &len, bytes(*sealed), static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes),
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + len, &last) == 1;
  if (!ok) return undecryptable();
  plain.resize(static_cast<std::size_t>(len + last));
  return plain;
}

Result<std::string> aes_gcm_seal(std::string_view key, std::string_view nonce,
                                 std::string_view associated_data, std::string_view plaintext) {
  if (key.size() != kApiV3KeyBytes || nonce.size() != kGcmNonceBytes ||
      plaintext.size() + kGcmTagBytes > kMaxSealedBytes)
    return bad_key("the APIv3 key is 32 bytes, the nonce 12 and the plaintext under 1 MiB");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string sealed(plaintext.size() + kGcmTagBytes, '\0');
  int len = 0, last = 0;
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out + len, &last) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                          out + plaintext.size()) == 1;
  if (!ok) return bad_key("AES-GCM sealing failed");
  return base64_encode(sealed);
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(data),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

namespace {

// The value of a character of the standard alphabet (RFC 4648 section 4); none for others.
std::optional<unsigned> sextet(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0' + 52);
  if (c == '+') return 62u;
  if (c == '/') return 63u;
  return std::nullopt;
}

}  // namespace

// Only the canonical spelling of some bytes: groups of four characters of the alphabet,
// padding ("=" or "==") only at the end, the bits padding leaves unused all zero. No
// whitespace, no line breaks, no other alphabet: each byte string has one text.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t chars = last ? 4 - pad : 4;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const auto v = j < chars ? sextet(text[i + j]) : std::optional<unsigned>(0u);
      if (!v) return std::nullopt;
      group = group << 6 | *v;
    }
    const std::size_t bytes_in_group = chars - 1;  // 4 chars: 3 bytes, 3: 2, 2: 1
    if (chars < 2 || (group & ((1u << (8 * (3 - bytes_in_group))) - 1)) != 0)
      return std::nullopt;  // a lone character, or bits left over that are not zero
    for (std::size_t b = 0; b < bytes_in_group; ++b)
      out += static_cast<char>(group >> (16 - 8 * b) & 0xff);
  }
  return out;
}

std::string sha1_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // SHA-1 of bytes in memory fails only when OpenSSL cannot run at all.
  CUNHUO_ASSERT(EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha1(), nullptr) == 1);
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    out += buf;
  }
  return out;
}

std::string random_token(std::size_t chars) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string raw(chars, '\0');
  // No randomness, no nonce: a predictable one would make replays and prepay ids guessable,
  // and no caller could do anything better than stop.
  CUNHUO_ASSERT(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(chars)) ==
                1);
  std::string out;
  for (unsigned char c : raw) out += kAlphabet[c % kAlphabet.size()];  // 62: slight bias is fine
  return out;
}

}  // namespace cunhuo::payments::wechatpay
