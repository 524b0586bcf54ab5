// The wire protocol of WeChat Pay's merchant API v3, shared by the adapter (provider.hpp)
// and the sandbox provider (paysandbox/): what is signed, the Authorization header, the
// signed headers of answers and notifications, the JSON of a transaction and a refund, the
// notification's envelope and encrypted resource, and the trade bill's CSV with its
// backtick-prefixed fields.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "payments/provider.hpp"
#include "payments/wechatpay/crypto.hpp"

namespace cunhuo::payments::wechatpay {

inline constexpr std::string_view kAuthScheme = "WECHATPAY2-SHA256-RSA2048";
inline constexpr const char* kSerialHeader = "Wechatpay-Serial";
inline constexpr const char* kTimestampHeader = "Wechatpay-Timestamp";
inline constexpr const char* kNonceHeader = "Wechatpay-Nonce";
inline constexpr const char* kSignatureHeader = "Wechatpay-Signature";
// An answer or a notification whose timestamp is this far from now, or further, is refused.
inline constexpr std::int64_t kMaxSkewSeconds = kNotificationSkewMs / 1000;
inline constexpr std::size_t kNonceChars = 32;
// A timestamp is Unix seconds, digits only, 0 up to this (2096): anything else is stale
// before any arithmetic is done with it.
inline constexpr std::int64_t kMaxTimestampSeconds = 4'000'000'000;
// How many request nonces a server remembers at most (those of the last kMaxSkewSeconds,
// the window a signed request is taken in); when as many are younger, requests wait.
inline constexpr std::size_t kMaxRememberedNonces = 100'000;

// The resource of a notification or a certificate download: its algorithm, and the
// associated data and original_type that name its kind.
inline constexpr std::string_view kAeadAlgorithm = "AEAD_AES_256_GCM";
inline constexpr std::string_view kTransactionResource = "transaction";
inline constexpr std::string_view kRefundResource = "refund";
inline constexpr std::string_view kCertificateResource = "certificate";

// A WeChat Pay public key's id ("微信支付公钥ID"): this prefix and digits. Answers and
// notifications signed with the public key name it in Wechatpay-Serial, where a platform
// certificate's serial (hex) would be; a request names it there too, so that WeChat Pay
// answers a merchant migrating from certificates with the public key.
inline constexpr std::string_view kPublicKeyIdPrefix = "PUB_KEY_ID_";
inline constexpr std::size_t kMaxPublicKeyIdDigits = 64;
// kPublicKeyIdPrefix followed by 1 to kMaxPublicKeyIdDigits digits.
bool is_public_key_id(std::string_view text);

// Error codes of the protocol's refusals.
inline constexpr std::string_view kUnknownSerial = "unknown_serial";
inline constexpr std::string_view kBadSignature = "bad_signature";
inline constexpr std::string_view kStale = "stale";
inline constexpr std::string_view kBadNotification = "bad_notification";

// METHOD\nURL\ntimestamp\nnonce\nbody\n, URL being the path and query.
std::string request_message(std::string_view method, std::string_view url,
                            std::string_view timestamp, std::string_view nonce,
                            std::string_view body);
// timestamp\nnonce\nbody\n: what an answer or a notification is signed over.
std::string response_message(std::string_view timestamp, std::string_view nonce,
                             std::string_view body);

struct Authorization {
  std::string mchid, nonce_str, signature, timestamp, serial_no;
};
std::string format_authorization(const Authorization& a);
// The five fields, each once and none empty (SIGN_ERROR otherwise); others are ignored.
Result<Authorization> parse_authorization(std::string_view header);

// Unix seconds from a timestamp header: only digits, at most kMaxTimestampSeconds.
std::optional<std::int64_t> parse_timestamp(std::string_view text);
// Whether `text` is a timestamp less than kMaxSkewSeconds from `now_s`.
bool fresh_timestamp(std::string_view text, std::int64_t now_s);

// The nonces of signed requests taken in the last kMaxSkewSeconds, so that a request sent
// again (a replay) within its window is refused; an older one is stale anyway. Bounded:
// at most kMaxRememberedNonces, forgotten as their window passes. Not thread-safe.
class NonceWindow {
 public:
  enum class Verdict { first, replayed, full };
  // Records `nonce` of a request signed at `at_s` (already checked fresh).
  Verdict take(const std::string& nonce, std::int64_t at_s, std::int64_t now_s);
  std::size_t size() const { return expiry_.size(); }

