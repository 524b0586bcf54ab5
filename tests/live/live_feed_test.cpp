// The live feed (/live): who may open it, what each account receives, resuming, and the
// limits that keep a connection from costing the server without bound.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <optional>
#include <set>
#include <string>

#include "core/json.hpp"
#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/pickup.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/orders.hpp"
#include "payments/intents.hpp"
#include "payments/payouts.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "storefront/live/feed.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

namespace cunhuo::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
namespace live = storefront::live;

// A WebSocket client of the feed, on Beast. Each wait is bounded.
class LiveClient {
 public:
  // Opens `target` with `headers`: 101 when open, else the status of the server's answer.
  int open(std::uint16_t port, const Headers& headers, const std::string& target = "/live") {
    tcp::resolver resolver(io_);
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.set(name, value);
    }));
    websocket::response_type answer;
    beast::error_code ec;
    ws_.handshake(answer, "127.0.0.1:" + std::to_string(port), target, ec);
    if (!ec) return 101;
    // Beast 1.74 does not hand a declined handshake's answer over: ask again over HTTP.
    HttpClient http(port);
    Headers upgrade = headers;
    upgrade.insert(upgrade.end(), {{"Connection", "Upgrade"},
                                   {"Upgrade", "websocket"},
                                   {"Sec-WebSocket-Version", "13"},
                                   {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
    return http.request("GET", target, "", upgrade).status;
  }

  // The next text frame, or nullopt when the connection ended (close_code() says how) or
  // nothing came within `within`.
  std::optional<std::string> next(std::chrono::milliseconds within = 10s) {
    std::optional<std::string> got;
    bool done = false;
    ws_.async_read(in_, [&](beast::error_code ec, std::size_t) {
      done = true;
      if (ec) return;
      got = beast::buffers_to_string(in_.data());
      in_.consume(in_.size());
    });
    io_.restart();
    io_.run_for(within);
    if (!done) {
      beast::error_code ignored;
      ws_.next_layer().close(ignored);  // abandons the stream
      io_.restart();
      io_.run();
    }
    return got;
  }

  // The next event's frame of `type`, skipping others.
  std::optional<Json> next_of(const std::string& type, std::chrono::milliseconds within = 10s) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      auto frame = next(std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now()));
      if (!frame) return std::nullopt;
      auto doc = Json::parse(*frame);
      REQUIRE(doc.ok());
      if (doc->find("type")->as_string() == type) return *doc;
    }
    return std::nullopt;
  }

  int close_code() const { return static_cast<int>(ws_.reason().code); }

  // Pings the feed; pongs() counts the answers seen by reads since.
  void ping(const std::string& payload) {
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++pongs_;
    });
    ws_.ping(websocket::ping_data(payload.c_str()));
  }
  int pongs() const { return pongs_; }

  void send(const std::string& message, bool text) {
    ws_.text(text);
    ws_.write(asio::buffer(message));
  }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_{io_};
  beast::flat_buffer in_;
  int pongs_ = 0;
};

