// The adapter for a real SMS gateway: Alibaba Cloud SMS (dysmsapi, SendSms, RPC style,
// signature version 1.0). Each request is a GET whose query carries the message and a
// signature: Base64(HMAC-SHA1(AccessKeySecret + "&", "GET&%2F&" + percentEncode(the sorted,
// percent-encoded query))). The answer is JSON {"Code":"OK","BizId":...,"RequestId":...};
// any other code is refused, throttling codes as unavailable (worth a retry).
//
// The call goes over HTTPS (core/net), the peer verified against the system's CAs or a
// private CA file. Plain http:// is taken for a loopback host only (a local fake): the
// query carries the access key id, the phone number and the code.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/net/http_client.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::messaging {

inline constexpr std::string_view kAliyunSmsVersion = "2017-05-25";
inline constexpr std::string_view kAliyunSmsEndpoint = "https://dysmsapi.aliyuncs.com/";
inline constexpr std::int64_t kGatewayTimeoutMs = 5'000;  // connecting to the last byte
inline constexpr std::size_t kMaxGatewayAnswer = 64 * 1024;

// The gateway's codes that mean "not now" rather than "never".
inline constexpr std::array<std::string_view, 4> kRetryableGatewayCodes = {
    "Throttling.User", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable", "InternalError"};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// SHA-1 and HMAC-SHA1 (libsodium has neither; the gateway's signature needs them).
std::array<unsigned char, 20> sha1(std::string_view data);
std::array<unsigned char, 20> hmac_sha1(std::string_view key, std::string_view data);
std::string base64(std::string_view bytes);
// RFC 3986 encoding as Alibaba's signature wants it: only A-Z a-z 0-9 - _ . ~ stay as they
// are; every other byte is %XX in upper case (a space is %20, never +).
std::string percent_encode(std::string_view text);
// The parameters sorted by name, each name=value percent-encoded, joined by &.
std::string canonical_query(QueryParams params);
// "GET&%2F&" + percentEncode(canonical query).
std::string string_to_sign(const QueryParams& params);
std::string sign_request(const QueryParams& params, std::string_view access_key_secret);

struct GatewaySmsOptions {
  std::string endpoint = std::string(kAliyunSmsEndpoint);  // http://127.0.0.1:port/ for a fake
  std::string access_key_id, access_key_secret;
  std::string sign_name;  // the registered signature shown as 【...】, e.g. 村货
  // Our template code -> the gateway's registered one (SMS_123456789); unmapped: as is.
  std::map<std::string, std::string> template_codes;
  std::string ca_file;  // PEM CAs to trust instead of the system's (a private gateway)
  std::int64_t timeout_ms = kGatewayTimeoutMs;
};

// The endpoint is https://, or http:// to a loopback host; else `insecure_gateway_url`
// (or `invalid_url`). What the service checks before it starts.
Status check_gateway_url(std::string_view endpoint);
// The URL as above, and the CA file (if any) loads.
Status check_gateway_options(const GatewaySmsOptions& options);

class GatewaySms final : public SmsSender {
 public:
  GatewaySms(GatewaySmsOptions options, const Clock& clock);
  Result<std::string> send(const SmsMessage& message) override;
  // The signed query of a SendSms request (also what the known-answer test pins).
  QueryParams request_params(const SmsMessage& message, std::string_view nonce) const;
  std::string signed_query(const SmsMessage& message, std::string_view nonce) const;

 private:
  GatewaySmsOptions options_;
  const Clock& clock_;
  net::HttpClient http_;
};

// Reads the gateway's JSON answer: the BizId, or the refusal as an error value.
Result<std::string> read_gateway_answer(int http_status, std::string_view body);

}  // namespace cunhuo::messaging