 private:
  std::unordered_map<std::string, std::int64_t> expiry_;  // nonce -> forgotten after
  std::multimap<std::int64_t, std::string> by_expiry_;    // the same, oldest first
};

// The kind (kTransactionResource, kRefundResource) of an event's resource; none for an
// event the platform does not take.
std::optional<std::string_view> resource_kind_of(std::string_view event_type);

// The four headers an answer or a notification is signed with.
struct SignedHeaders {
  std::string serial, timestamp, nonce, signature;
};
// Signs `body` now with a platform key.
Result<SignedHeaders> sign_body(const RsaKey& key, std::string_view serial, std::int64_t now_s,
                                std::string_view body);
// Checks the signature (with `certificate`) and then the timestamp against `now_s`.
Status check_signed(const SignedHeaders& h, std::string_view body, const RsaKey& public_key,
                    std::int64_t now_s);

// The order's state at the provider (trade_state).
inline constexpr std::string_view kSuccess = "SUCCESS";
inline constexpr std::string_view kNotPay = "NOTPAY";
inline constexpr std::string_view kClosed = "CLOSED";
inline constexpr std::string_view kPayError = "PAYERROR";
inline constexpr std::string_view kRefund = "REFUND";
inline constexpr std::string_view kRevoked = "REVOKED";
inline constexpr std::string_view kUserPaying = "USERPAYING";

struct Transaction {
  std::string appid, mchid, out_trade_no, transaction_id, trade_type, trade_state;
  std::string success_time;  // RFC 3339, +08:00
  std::int64_t total = 0;    // fen
  std::string currency = "CNY";
};
std::string encode(const Transaction& t);
Result<Transaction> decode_transaction(std::string_view json);

struct RefundRecord {
  std::string mchid;  // in notifications (not in the refund's answers)
  std::string refund_id, out_refund_no, transaction_id, out_trade_no, status;  // SUCCESS...
  std::string success_time;
  std::int64_t refund = 0, total = 0;  // fen
};
std::string encode(const RefundRecord& r);
Result<RefundRecord> decode_refund(std::string_view json);

// A notification's encrypted resource and its envelope.
struct Resource {
  std::string algorithm = "AEAD_AES_256_GCM", original_type, ciphertext, associated_data, nonce;
};
struct Envelope {
  std::string id, create_time, event_type, resource_type = "encrypt-resource", summary;
  Resource resource;
};
std::string encode(const Envelope& e);
Result<Envelope> decode_envelope(std::string_view json);

// One line of the trade bill.
struct TradeBillLine {
  std::string trade_time, transaction_id, out_trade_no, trade_state;  // SUCCESS or REFUND
  std::string refund_id, out_refund_no;
  std::int64_t total = 0, refund = 0;  // fen
  std::string refund_status;  // 退款状态 of a REFUND line: SUCCESS, PROCESSING, ABNORMAL
};
std::string format_trade_bill(std::string_view appid, std::string_view mchid,
                              const std::vector<TradeBillLine>& lines);
Result<std::vector<TradeBillLine>> parse_trade_bill(std::string_view csv);

// Fen as "12.34" yuan and back.
std::string yuan(std::int64_t fen);
std::optional<std::int64_t> fen_of_yuan(std::string_view text);
// RFC 3339 in Beijing time, as WeChat Pay writes times: "2026-12-07T10:00:00+08:00".
std::string beijing_time(std::int64_t epoch_s);

}  // namespace cunhuo::payments::wechatpay