Headers as(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Waits until the feed counts `n` live connections.
void wait_live(TestServer& server, std::size_t n) {
  REQUIRE(server.app().live().wait_until(
      [n](const live::FeedStats& s) { return s.connections == n; }, 10s));
}

// Publishes an event through the outbox, as a module does; returns its id.
std::int64_t publish(TestServer& server, const std::string& topic, const std::string& payload) {
  auto id = server.app().db().write(
      [&](db::Session& tx) { return outbox::publish(tx, topic, payload, server.clock()); });
  REQUIRE(id.ok());
  return *id;
}

// A cold-chain excursion at `node`: the centre sees it (its county), so does the node's station.
std::int64_t excursion_at(TestServer& server, const std::string& node) {
  return publish(server, "excursion.raised",
                 R"({"excursion_id":1,"node":")" + node + R"(","kind":"continuous"})");
}

std::int64_t id_of(const Json& frame) { return frame.find("id")->as_integer(); }

// A WebSocket client written by hand, for the frames Beast will not send: after the
// upgrade it sends bytes as given and reads the server's (unmasked) frames.
class RawClient {
 public:
  // `receive_buffer` (bytes, 0 for the system's) is set before connecting, so it holds.
  explicit RawClient(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    const timeval wait{.tv_sec = 10, .tv_usec = 0};  // every read is bounded
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Upgrades to the live feed as `token`'s account; true when the server switched.
  bool upgrade(const std::string& token) {
    send("GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
         "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    while (in_.find("\r\n\r\n") == std::string::npos)
      if (!receive()) return false;
    const bool switched = in_.starts_with("HTTP/1.1 101");
    in_.erase(0, in_.find("\r\n\r\n") + 4);
    return switched;
  }

  // False once the server no longer takes bytes.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void end_sending() { ::shutdown(fd_, SHUT_WR); }

  struct Frame {
    int opcode = 0;
    std::string payload;
  };
  // The server's next frame; nullopt when the stream ended (ended() says so) or after 10 s.
  std::optional<Frame> next_frame() {
    for (;;) {
      if (in_.size() >= 2) {
        std::size_t head = 2;
        std::uint64_t length = static_cast<std::uint8_t>(in_[1]) & 0x7F;
        const std::size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
        if (in_.size() >= head + extended) {
          if (extended > 0) length = 0;
          for (std::size_t i = 0; i < extended; ++i)
            length = (length << 8) | static_cast<std::uint8_t>(in_[head + i]);
          head += extended;
          if (in_.size() >= head + length) {
            Frame f{static_cast<std::uint8_t>(in_[0]) & 0x0F, in_.substr(head, length)};
            in_.erase(0, head + length);
            return f;
          }
        }
      }
      if (!receive()) return std::nullopt;
    }
  }

  // The code of the server's close frame, skipping the frames before it: 0 for a close
  // without a code, -1 when none came.
  int close_code() {
    while (auto f = next_frame())
      if (f->opcode == 0x8) return code_of(*f);
    return -1;
  }

  // A close frame's code; 0 when it has none.
  static int code_of(const Frame& close) {
    if (close.payload.size() < 2) return 0;
    return (static_cast<std::uint8_t>(close.payload[0]) << 8) |
           static_cast<std::uint8_t>(close.payload[1]);
  }

  bool ended() const { return ended_; }

 private:
  bool receive() {
    std::array<char, 4096> chunk{};
    const auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n <= 0) {
      ended_ = n == 0;
      return false;
    }
    in_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string in_;
  bool ended_ = false;
};

// A client frame (RFC 6455 5.2): `first` is its first byte (FIN, RSV1-3, opcode).
std::string client_frame(std::uint8_t first, std::string_view payload, bool masked = true) {
  constexpr std::array<std::uint8_t, 4> kMask = {0x37, 0xFA, 0x21, 0x3D};
  std::string out(1, static_cast<char>(first));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (masked) out.append(kMask.begin(), kMask.end());
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ (masked ? kMask[i % 4] : 0)));
  return out;
}

// A masked header claiming `length` bytes in the 64-bit form, with no payload after it.
std::string claimed_length(std::uint8_t first, std::uint64_t length) {
  std::string out = {static_cast<char>(first), static_cast<char>(0x80 | 127)};
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  return out + std::string(4, '\x01');
}

std::string close_payload(std::uint16_t code, std::string_view reason = "") {
  std::string out = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return out.append(reason);
}

constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9;

}  // namespace

STORE_TEST("an upgrade to the live feed without a valid session is refused before it switches",
           "[live]") {
  TestServer server(store_kind);
  const std::string centre = server.login(kCentre);
  const std::int64_t newest = excursion_at(server, "MQ-TS-SL");
  struct Case {
    const char* what;
    Headers headers;
    std::string target;
    int status;
  };
  // In order of precedence: the session first, then the resume id.
  const std::vector<Case> cases = {
      {"no credentials", {}, "/live", 401},
      {"no credentials, resuming", {}, "/live?after=1", 401},
      {"an unknown bearer token", as(std::string(64, 'a')), "/live", 401},
      {"an unknown session cookie",
       {{"Cookie", "cunhuo_session=" + std::string(64, 'b')}},
       "/live",
       401},
      {"a token in the URL only", {}, "/live?access_token=" + centre, 401},
      {"a resume id from the future", as(centre), "/live?after=" + std::to_string(newest + 1000),
       400},
      {"a resume id that is no number", as(centre), "/live?after=abc", 400},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    LiveClient client;
    CHECK(client.open(server.port(), c.headers, c.target) == c.status);
  }
  CHECK(server.app().live().stats().connections == 0);
}

