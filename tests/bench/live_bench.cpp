// The live feed under load: CLIENTS WebSocket clients signed in as county centre staff
// follow /live on a running server while this process publishes RATE events a second for
// SECONDS seconds into the same store's outbox, as a module does (excursions in the seed
// county, which every centre account may see). Prints
//   BENCH live_delivery_p50_ms, live_delivery_p99_ms   publish (just before its commit) to
//                                                      receipt, over every frame received
//   BENCH live_clients                                 clients still connected at the end
//   BENCH live_rss_mb                                  the server's resident memory then
//   BENCH live_frames_received, live_frames_expected
//   live_bench PORT STORE_URL SERVER_PID [CLIENTS] [RATE] [SECONDS]
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/outbox/outbox.hpp"
#include "tests/bench/bench_accounts.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr int kConnectWave = 100;        // handshakes at once (the per-address cap is 256)
constexpr std::int64_t kBucketUs = 100;  // latency histogram resolution
constexpr std::int64_t kMaxLatencyUs = 30'000'000;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Histogram {
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(kMaxLatencyUs / kBucketUs + 1, 0);
  std::uint64_t total = 0;
  void add(std::int64_t us) {
    ++counts[static_cast<std::size_t>(std::clamp<std::int64_t>(us, 0, kMaxLatencyUs) / kBucketUs)];
    ++total;
  }
  double percentile_ms(double p) const {
    const auto want = static_cast<std::uint64_t>(p * static_cast<double>(total));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen > want) return static_cast<double>((i + 1) * kBucketUs) / 1000.0;
    }
    return static_cast<double>(kMaxLatencyUs) / 1000.0;
  }
};

// One follower of the feed; all on the single io thread.
struct Client : std::enable_shared_from_this<Client> {
  Client(asio::io_context& io, Histogram& h) : ws(io), latencies(h) {}
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer in;
  Histogram& latencies;
  bool open = false;

  void start(const tcp::endpoint& at, const std::string& token, std::atomic<int>& settled) {
    auto self = shared_from_this();
    ws.next_layer().async_connect(at, [self, at, token, &settled](beast::error_code ec) {
      if (ec) return void(++settled);
      self->ws.set_option(websocket::stream_base::decorator(
          [token](websocket::request_type& req) { req.set("Authorization", "Bearer " + token); }));
      self->ws.async_handshake("127.0.0.1:" + std::to_string(at.port()), "/live",
                               [self, &settled](beast::error_code ec2) {
                                 self->open = !ec2;
                                 ++settled;
                                 if (self->open) self->read();
                               });
    });
  }

  void read() {
    auto self = shared_from_this();
    ws.async_read(in, [self](beast::error_code ec, std::size_t) {
      if (ec) {
        self->open = false;
        return;
      }
      const std::int64_t received = now_us();
      const std::string_view text(static_cast<const char*>(self->in.data().data()),
                                  self->in.size());
      constexpr std::string_view kSent = "\"sent_us\":";
      if (auto at = text.find(kSent); at != std::string_view::npos)
        self->latencies.add(received - std::stoll(std::string(text.substr(at + kSent.size(), 20))));
      self->in.consume(self->in.size());
      self->read();
    });
  }
};

long server_rss_kb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: live_bench PORT STORE_URL SERVER_PID [CLIENTS] [RATE] [SECONDS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const std::string url = argv[2];
  const int server_pid = std::stoi(argv[3]);
  const int clients = argc > 4 ? std::stoi(argv[4]) : 1000;
  const int rate = argc > 5 ? std::stoi(argv[5]) : 500;
  const int seconds = argc > 6 ? std::stoi(argv[6]) : 10;

  auto db = cunhuo::bench::open_store_or_exit(url);
  cunhuo::SystemClock clock;
  cunhuo::storefront::NewAccount staff{.phone = "13710000000",
                                       .password = "cunhuo-bench",
                                       .display_name = "县电商中心值班员",
                                       .role = cunhuo::storefront::Role::county_centre,
                                       .region_code = "620621",
                                       .household_id = std::nullopt,
                                       .shop_id = std::nullopt,
                                       .node_id = std::nullopt};
  auto accounts = cunhuo::bench::make_accounts(*db, clock, staff, clients);
  if (!accounts.ok()) {
    std::fprintf(stderr, "cannot make accounts: %s\n", accounts.error().message.c_str());
    return 1;
  }

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  Histogram latencies;
  std::vector<std::shared_ptr<Client>> followers;
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
  std::atomic<int> settled{0};
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_shared<Client>(io, latencies);
    followers.push_back(c);
    asio::post(io, [c, at, token = (*accounts)[static_cast<std::size_t>(i)].token, &settled] {
      c->start(at, token, settled);
    });
    if ((i + 1) % kConnectWave == 0)
      while (settled.load() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  while (settled.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the feed makes them live
  std::promise<int> counted;
  asio::post(io, [&] {
    int n = 0;
    for (const auto& c : followers) n += c->open ? 1 : 0;
    counted.set_value(n);
  });
  const int connected = counted.get_future().get();
  std::fprintf(stderr, "%d clients connected\n", connected);

  // RATE events a second, in ticks of 10 ms, each tick's events in one transaction.
  const int per_tick = std::max(1, rate / 100);
  const int ticks = seconds * 100;
  auto next = std::chrono::steady_clock::now();
  std::int64_t sent = 0;
  for (int t = 0; t < ticks; ++t) {
    next += std::chrono::milliseconds(10);
    auto st = db->write([&](cunhuo::db::Session& tx) -> cunhuo::Status {
      for (int i = 0; i < per_tick; ++i) {
        const std::string payload = R"({"excursion_id":)" + std::to_string(t * per_tick + i) +
                                    R"(,"node":"MQ-TS-SL","kind":"continuous","sent_us":)" +
                                    std::to_string(now_us()) + "}";
        CUNHUO_TRY(cunhuo::outbox::publish(tx, "excursion.raised", payload, clock));
      }
      return {};
    });
    if (st.ok()) sent += per_tick;
    std::this_thread::sleep_until(next);
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the last ones arrive
  const long rss_kb = server_rss_kb(server_pid);
  io.stop();
  io_thread.join();
  const std::uint64_t received = latencies.total;
  int still_open = 0;
  for (const auto& c : followers) still_open += c->open ? 1 : 0;
  std::printf("BENCH live_delivery_p50_ms %.1f\n", latencies.percentile_ms(0.50));
  std::printf("BENCH live_delivery_p99_ms %.1f\n", latencies.percentile_ms(0.99));
  std::printf("BENCH live_clients %d\n", still_open);
  std::printf("BENCH live_rss_mb %.1f\n", static_cast<double>(rss_kb) / 1024.0);
  std::printf("BENCH live_frames_received %llu\n", static_cast<unsigned long long>(received));
  std::printf("BENCH live_frames_expected %lld\n", static_cast<long long>(sent * connected));
  std::fflush(stdout);
  std::_Exit(0);  // the followers' sockets go with the process
}
