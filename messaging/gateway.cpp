#include "messaging/gateway.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "core/json.hpp"

namespace cunhuo::messaging {
namespace {

std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

void sha1_block(std::uint32_t h[5], const unsigned char* p) {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
           (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
  for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d), k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d, k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d, k = 0xCA62C1D6;
    }
    const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
    e = d, d = c, c = rotl(b, 30), b = a, a = t;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

// "2026-12-07T03:50:00Z": the Timestamp the gateway takes (UTC, seconds).
std::string iso8601_utc(std::int64_t epoch_ms) {
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string template_param_json(const SmsMessage& m) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [name, value] : m.params) w.field(name, value);
  w.end_object();
  return w.take();
}

}  // namespace

std::array<unsigned char, 20> sha1(std::string_view data) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string padded(data);
  padded += static_cast<char>(0x80);
  while (padded.size() % 64 != 56) padded += '\0';
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 7; i >= 0; --i) padded += static_cast<char>((bits >> (8 * i)) & 0xff);
  for (std::size_t i = 0; i < padded.size(); i += 64)
    sha1_block(h, reinterpret_cast<const unsigned char*>(padded.data() + i));
  std::array<unsigned char, 20> out{};
  for (int i = 0; i < 20; ++i) out[i] = static_cast<unsigned char>(h[i / 4] >> (24 - 8 * (i % 4)));
  return out;
}

std::array<unsigned char, 20> hmac_sha1(std::string_view key, std::string_view data) {
  constexpr std::size_t kBlock = 64;
  std::string k(key);
  if (k.size() > kBlock) {
    const auto digest = sha1(k);
    k.assign(digest.begin(), digest.end());
  }
  k.resize(kBlock, '\0');
  std::string inner(kBlock, '\0'), outer(kBlock, '\0');
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  const auto inner_digest = sha1(inner + std::string(data));
  return sha1(outer + std::string(inner_digest.begin(), inner_digest.end()));
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string canonical_query(QueryParams params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += percent_encode(name) + "=" + percent_encode(value);
  }
  return out;
}

std::string string_to_sign(const QueryParams& params) {
  return "GET&" + percent_encode("/") + "&" + percent_encode(canonical_query(params));
}

std::string sign_request(const QueryParams& params, std::string_view access_key_secret) {
  const auto mac = hmac_sha1(std::string(access_key_secret) + "&", string_to_sign(params));
  return base64(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

QueryParams GatewaySms::request_params(const SmsMessage& m, std::string_view nonce) const {
  const auto mapped = options_.template_codes.find(m.template_code);
  const std::string code =
      mapped == options_.template_codes.end() ? m.template_code : mapped->second;
  return {{"AccessKeyId", options_.access_key_id},
          {"Action", "SendSms"},
          {"Format", "JSON"},
          {"PhoneNumbers", m.phone},
          {"SignName", options_.sign_name},
          {"SignatureMethod", "HMAC-SHA1"},
          {"SignatureNonce", std::string(nonce)},
          {"SignatureVersion", "1.0"},
          {"TemplateCode", code},
          {"TemplateParam", template_param_json(m)},
          {"Timestamp", iso8601_utc(clock_.now_ms())},
          {"Version", std::string(kAliyunSmsVersion)}};
}

std::string GatewaySms::signed_query(const SmsMessage& m, std::string_view nonce) const {
  const QueryParams params = request_params(m, nonce);
  return "Signature=" + percent_encode(sign_request(params, options_.access_key_secret)) + "&" +
         canonical_query(params);
}

Result<std::string> read_gateway_answer(int http_status, std::string_view body) {
  auto doc = Json::parse(body);
  const Json* code = doc.ok() ? doc->find("Code") : nullptr;
  if (code == nullptr || code->type() != Json::Type::string) {
    const ErrorKind kind = http_status >= 500 ? ErrorKind::unavailable : ErrorKind::internal;
    return make_error(
        kind, "gateway_bad_answer",
        "the SMS gateway answered " + std::to_string(http_status) + " without a code");
  }
  const Json* message = doc->find("Message");
  const std::string said = message != nullptr && message->type() == Json::Type::string
                               ? message->as_string()
                               : std::string();
  if (code->as_string() == "OK") {
    const Json* biz = doc->find("BizId");
    if (biz == nullptr || biz->type() != Json::Type::string)
      return make_error(ErrorKind::internal, "gateway_bad_answer", "OK without a BizId");
    return biz->as_string();
  }
  const bool retryable = std::find(kRetryableGatewayCodes.begin(), kRetryableGatewayCodes.end(),
                                   code->as_string()) != kRetryableGatewayCodes.end();
  return make_error(retryable ? ErrorKind::unavailable : ErrorKind::unprocessable,
                    "gateway_" + code->as_string(), "the SMS gateway refused: " + said);
}

Status check_gateway_url(std::string_view endpoint) {
  const net::Url url = CUNHUO_TRY(net::parse_url(endpoint));
  if (url.tls || net::is_loopback_host(url.host)) return {};
  return make_error(ErrorKind::invalid, "insecure_gateway_url",
                    "the SMS gateway URL " + std::string(endpoint) +
                        " is plain http:// beyond this machine: the access key, phone numbers "
                        "and codes would cross the network unencrypted; use https://");
}

Status check_gateway_options(const GatewaySmsOptions& options) {
  CUNHUO_CHECK(check_gateway_url(options.endpoint));
  if (options.ca_file.empty()) return {};
  return net::HttpClient(net::HttpClientOptions{.ca_file = options.ca_file}).trust();
}

GatewaySms::GatewaySms(GatewaySmsOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      http_(net::HttpClientOptions{.timeout_ms = options_.timeout_ms,
                                   .max_response_body = kMaxGatewayAnswer,
                                   .ca_file = options_.ca_file}) {}

Result<std::string> GatewaySms::send(const SmsMessage& message) {
  CUNHUO_CHECK(render(message));  // a template the gateway is known to have
  CUNHUO_CHECK(check_gateway_url(options_.endpoint));
  if (sodium_init() < 0)
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char nonce[33];
  sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
  const char joint = options_.endpoint.find('?') == std::string::npos ? '?' : '&';
  const auto answer = CUNHUO_TRY(
      http_.send(net::HttpRequest{.method = "GET",
                                  .url = options_.endpoint + joint + signed_query(message, nonce),
                                  .headers = {{"Accept", "application/json"}},
                                  .body = {}}));
  return read_gateway_answer(answer.status, answer.body);
}

}  // namespace cunhuo::messaging