STORE_TEST("the county centre receives a consumer's order paid after it connected", "[live]") {
  TestServer server(store_kind);
  HttpClient http(server.port());
  LiveClient centre;
  REQUIRE(centre.open(server.port(), as(server.login(kCentre))) == 101);
  wait_live(server, 1);
  const auto bought = buy_and_pay(server, http, server.login(kConsumer));
  auto paid = centre.next_of("order.paid");
  REQUIRE(paid);
  CHECK(paid->find("data")->find("order_id")->as_integer() == bought.order);
  CHECK(paid->find("at")->as_integer() > 0);
}

STORE_TEST("the page session cookie opens the live feed too", "[live]") {
  TestServer server(store_kind);
  const std::string token = server.login(kCentre);
  LiveClient centre;
  REQUIRE(centre.open(server.port(), {{"Cookie", "cunhuo_session=" + token}}) == 101);
  wait_live(server, 1);
  const std::int64_t id = excursion_at(server, "MQ-TS-SL");
  auto frame = centre.next_of("excursion.raised");
  REQUIRE(frame);
  CHECK(id_of(*frame) == id);
}

STORE_TEST("a station never receives another station's parcel events", "[live]") {
  TestServer server(store_kind);
  HttpClient http(server.port());
  // A second station operator, at 三雷镇: the melon's parcels do not pass there.
  const std::int64_t sanlei = server.count("SELECT id FROM network_nodes WHERE code = 'MQ-TS-SL'");
  storefront::Auth auth(server.app().db(), server.clock());
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) {
                return auth.create_account(tx, {.phone = "13900000099",
                                                .password = "cunhuo-demo",
                                                .display_name = "三雷镇站点操作员",
                                                .role = storefront::Role::station_operator,
                                                .region_code = "620621101",
                                                .household_id = std::nullopt,
                                                .shop_id = std::nullopt,
                                                .node_id = sanlei});
              })
              .ok());
  LiveClient xiqu, other;
  REQUIRE(xiqu.open(server.port(), as(server.login(kStation))) == 101);
  REQUIRE(other.open(server.port(), as(server.login("13900000099"))) == 101);
  wait_live(server, 2);

  const auto bought = buy_and_pay(server, http, server.login(kConsumer));
  deliver_by_scans(server, http, bought.order);
  auto departed = xiqu.next_of("shipment.departed");
  REQUIRE(departed);
  CHECK(departed->find("data")->find("order_id")->as_integer() == bought.order);

  // Then an event at 三雷镇: the first thing its station receives, none of the order's before.
  const std::int64_t marker = excursion_at(server, "MQ-TS-SL");
  auto first = other.next();
  REQUIRE(first);
  auto doc = Json::parse(*first);
  REQUIRE(doc.ok());
  CHECK(doc->find("type")->as_string() == "excursion.raised");
  CHECK(id_of(*doc) == marker);
}

STORE_TEST("resuming with after=ID delivers the events missed since ID, in order", "[live]") {
  TestServer server(store_kind);
  const std::string centre = server.login(kCentre);
  const std::int64_t seen = excursion_at(server, "MQ-TS-SL");
  const std::int64_t missed1 = excursion_at(server, "MQ-TS-DB");
  publish(server, "test.admins_only", "{}");  // not the centre's to see
  const std::int64_t missed2 = excursion_at(server, "MQ-TS-QS");
  LiveClient client;
  REQUIRE(client.open(server.port(), as(centre), "/live?after=" + std::to_string(seen)) == 101);
  auto first = client.next_of("excursion.raised");
  auto second = client.next_of("excursion.raised");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(id_of(*first) == missed1);
  CHECK(id_of(*second) == missed2);
}

