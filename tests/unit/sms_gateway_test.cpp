// The Alibaba Cloud SMS adapter: its signature against values computed independently
// (Alibaba's published example, and openssl), and a SendSms over TLS against a local fake
// gateway that checks the signature with the shared secret itself; and what the adapter
// refuses to send: a plain-http gateway beyond loopback, a peer it cannot trust, an answer
// too slow or too large.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "messaging/dispatcher.hpp"
#include "messaging/gateway.hpp"
#include "tests/support/tls_server.hpp"

using namespace cunhuo;
using namespace cunhuo::messaging;
using namespace cunhuo::test;

namespace {

constexpr std::int64_t k20261207T035000Z = 1796615400000;

std::string hex(const std::array<unsigned char, 20>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) (out += kHex[c >> 4]) += kHex[c & 15];
  return out;
}

SmsMessage code_message(const std::string& phone = "13800000001") {
  return SmsMessage{.phone = phone,
                    .template_code = std::string(kVerificationCode),
                    .params = {{"code", "123456"}, {"minutes", "5"}}};
}

}  // namespace

TEST_CASE("SHA-1 and HMAC-SHA1 give the standard test vectors", "[unit][sms-gateway]") {
  CHECK(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // RFC 2202, test case 2.
  CHECK(hex(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("percent encoding keeps only unreserved characters, as Alibaba signs",
          "[unit][sms-gateway]") {
  CHECK(percent_encode("a b*c~-_.") == "a%20b%2Ac~-_.");
  CHECK(percent_encode("村") == "%E6%9D%91");
  CHECK(percent_encode("2026-12-07T03:50:00Z") == "2026-12-07T03%3A50%3A00Z");
  CHECK(percent_encode("/") == "%2F");
}

TEST_CASE("the signature of Alibaba's published SendSms example is the published one",
          "[unit][sms-gateway]") {
  const QueryParams params = {{"AccessKeyId", "testId"},
                              {"Action", "SendSms"},
                              {"Format", "XML"},
                              {"OutId", "123"},
                              {"PhoneNumbers", "15300000001"},
                              {"RegionId", "cn-hangzhou"},
                              {"SignName", "阿里云短信测试专用"},
                              {"SignatureMethod", "HMAC-SHA1"},
                              {"SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"},
                              {"SignatureVersion", "1.0"},
                              {"TemplateCode", "SMS_71390007"},
                              {"TemplateParam", R"({"customer":"test"})"},
                              {"Timestamp", "2017-07-12T02:42:19Z"},
                              {"Version", "2017-05-25"}};
  CHECK(string_to_sign(params) ==
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26"
        "PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%"
        "2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%"
        "25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-"
        "0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26"
        "TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-"
        "12T02%253A42%253A19Z%26Version%3D2017-05-25");
  CHECK(sign_request(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
}

// Expected values computed once outside this code: the canonical string with Python's
// urllib.parse.quote(safe='-_.~'), the signature with
// `printf '%s' "$STS" | openssl dgst -sha1 -hmac 'cunhuo-secret&' -binary | base64`.
TEST_CASE("a SendSms request for a code is signed as openssl signs it", "[unit][sms-gateway]") {
  ManualClock clock(k20261207T035000Z);
  const GatewaySms gateway(GatewaySmsOptions{.endpoint = "http://127.0.0.1:1/",
                                             .access_key_id = "LTAI-cunhuo-test",
                                             .access_key_secret = "cunhuo-secret",
                                             .sign_name = "村货",
                                             .template_codes = {}},
                           clock);
  const auto params = gateway.request_params(code_message(), "00112233445566778899aabbccddeeff");
  CHECK(canonical_query(params) ==
        "AccessKeyId=LTAI-cunhuo-test&Action=SendSms&Format=JSON&PhoneNumbers=13800000001&"
        "SignName=%E6%9D%91%E8%B4%A7&SignatureMethod=HMAC-SHA1&SignatureNonce="
        "00112233445566778899aabbccddeeff&SignatureVersion=1.0&TemplateCode=verification_code&"
        "TemplateParam=%7B%22code%22%3A%22123456%22%2C%22minutes%22%3A%225%22%7D&Timestamp="
        "2026-12-07T03%3A50%3A00Z&Version=2017-05-25");
  CHECK(sign_request(params, "cunhuo-secret") == "plrTd10gWrQ7sx6Ia0MJl/Z0LK0=");
  CHECK(gateway.signed_query(code_message(), "00112233445566778899aabbccddeeff")
            .starts_with("Signature=plrTd10gWrQ7sx6Ia0MJl%2FZ0LK0%3D&AccessKeyId="));
}

TEST_CASE("the gateway's answer: OK gives the BizId, throttling is worth a retry, the rest not",
          "[unit][sms-gateway]") {
  auto ok = read_gateway_answer(
      200, R"({"Code":"OK","Message":"OK","BizId":"9006197","RequestId":"F655"})");
  REQUIRE(ok.ok());
  CHECK(*ok == "9006197");
  auto throttled =
      read_gateway_answer(200, R"({"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"x"})");
  REQUIRE_FALSE(throttled.ok());
  CHECK(throttled.error().kind == ErrorKind::unavailable);
  auto refused = read_gateway_answer(200, R"({"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"x"})");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind != ErrorKind::unavailable);
  CHECK(refused.error().code == "gateway_isv.MOBILE_NUMBER_ILLEGAL");
  CHECK(read_gateway_answer(502, "<html>bad gateway</html>").error().kind ==
        ErrorKind::unavailable);
}

TEST_CASE("a template renders its parameters; an unknown one is refused", "[unit][sms-gateway]") {
  auto text = render(code_message());
  REQUIRE(text.ok());
  CHECK(text->find("123456") != std::string::npos);
  CHECK(text->find("5分钟") != std::string::npos);
  CHECK(render(SmsMessage{.phone = "13800000001", .template_code = "nope", .params = {}})
            .error()
            .code == "unknown_template");
  CHECK(render(SmsMessage{.phone = "13800000001",
                          .template_code = std::string(kVerificationCode),
                          .params = {}})
            .error()
            .code == "missing_param");
}

TEST_CASE("retries back off exponentially up to a cap", "[unit][sms-gateway]") {
  CHECK(sms_retry_delay_ms(1) == kSmsRetryBaseMs);
  CHECK(sms_retry_delay_ms(2) == 2 * kSmsRetryBaseMs);
  CHECK(sms_retry_delay_ms(3) == 4 * kSmsRetryBaseMs);
  CHECK(sms_retry_delay_ms(40) == kSmsRetryCapMs);
}

namespace {

// A fake Alibaba SMS endpoint on a loopback port, over TLS with a certificate from `pki`. It
// recomputes the signature of each request with its own secret, as the real one does, and
// answers as told.
class FakeGateway {
 public:
  enum class Mode { ok, refuse_number, throttle };

  FakeGateway(std::string secret, TestPki& pki)
      : secret_(std::move(secret)),
        server_([this](const FakeRequest& r) { return FakeReply{.body = respond(r.target)}; },
                pki.issue("DNS:localhost,IP:127.0.0.1")) {}
  std::string url() const { return server_.url(); }
  void answer(Mode mode) { mode_ = mode; }
  int accepted() const { return accepted_; }
  std::map<std::string, std::string> last_query() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  static std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  // The canonical string written out again here, from the decoded query, as the gateway
  // would: sorted names, RFC 3986 encoding.
  std::string expected_signature(const std::map<std::string, std::string>& query) const {
    auto enc = [](std::string_view s) {
      std::string out;
      char buf[4];
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          std::snprintf(buf, sizeof buf, "%%%02X", c);
          out += buf;
        }
      }
      return out;
    };
    std::string canonical;
    for (const auto& [k, v] : query) {  // a std::map is sorted by name
      if (k == "Signature") continue;
      canonical += (canonical.empty() ? "" : "&") + enc(k) + "=" + enc(v);
    }
    const auto mac = hmac_sha1(secret_ + "&", "GET&%2F&" + enc(canonical));
    return base64(std::string(mac.begin(), mac.end()));
  }
  std::string respond(const std::string& target) {
    std::map<std::string, std::string> query;
    std::string_view rest = std::string_view(target).substr(target.find('?') + 1);
    while (!rest.empty()) {
      const auto amp = std::min(rest.find('&'), rest.size());
      const auto pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      query[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
      rest = rest.substr(std::min(amp + 1, rest.size()));
    }
    {
      std::lock_guard lock(mu_);
      last_ = query;
    }
    if (query["Signature"] != expected_signature(query))
      return R"({"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched"})";
    if (mode_ == Mode::throttle)
      return R"({"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"})";
    if (mode_ == Mode::refuse_number)
      return R"({"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号"})";
    ++accepted_;
    return R"({"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5"})";
  }

  std::string secret_;
  std::atomic<Mode> mode_{Mode::ok};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::map<std::string, std::string> last_;
  LocalServer server_;  // last: its thread stops before the members it uses go
};

GatewaySmsOptions options_for(std::string endpoint, const std::string& secret,
                              std::string ca_file) {
  return GatewaySmsOptions{.endpoint = std::move(endpoint),
                           .access_key_id = "LTAI-cunhuo-test",
                           .access_key_secret = secret,
                           .sign_name = "村货",
                           .template_codes = {{"verification_code", "SMS_4611"}},
                           .ca_file = std::move(ca_file)};
}

GatewaySms gateway_to(const FakeGateway& fake, const std::string& secret, const TestPki& pki,
                      const Clock& clock) {
  return GatewaySms(options_for(fake.url(), secret, pki.ca_file()), clock);
}

}  // namespace

TEST_CASE("a well-signed SendSms goes over TLS to the gateway, and its BizId comes back",
          "[unit][sms-gateway]") {
  SystemClock clock;
  TestPki pki;
  FakeGateway fake("cunhuo-secret", pki);
  auto gateway = gateway_to(fake, "cunhuo-secret", pki, clock);
  auto sent = gateway.send(code_message());
  REQUIRE(sent.ok());
  CHECK(*sent == "900619746936498440^0");
  CHECK(fake.accepted() == 1);
  auto query = fake.last_query();
  CHECK(query["TemplateCode"] == "SMS_4611");
  CHECK(query["PhoneNumbers"] == "13800000001");
  CHECK(query["TemplateParam"] == R"({"code":"123456","minutes":"5"})");
}

TEST_CASE("a message signed with the wrong secret is refused by the gateway",
          "[unit][sms-gateway]") {
  SystemClock clock;
  TestPki pki;
  FakeGateway fake("cunhuo-secret", pki);
  auto sent = gateway_to(fake, "not-the-secret", pki, clock).send(code_message());
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().code == "gateway_SignatureDoesNotMatch");
  CHECK(sent.error().kind != ErrorKind::unavailable);
  CHECK(fake.accepted() == 0);
}

TEST_CASE("a gateway error code is an error value, a throttling one is retryable",
          "[unit][sms-gateway]") {
  SystemClock clock;
  TestPki pki;
  FakeGateway fake("cunhuo-secret", pki);
  auto gateway = gateway_to(fake, "cunhuo-secret", pki, clock);
  fake.answer(FakeGateway::Mode::refuse_number);
  auto refused = gateway.send(code_message());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "gateway_isv.MOBILE_NUMBER_ILLEGAL");
  CHECK(refused.error().kind != ErrorKind::unavailable);
  fake.answer(FakeGateway::Mode::throttle);
  auto throttled = gateway.send(code_message());
  REQUIRE_FALSE(throttled.ok());
  CHECK(throttled.error().kind == ErrorKind::unavailable);
}

TEST_CASE("an unreachable gateway is unavailable, worth a retry", "[unit][sms-gateway]") {
  SystemClock clock;
  GatewaySms gateway(GatewaySmsOptions{.endpoint = "http://127.0.0.1:1/",
                                       .access_key_id = "id",
                                       .access_key_secret = "s",
                                       .sign_name = "村货",
                                       .template_codes = {}},
                     clock);
  CHECK(gateway.send(code_message()).error().kind == ErrorKind::unavailable);
}

TEST_CASE("a gateway URL is https, or plain http to this machine only", "[unit][sms-gateway]") {
  struct Case {
    std::string url, refusal;  // empty: taken
  };
  const std::vector<Case> cases = {
      {"https://dysmsapi.aliyuncs.com/", ""},
      {"http://127.0.0.1:9/", ""},
      {"http://localhost:9/", ""},
      {"http://[::1]:9/", ""},
      {"ftp://dysmsapi.aliyuncs.com/", "invalid_url"},
      {"https://:443/", "invalid_url"},
      {"http://dysmsapi.aliyuncs.com/", "insecure_gateway_url"},
      {"http://10.0.0.8:8080/", "insecure_gateway_url"},
      {"http://127.example.com/", "insecure_gateway_url"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    const auto checked = check_gateway_url(c.url);
    CHECK((checked.ok() ? std::string() : checked.error().code) == c.refusal);
  }
}

namespace {

std::string answer_of(std::size_t bytes) {
  return R"({"Code":"OK","BizId":"1","Message":")" + std::string(bytes, 'x') + R"("})";
}

}  // namespace

// Each row breaks one thing, in the order the adapter finds them: the URL before any
// connection, the connection, the peer's certificate (chain, then name), then the answer
// (its time, then its size). Each is an error value; only the URL's is not worth a retry.
TEST_CASE("what the gateway adapter refuses to send through, in order of precedence",
          "[unit][sms-gateway]") {
  SystemClock clock;
  TestPki trusted("Cunhuo test CA"), stranger("Someone else's CA");
  const auto ok = [](const FakeRequest&) { return FakeReply{.body = answer_of(10)}; };
  LocalServer untrusted(ok, stranger.issue("DNS:localhost,IP:127.0.0.1"));
  LocalServer other_name(ok, trusted.issue("DNS:sms.example.com"));
  SilentListener silent;
  LocalServer oversized([](const FakeRequest&) { return FakeReply{.body = answer_of(100'000)}; },
                        trusted.issue("DNS:localhost,IP:127.0.0.1"));
  struct Case {
    std::string what, url, code, says;
    std::int64_t timeout_ms = kGatewayTimeoutMs;
  };
  const std::vector<Case> cases = {
      {"plain http beyond loopback", "http://dysmsapi.aliyuncs.com/", "insecure_gateway_url",
       "plain http://"},
      {"nobody listening", "https://127.0.0.1:1/", "unreachable", "cannot connect"},
      {"a certificate from a CA not trusted", untrusted.url(), "tls_failed", "local issuer"},
      {"a certificate for another host name", other_name.url(), "tls_failed", "hostname"},
      {"a gateway that never answers", silent.url(true), "timeout", "in time", 300},
      {"an answer over the size limit", oversized.url(), "response_too_large", "more than"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto options = options_for(c.url, "cunhuo-secret", trusted.ca_file());
    options.timeout_ms = c.timeout_ms;
    const auto started = std::chrono::steady_clock::now();
    auto sent = GatewaySms(options, clock).send(code_message());
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.error().code == c.code);
    CHECK_THAT(sent.error().message, Catch::Contains(c.says));
    CHECK((sent.error().kind == ErrorKind::unavailable) == (c.code != "insecure_gateway_url"));
    // The silent gateway is given its own short deadline: it ends the call, not the default.
    CHECK(took < std::chrono::milliseconds(kGatewayTimeoutMs));
    if (c.code == "timeout") CHECK(took >= std::chrono::milliseconds(c.timeout_ms));
  }
  CHECK(untrusted.answered() == 0);
  CHECK(other_name.answered() == 0);
}
