// The payment sandbox as a server on loopback that anyone on the machine can reach: it
// checks the merchant's signature before anything else, refuses a request sent again, is
// served by a small pool of threads so a client that holds a connection stalls no one,
// bounds a request's header, tells nothing of its own failures, and pays back-dated only
// when it was opened for the demo loader.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/db/database.hpp"
#include "core/net/http_client.hpp"
#include "payments/wechatpay/protocol.hpp"
#include "paysandbox/merchant.hpp"
#include "tests/support/paysandbox.hpp"
#include "tests/support/support.hpp"

namespace cunhuo::test {
namespace {

namespace wx = payments::wechatpay;

constexpr std::int64_t kNowMs = 1'796'000'000'000;               // 2026-11-30
constexpr const char* kNotifyUrl = "http://127.0.0.1:1/notify";  // nothing is delivered

// A request to the sandbox's API, with an Authorization header made from `a`; an empty
// a.signature is filled with the merchant's signature over exactly this request.
net::HttpResponse call(const PaySandbox& s, const std::string& target, wx::Authorization a) {
  if (a.signature.empty()) {
    auto key = wx::RsaKey::load_private_file(s.config().private_key_file);
    REQUIRE(key.ok());
    auto signed_ = key->sign(wx::request_message("GET", target, a.timestamp, a.nonce_str, ""));
    REQUIRE(signed_.ok());
    a.signature = *signed_;
  }
  net::HttpClient client(net::HttpClientOptions{.ca_file = s.config().ca_file});
  auto answer =
      client.send(net::HttpRequest{.method = "GET",
                                   .url = s.config().api_base + target,
                                   .headers = {{"Authorization", wx::format_authorization(a)}},
                                   .body = ""});
  REQUIRE(answer.ok());
  return *answer;
}

wx::Authorization merchant(std::string timestamp, std::string nonce) {
  return wx::Authorization{.mchid = paysandbox::kSandboxMchid,
                           .nonce_str = std::move(nonce),
                           .signature = "",
                           .timestamp = std::move(timestamp),
                           .serial_no = paysandbox::kSandboxMerchantSerial};
}

std::string now_s() { return std::to_string(kNowMs / 1000); }

// A TCP connection to the sandbox's port that the test holds (and sends on) itself; reads
// wait at most 5 s.
struct RawConnection {
  int fd = -1;
  explicit RawConnection(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
    timeval wait{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  }
  ~RawConnection() { ::close(fd); }
  void send_all(const std::string& bytes) const {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Everything until the sandbox closes; "timeout" when it keeps the connection open.
  std::string read_to_end() const {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) return out;
      if (n < 0) return "timeout";
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }
};

}  // namespace

// Refusals in order of precedence: a header that does not parse (it carries the signature),
// the signature, the timestamp, then the nonce.
TEST_CASE("the sandbox checks a request's signature first, then its timestamp and nonce",
          "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl});
  wx::Authorization forged = merchant("123abc", "n-forged");
  forged.signature = "QUJD";
  const struct {
    const char* name;
    wx::Authorization authorization;
    const char* refusal;
  } cases[] = {
      {"signed, no nonce", merchant(now_s(), ""), "malformed"},
      {"not signed by the merchant, nor a timestamp", forged, "signature does not verify"},
      {"signed, a timestamp with letters", merchant("123abc", "n-1"), "timestamp"},
      {"signed, a timestamp past int64", merchant("-9223372036854775808", "n-2"), "timestamp"},
      {"signed, 5 minutes old", merchant(std::to_string(kNowMs / 1000 - 300), "n-3"), "timestamp"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto answer = call(s, "/v3/certificates", c.authorization);
    CHECK(answer.status == 401);
    CHECK(answer.body.find(c.refusal) != std::string::npos);
  }
  CHECK(call(s, "/v3/certificates", merchant(now_s(), "n-fresh")).status == 200);
  const auto again = call(s, "/v3/certificates", merchant(now_s(), "n-fresh"));
  CHECK(again.status == 401);
  CHECK(again.body.find("nonce was used before") != std::string::npos);
}

TEST_CASE("an Authorization header naming a field twice is refused, whichever comes first",
          "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl});
  auto key = wx::RsaKey::load_private_file(s.config().private_key_file);
  REQUIRE(key.ok());
  const std::string ts = now_s();
  const std::string signature =
      *key->sign(wx::request_message("GET", "/v3/certificates", ts, "n-1", ""));
  const std::string header = wx::format_authorization(merchant(ts, "n-1")) + ",nonce_str=\"n-2\"";
  const std::string with_signature = header.substr(0, header.find("signature=\"") + 11) +
                                     signature + header.substr(header.find("signature=\"") + 11);
  net::HttpClient client(net::HttpClientOptions{.ca_file = s.config().ca_file});
  auto answer = client.send(net::HttpRequest{.method = "GET",
                                             .url = s.config().api_base + "/v3/certificates",
                                             .headers = {{"Authorization", with_signature}},
                                             .body = ""});
  REQUIRE(answer.ok());
  CHECK(answer->status == 401);
  CHECK(answer->body.find("malformed") != std::string::npos);
}

TEST_CASE("clients holding connections open do not stall the sandbox", "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl});
  const auto adapter = s.adapter(clock);
  // All but one of the serving threads held by clients that send nothing (the deadline is
  // 10 s): the last one serves the adapter.
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i + 1 < paysandbox::kServeThreads; ++i)
    idle.push_back(std::make_unique<RawConnection>(s.sandbox().port()));
  CHECK(adapter->create_payment(payments::PaymentRequest{41, Money::fen(100), "CNY", "瓜"}).ok());
}

TEST_CASE("a connection that outlives its deadline is cut", "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl, .connection_deadline_ms = 1000});
  const auto adapter = s.adapter(clock);
  // Every serving thread held by a client that sends nothing: each is cut at its deadline,
  // after which the sandbox serves again.
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < paysandbox::kServeThreads; ++i)
    idle.push_back(std::make_unique<RawConnection>(s.sandbox().port()));
  for (const auto& c : idle) CHECK(c->read_to_end().empty());  // closed, not timed out
  CHECK(adapter->query(41).ok());  // served: 404 ORDER_NOT_EXIST is an answer
}

TEST_CASE("a request whose header is over 8 KiB is answered 431", "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl});
  const struct {
    std::size_t header_bytes;
    const char* status_line;
  } cases[] = {{paysandbox::kMaxHeaderBytes - 1024, "HTTP/1.1 404"},
               {paysandbox::kMaxHeaderBytes + 1024, "HTTP/1.1 431"}};
  for (const auto& c : cases) {
    INFO(c.header_bytes);
    RawConnection raw(s.sandbox().port());
    raw.send_all("GET /pay/wxnone HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " +
                 std::string(c.header_bytes, 'a') + "\r\n\r\n");
    CHECK(raw.read_to_end().starts_with(c.status_line));
  }
}

TEST_CASE("a failure inside the sandbox is answered 500 without its detail",
          "[wechatpay][sandbox]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl});
  auto books = db::open_database("sqlite:" + s.dir() + "/sandbox/paysandbox.db");
  REQUIRE(books.ok());
  REQUIRE((*books)
              ->write([](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("DROP TABLE sb_orders"));
                return {};
              })
              .ok());
  const auto answer = call(s, "/v3/pay/transactions/out-trade-no/CUNHUO42?mchid=1900000109",
                           merchant(now_s(), "n-1"));
  CHECK(answer.status == 500);
  CHECK(answer.body.find("SYSTEM_ERROR") != std::string::npos);
  CHECK(answer.body.find("sb_orders") == std::string::npos);
  CHECK(answer.body.find("table") == std::string::npos);
}