STORE_TEST("resuming after more than the backlog holds ends the backlog with a reload", "[live]") {
  TestServer server(store_kind);
  const std::string centre = server.login(kCentre);
  const std::int64_t seen = excursion_at(server, "MQ-TS-SL");
  std::int64_t last = 0;
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                for (std::int64_t i = 0; i < live::kResumeBacklog + 5; ++i)
                  last = CUNHUO_TRY(
                      outbox::publish(tx, "excursion.raised",
                                      R"({"excursion_id":1,"node":"MQ-TS-DB","kind":"continuous"})",
                                      server.clock()));
                return {};
              })
              .ok());
  LiveClient client;
  REQUIRE(client.open(server.port(), as(centre), "/live?after=" + std::to_string(seen)) == 101);
  std::int64_t events = 0;
  std::optional<Json> reload;
  while (auto frame = client.next()) {
    auto doc = Json::parse(*frame);
    REQUIRE(doc.ok());
    if (doc->find("type")->as_string() == "reload") {
      reload = *doc;
      break;
    }
    ++events;
  }
  CHECK(events == live::kResumeBacklog);
  REQUIRE(reload);
  CHECK(id_of(*reload) >= last);  // where to resume after reloading
}

STORE_TEST("a client that never reads is dropped and its queue stays bounded", "[live]") {
  TestServer server(store_kind);
  LiveClient admin;  // sees every event
  REQUIRE(admin.open(server.port(), as(server.login("13900000008"))) == 101);
  wait_live(server, 1);
  // Far more than the sockets' buffers and the queue hold together: 16 MB of events.
  const std::string pad(64 * 1024, 'x');
  for (int batch = 0; batch < 8; ++batch)
    REQUIRE(server.app()
                .db()
                .write([&](db::Session& tx) -> Status {
                  for (int i = 0; i < 32; ++i)
                    CUNHUO_TRY(outbox::publish(tx, "test.bulk", R"({"pad":")" + pad + "\"}",
                                               server.clock()));
                  return {};
                })
                .ok());
  REQUIRE(server.app().live().wait_until(
      [](const live::FeedStats& s) { return s.dropped_slow == 1 && s.connections == 0; }, 20s));
  const auto stats = server.app().live().stats();
  CHECK(stats.peak_queue_bytes <= live::kSendQueueBytes);
  CHECK(stats.queued_bytes == 0);
}

// MariaDB hands out auto-increment ids when rows are inserted, so a transaction can commit
// an event below one committed before it: the feed must not pass it by.
TEST_CASE("an event committed after a later-numbered one still reaches the feed",
          "[live][mariadb]") {
  TestServer server(StoreKind::mariadb);
  LiveClient centre;
  REQUIRE(centre.open(server.port(), as(server.login(kCentre))) == 101);
  wait_live(server, 1);
  std::promise<std::int64_t> early_id;
  std::promise<void> later_committed;
  std::thread slow([&] {
    auto done = server.app().db().write([&](db::Session& tx) -> Status {
      early_id.set_value(CUNHUO_TRY(outbox::publish(
          tx, "excursion.raised", R"({"excursion_id":1,"node":"MQ-TS-SL","kind":"continuous"})",
          server.clock())));
      later_committed.get_future().wait();
      return {};
    });
    CHECK(done.ok());
  });
  const std::int64_t early = early_id.get_future().get();
  const std::int64_t later = excursion_at(server, "MQ-TS-DB");
  REQUIRE(server.app().live().wait_until(
      [later](const live::FeedStats& s) { return s.tailed_through >= later; }, 10s));
  later_committed.set_value();
  slow.join();
  REQUIRE(later > early);
  auto first = centre.next_of("excursion.raised");
  auto second = centre.next_of("excursion.raised");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(id_of(*first) == later);  // handed out as it committed
  CHECK(id_of(*second) == early);
}

TEST_CASE("a message from the client closes the live feed with a policy close code",
          "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  const std::string centre = server.login(kCentre);
  struct Case {
    const char* what;
    std::string message;
    bool text;
    int close_code;
  };
  const std::vector<Case> cases = {
      {"a text message", "hello", true, live::kClosePolicy},
      {"a binary message", "hello", false, live::kClosePolicy},
      {"a frame over 4 KB", std::string(live::kMaxClientFrameBytes + 1, 'x'), false,
       static_cast<int>(websocket::close_code::too_big)},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    LiveClient client;
    REQUIRE(client.open(server.port(), as(centre)) == 101);
    wait_live(server, 1);
    client.send(c.message, c.text);
    CHECK_FALSE(client.next());
    CHECK(client.close_code() == c.close_code);
    wait_live(server, 0);
  }
  CHECK(server.app().live().stats().closed_policy == 3);
}

TEST_CASE("the feed answers a client's ping with a pong", "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  LiveClient client;
  REQUIRE(client.open(server.port(), as(server.login(kCentre))) == 101);
  wait_live(server, 1);
  client.ping("are you there");
  // The pong is answered at once, so it arrives before an event published after the ping.
  const std::int64_t id = excursion_at(server, "MQ-TS-SL");
  auto frame = client.next_of("excursion.raised");
  REQUIRE(frame);
  CHECK(id_of(*frame) == id);
  CHECK(client.pongs() == 1);
}

STORE_TEST("a live connection is closed once its session is ended, and only that one", "[live]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient http(server.port());
  const std::string ending = server.login(kCentre);
  const std::string kept = server.login(kCentre);  // the same account, another session
  LiveClient closed, open;
  REQUIRE(closed.open(server.port(), as(ending)) == 101);
  REQUIRE(open.open(server.port(), as(kept)) == 101);
  wait_live(server, 2);
  REQUIRE(http.request("DELETE", "/api/v1/sessions?keep_current=true", "", as(kept)).status == 200);
  CHECK(server.app().live().stats().closed_session == 0);  // not before the re-check is due
  server.advance(live::kSessionRecheck);
  REQUIRE(server.app().live().wait_until(
      [](const live::FeedStats& s) { return s.closed_session == 1 && s.connections == 1; }, 10s));
  CHECK_FALSE(closed.next());
  CHECK(closed.close_code() == live::kCloseSessionEnded);
  const std::int64_t id = excursion_at(server, "MQ-TS-SL");
  auto frame = open.next_of("excursion.raised");
  REQUIRE(frame);
  CHECK(id_of(*frame) == id);
}

TEST_CASE("a live connection is closed once its session expires", "[live][sqlite]") {
  TestServer server(StoreKind::sqlite, kTestSeed, {}, ServerClock::manual);
  LiveClient client;
  REQUIRE(client.open(server.port(), as(server.login(kCentre))) == 101);
  wait_live(server, 1);
  server.advance(std::chrono::hours(24 * 31));  // sessions last 30 days
  REQUIRE(server.app().live().wait_until(
      [](const live::FeedStats& s) { return s.closed_session == 1 && s.connections == 0; }, 10s));
  CHECK_FALSE(client.next());
  CHECK(client.close_code() == live::kCloseSessionEnded);
}

// The feed sends each event's payload as it was stored (reach.cpp only decides who gets
// it), so every event a module publishes must be made of ids, amounts and codes.
TEST_CASE("every event published to the outbox is made of ids, amounts and codes", "[live]") {
  namespace mk = marketplace;
  namespace lg = logistics;
  namespace pay = payments;
  namespace al = alleviation;
  const std::set<std::string> allowed = {
      "order_id", "shop_id",  "buyer_id",      "total_fen",       "household_id", "plan_id",
      "station",  "date",     "shipment_id",   "tracking_number", "bearer",       "excursion_id",
      "node",     "kind",     "checkout_id",   "intent_id",       "order_ids",    "amount_fen",
      "full",     "batch_id", "household_ids", "proposal_id",     "objection_id", "alert_id",
      "rule",     "claim_id", "status",        "verdict"};
  const std::vector<std::pair<const char*, std::string>> payloads = {
      {"order.*", mk::OrderStatusChanged{.order_id = mk::OrderId{1},
                                         .shop_id = mk::ShopId{2},
                                         .buyer_id = 3,
                                         .total = Money::fen(100)}
                      .encode()},
      {"household.card_changed", mk::CardChanged{.household_id = mk::HouseholdId{1}}.encode()},
      {"pickup runs planned",
       lg::PickupRunsPlanned{.plan_id = 1, .station_code = "MQ-TS-SL", .date = "2026-12-07"}
           .encode()},
      {"shipment.spoiled", lg::ShipmentEvent{.order_id = 1,
                                             .shipment_id = 2,
                                             .tracking_number = "CH123456789012",
                                             .bearer = "logistics"}
                               .encode()},
      {"excursion.raised",
       lg::ExcursionRaised{.excursion_id = 1, .node_code = "MQ-TS-SL", .kind = "continuous"}
           .encode()},
      {"payment.captured",
       pay::PaymentCaptured{.checkout_id = 1, .intent_id = 2, .order_ids = {3}}.encode()},
      {"payment returned", pay::PaymentReturned{.intent_id = 1, .checkout_id = 2}.encode()},
      {"payment.order_refunded",
       pay::OrderRefunded{.order_id = 1, .amount = Money::fen(100), .full = true}.encode()},
      {"refund_claim.*",
       pay::RefundClaimMoved{.claim_id = 1, .order_id = 2, .status = "requested"}.encode()},
      {"excursion.decided",
       lg::ExcursionDecided{.excursion_id = 1, .node_code = "MQ-TS-SL", .verdict = "released"}
           .encode()},
      {"payout sent",
       pay::PayoutSent{.batch_id = 1, .household_id = 2, .amount = Money::fen(100)}.encode()},
      {"income settled", pay::IncomeSettled{.order_id = 1, .household_ids = {2}}.encode()},
      {"exit notice opened", al::ExitNoticeOpened{.proposal_id = 1, .household_id = 2}.encode()},
      {"exit objection lodged",
       al::ExitObjectionLodged{.objection_id = 1, .proposal_id = 2, .household_id = 3}.encode()},
      {"alert raised",
       al::AlertRaised{.alert_id = 1, .household_id = 2, .rule = "income_drop"}.encode()},
  };
  for (const auto& [topic, payload] : payloads) {
    INFO(topic << ": " << payload);
    auto doc = Json::parse(payload);
    REQUIRE(doc.ok());
    for (const auto& [key, value] : doc->as_object()) {
      INFO(key);
      CHECK(allowed.count(key) == 1);
    }
  }
}