TEST_CASE("a back-dated payment is taken only by a sandbox opened for the demo loader",
          "[wechatpay][sandbox]") {
  const struct {
    bool offered;
    int status;
    const char* trade_state;
  } cases[] = {{false, 403, "NOTPAY"}, {true, 200, "SUCCESS"}};
  for (const auto& c : cases) {
    INFO(c.offered);
    ManualClock clock(kNowMs);
    PaySandbox s(clock, SandboxSetup{.notify_url = kNotifyUrl, .back_dated_payments = c.offered});
    auto made = s.adapter(clock)->create_payment(
        payments::PaymentRequest{43, Money::fen(100), "CNY", "枸杞"});
    REQUIRE(made.ok());
    net::HttpClient payer;
    auto answer = payer.send(net::HttpRequest{
        .method = "POST",
        .url = made->pay_url + "/confirm",
        .headers = {{"Content-Type", "application/json"}},
        .body = R"({"in_hand":true,"paid_at_ms":)" + std::to_string(kNowMs - 86'400'000) + "}"});
    REQUIRE(answer.ok());
    CHECK(answer->status == c.status);
    auto order = s.sandbox().find("CUNHUO43");
    REQUIRE(order.ok());
    CHECK(order->trade_state == c.trade_state);
  }
}

TEST_CASE("a public-key sandbox refuses a request naming another public key's id",
          "[wechatpay][sandbox][public-key]") {
  ManualClock clock(kNowMs);
  PaySandbox s(clock,
               SandboxSetup{.notify_url = kNotifyUrl, .signing = paysandbox::Signing::public_key});
  auto key = wx::RsaKey::load_private_file(s.config().private_key_file);
  REQUIRE(key.ok());
  net::HttpClient client(net::HttpClientOptions{.ca_file = s.config().ca_file});
  const std::string target = "/v3/pay/transactions/out-trade-no/CUNHUO1?mchid=1900000109";
  int n = 0;
  auto send = [&](const std::string& serial) {
    wx::Authorization a = merchant(now_s(), "n-pk-" + std::to_string(++n));
    a.signature = *key->sign(wx::request_message("GET", target, a.timestamp, a.nonce_str, ""));
    auto answer = client.send(net::HttpRequest{
        .method = "GET",
        .url = s.config().api_base + target,
        .headers = {{"Authorization", wx::format_authorization(a)}, {wx::kSerialHeader, serial}},
        .body = ""});
    REQUIRE(answer.ok());
    return *answer;
  };
  const auto other = send("PUB_KEY_ID_01142321349124100000000000000002");
  CHECK(other.status == 400);
  CHECK(other.body.find("INVALID_REQUEST") != std::string::npos);
  const auto own = send(kTestPublicKeyId);
  CHECK(own.status == 404);  // no such order: the request itself was taken
  CHECK(own.header(wx::kSerialHeader).value_or("") == kTestPublicKeyId);
}

}  // namespace cunhuo::test