STORE_TEST("no live event of an order's way carries a name, a phone or an address", "[live]") {
  TestServer server(store_kind);
  HttpClient http(server.port());
  LiveClient admin;  // receives every event
  REQUIRE(admin.open(server.port(), as(server.login("13900000008"))) == 101);
  wait_live(server, 1);
  const auto bought = buy_and_pay(server, http, server.login(kConsumer));
  deliver_by_scans(server, http, bought.order);
  // The recipient's details as the order gave them (tests/support/flows.cpp), and the buyer's.
  const std::vector<std::string> personal = {"张三明", "13711112222", "兰州市城关区某路1号",
                                             kConsumer};
  std::set<std::string> types;
  while (types.count("shipment.delivered") == 0) {
    auto frame = admin.next();
    REQUIRE(frame);
    for (const auto& p : personal) CHECK(frame->find(p) == std::string::npos);
    auto doc = Json::parse(*frame);
    REQUIRE(doc.ok());
    types.insert(doc->find("type")->as_string());
  }
  CHECK(types.count("order.paid") == 1);
  CHECK(types.count("shipment.departed") == 1);
}

STORE_TEST("the county centre follows a refund claim live as it is made and decided", "[live]") {
  TestServer server(store_kind);
  HttpClient http(server.port());
  const std::string consumer = server.login(kConsumer), centre_token = server.login(kCentre);
  LiveClient centre;
  REQUIRE(centre.open(server.port(), as(centre_token)) == 101);
  wait_live(server, 1);
  const auto bought = buy_and_pay(server, http, consumer);
  auto claim = post_json(http, "/api/v1/orders/" + std::to_string(bought.order) + "/refund-claims",
                         R"({"amount_fen":100,"reason":"bruised"})",
                         bearer(consumer, {{"Idempotency-Key", "claim-1"}}));
  REQUIRE(claim.status == 201);
  auto filed = centre.next_of("refund_claim.filed");
  REQUIRE(filed);
  CHECK(filed->find("data")->find("order_id")->as_integer() == bought.order);
  CHECK(filed->find("data")->find("status")->as_string() == "requested");
  const std::string decision =
      "/api/v1/refund-claims/" + std::to_string(json_int(claim.body, "id")) + "/decision";
  REQUIRE(post_json(http, decision, R"({"approve":false})", bearer(centre_token)).status == 200);
  auto decided = centre.next_of("refund_claim.decided");
  REQUIRE(decided);
  CHECK(decided->find("data")->find("status")->as_string() == "rejected");
}

TEST_CASE("one account may hold only so many live connections at once", "[live]") {
  TestServer server(StoreKind::sqlite);
  const std::string centre = server.login(kCentre);
  std::vector<std::unique_ptr<LiveClient>> open;
  for (int i = 0; i < live::kMaxConnectionsPerAccount; ++i) {
    open.push_back(std::make_unique<LiveClient>());
    REQUIRE(open.back()->open(server.port(), as(centre)) == 101);
  }
  wait_live(server, live::kMaxConnectionsPerAccount);
  LiveClient one_more;
  CHECK(one_more.open(server.port(), as(centre)) == 429);
  LiveClient other_account;  // the quota is the account's, not everyone's
  CHECK(other_account.open(server.port(), as(server.login(kOffice))) == 101);
}

TEST_CASE("an upgrade that is not its connection's first request is refused", "[live]") {
  TestServer server(StoreKind::sqlite);
  HttpClient http(server.port());
  REQUIRE(http.request("GET", "/healthz").status == 200);
  auto upgrade = http.request("GET", "/live", "",
                              {{"Authorization", "Bearer " + server.login(kCentre)},
                               {"Connection", "Upgrade"},
                               {"Upgrade", "websocket"},
                               {"Sec-WebSocket-Version", "13"},
                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  CHECK(upgrade.status == 400);
  CHECK(error_code(upgrade) == "upgrade_not_first");
}

// RFC 6455 as the feed applies it to what a client sends, in the order the refusals take
// precedence: a malformed frame (1002) before one too big (1009), before a message the feed
// does not take (1008). Each is judged on its header, before a claimed payload is awaited.
TEST_CASE("a client frame the protocol forbids closes the live feed with its close code",
          "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  const std::string centre = server.login(kCentre);
  const std::string over(live::kMaxClientFrameBytes + 1, 'x');
  const std::string half(live::kMaxClientFrameBytes / 2 + 1, 'x');
  struct Case {
    const char* what;
    std::string bytes;
    int close_code;
  };
  const std::vector<Case> cases = {
      {"an unmasked ping", client_frame(kFin | kPing, "", false), live::kCloseProtocol},
      {"an unmasked frame over 4 KB", client_frame(kFin | kBinary, over, false),
       live::kCloseProtocol},
      {"a reserved bit set, no extension agreed", client_frame(kFin | 0x40 | kPing, ""),
       live::kCloseProtocol},
      {"a final frame of reserved opcode 3", client_frame(kFin | 0x3, "x"), live::kCloseProtocol},
      {"a fragment of reserved opcode 7", client_frame(0x7, "x"), live::kCloseProtocol},
      {"a frame of reserved control opcode 11", client_frame(kFin | 0xB, ""), live::kCloseProtocol},
      {"a ping that is not final", client_frame(kPing, ""), live::kCloseProtocol},
      {"a ping of 126 bytes", client_frame(kFin | kPing, std::string(126, 'p')),
       live::kCloseProtocol},
      {"a 64-bit length with its top bit set", claimed_length(kFin | kBinary, 1ULL << 63),
       live::kCloseProtocol},
      {"a length of 5 in the 16-bit form",
       std::string{static_cast<char>(kFin | kPing), static_cast<char>(0x80 | 126), 0, 5} +
           std::string(4, '\x01') + "ping!",
       live::kCloseProtocol},
      {"a continuation with no message begun", client_frame(kFin | 0x0, "x"), live::kCloseProtocol},
      {"a new message inside a fragmented one",
       client_frame(kText, "a") + client_frame(kFin | kText, "b"), live::kCloseProtocol},
      {"a close of one byte", client_frame(kFin | kClose, "\x03"), live::kCloseProtocol},
      {"a close with code 1005, which is never sent",
       client_frame(kFin | kClose, close_payload(1005)), live::kCloseProtocol},
      {"a close with code 999", client_frame(kFin | kClose, close_payload(999)),
       live::kCloseProtocol},
      {"a close with unassigned code 2999", client_frame(kFin | kClose, close_payload(2999)),
       live::kCloseProtocol},
      {"a close with code 5000", client_frame(kFin | kClose, close_payload(5000)),
       live::kCloseProtocol},
      {"a close whose reason is not UTF-8",
       client_frame(kFin | kClose, close_payload(1000, "\xC0\xAF")), live::kCloseProtocol},
      {"a binary frame over 4 KB", client_frame(kFin | kBinary, over), live::kCloseTooBig},
      {"a length of 2^40 bytes, never sent", claimed_length(kFin | kBinary, 1ULL << 40),
       live::kCloseTooBig},
      {"fragments over 4 KB together", client_frame(kBinary, half) + client_frame(0x0, half),
       live::kCloseTooBig},
      {"a text message", client_frame(kFin | kText, "hello"), live::kClosePolicy},
      {"a text message in fragments",
       client_frame(kText, "a") + client_frame(0x0, "b") + client_frame(kFin | 0x0, "c"),
       live::kClosePolicy},
      {"a message of exactly 4 KB in fragments, a full ping between them (not counted)",
       client_frame(kBinary, std::string(live::kMaxClientFrameBytes - 96, 'x')) +
           client_frame(kFin | kPing, std::string(125, 'p')) +
           client_frame(kFin | 0x0, std::string(96, 'x')),
       live::kClosePolicy},
      {"a fragmented message with a ping between its fragments",
       client_frame(kText, "a") + client_frame(kFin | kPing, "p") + client_frame(kFin | 0x0, "b"),
       live::kClosePolicy},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    RawClient client(server.port());
    REQUIRE(client.upgrade(centre));
    wait_live(server, 1);
    REQUIRE(client.send(c.bytes));
    CHECK(client.close_code() == c.close_code);
    wait_live(server, 0);
  }
  CHECK(server.app().live().stats().closed_policy == static_cast<std::int64_t>(cases.size()));
}

TEST_CASE("the feed echoes a client's close and then ends the stream", "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  const std::string centre = server.login(kCentre);
  struct Case {
    const char* what;
    std::string payload;
    int echoed;  // 0: a close without a code
  };
  const std::vector<Case> cases = {
      {"a normal close with a reason", close_payload(1000, "bye, 再见"), 1000},
      {"a close without a code", "", 0},
      {"a close with a private code", close_payload(4000), 4000},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    RawClient client(server.port());
    REQUIRE(client.upgrade(centre));
    wait_live(server, 1);
    // What follows the close is not read: no pong comes for the ping.
    REQUIRE(client.send(client_frame(kFin | kClose, c.payload) + client_frame(kFin | kPing, "")));
    auto first = client.next_frame();
    REQUIRE(first);
    CHECK(first->opcode == kClose);
    CHECK(RawClient::code_of(*first) == c.echoed);
    client.end_sending();
    CHECK_FALSE(client.next_frame());
    CHECK(client.ended());
    wait_live(server, 0);
  }
  CHECK(server.app().live().stats().closed_policy == 0);
}

TEST_CASE("a client's frames may reach the feed a byte at a time", "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  RawClient client(server.port());
  REQUIRE(client.upgrade(server.login(kCentre)));
  wait_live(server, 1);
  // A 126-byte binary fragment has a 16-bit length: every split of its header is met.
  const std::string bytes = client_frame(kBinary, std::string(126, 'b')) +
                            client_frame(kFin | kPing, "are you there") +
                            client_frame(kFin | kClose, close_payload(1000));
  for (char b : bytes) REQUIRE(client.send(std::string_view(&b, 1)));
  auto pong = client.next_frame();
  REQUIRE(pong);
  CHECK(pong->opcode == 0xA);
  CHECK(pong->payload == "are you there");
  CHECK(client.close_code() == 1000);
}

TEST_CASE("a client that ends its side of the stream leaves the live feed", "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  RawClient client(server.port());
  REQUIRE(client.upgrade(server.login(kCentre)));
  wait_live(server, 1);
  client.end_sending();
  wait_live(server, 0);
  CHECK_FALSE(client.next_frame());
  CHECK(client.ended());
}

TEST_CASE("a client that pings and never reads is dropped, its pongs bounded like events",
          "[live][sqlite]") {
  TestServer server(StoreKind::sqlite);
  RawClient client(server.port(), 4096);  // a small window: the server's writes stall soon
  REQUIRE(client.upgrade(server.login(kCentre)));
  wait_live(server, 1);
  std::string pings;
  for (int i = 0; i < 512; ++i) pings += client_frame(kFin | kPing, std::string(125, 'p'));
  constexpr std::size_t kAtMost = 64 << 20;  // far past the sockets' buffers and the queue
  std::size_t sent = 0;
  while (sent < kAtMost && server.app().live().stats().dropped_slow == 0 && client.send(pings))
    sent += pings.size();
  CHECK(server.app().live().wait_until(
      [](const live::FeedStats& s) { return s.dropped_slow == 1 && s.connections == 0; }, 10s));
}

}  // namespace cunhuo::test
