// The live feed under load: CLIENTS WebSocket clients signed in as county centre staff
// follow /live on a running server while this process publishes RATE events a second for
// SECONDS seconds into the same store's outbox, as a module does (excursions in the seed
// county, which every centre account may see). Prints
//   BENCH live_delivery_p50_ms, live_delivery_p99_ms   the event's commit to its receipt,
//                                                      over every frame received
//   BENCH live_publish_p99_ms                          publish (before the commit) to receipt
//   BENCH live_commit_p99_ms                           the publishing transactions' commits
//   BENCH live_clients                                 clients still connected at the end
//   BENCH live_rss_mb                                  the server's resident memory then
//   BENCH live_frames_received, live_frames_expected
//   live_bench PORT STORE_URL SERVER_PID [CLIENTS] [RATE] [SECONDS]
//
// The clients share the machine with the server, so they cost as little as they can: one
// epoll thread for all of them, raw sockets, and of each frame only its length and the
// publish time ("sent_us") are read. Each client connects from its own loopback address
// (127.1.x.y), as clients on a county's network would, so no per-address cap is met.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/outbox/outbox.hpp"
#include "tests/bench/bench_accounts.hpp"

namespace {

constexpr int kConnectWave = 100;        // handshakes under way at once
constexpr std::int64_t kBucketUs = 100;  // latency histogram resolution
constexpr std::int64_t kMaxLatencyUs = 30'000'000;
constexpr auto kMarkerEvery = std::chrono::milliseconds(100);  // until every client is live
constexpr auto kReadyWithin = std::chrono::seconds(60);
constexpr auto kQuietEnd = std::chrono::seconds(3);  // no frame for this long: the rest is lost
constexpr std::string_view kSent = "\"sent_us\":";   // then ,"tick":<its transaction>
constexpr std::string_view kTick = ",\"tick\":";
constexpr std::string_view kMarker = "\"marker\":";

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

enum class State { connecting, handshaking, open, closed };

struct Follower {
  int fd = -1;
  State state = State::connecting;
  std::string request;  // the upgrade, until sent
  std::string unread;   // bytes not yet a whole frame (or the answer's head)
  bool saw_marker = false;
};

// What the followers' thread tells the publisher, under `mu`.
struct Progress {
  std::mutex mu;
  std::condition_variable changed;
  int settled = 0;  // handshakes done, either way
  int open = 0;
  int marked = 0;  // open clients that received a marker (so are live)
  std::uint64_t frames = 0;
};

class Followers {
 public:
  Followers(std::uint16_t port, const std::vector<std::string>& tokens) : port_(port) {
    epoll_ = ::epoll_create1(0);
    for (const auto& token : tokens) {
      Follower f;
      f.request = "GET /live HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: "
                  "13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " +
                  token + "\r\n\r\n";
      all_.push_back(std::move(f));
    }
  }

  Progress progress;
  Histogram latencies;  // publish to receipt; the thread's until it stops
  // Each frame's transaction and receipt time, read once the thread stopped.
  struct Receipt {
    std::int32_t tick;
    std::int64_t at_us;
  };
  std::vector<Receipt> receipts;

  void run() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    stopping_ = true;
    thread_.join();
  }

 private:
  std::uint16_t port_;
  int epoll_ = -1;
  std::vector<Follower> all_;
  std::size_t started_ = 0;
  int in_handshake_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<char> chunk_ = std::vector<char>(256 * 1024);

  void start_next() {
    while (in_handshake_ < kConnectWave && started_ < all_.size()) {
      const std::size_t i = started_++;
      Follower& f = all_[i];
      f.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in from{};
      from.sin_family = AF_INET;
      from.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | static_cast<std::uint32_t>(i + 1));
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(port_);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(f.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
          (::connect(f.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 &&
           errno != EINPROGRESS)) {
        settle(f, false);
        continue;
      }
      ++in_handshake_;
      epoll_event ev{.events = EPOLLOUT | EPOLLIN, .data = {.u64 = i}};
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, f.fd, &ev);
    }
  }

  void settle(Follower& f, bool opened) {
    std::lock_guard lock(progress.mu);
    ++progress.settled;
    if (opened) {
      ++progress.open;
    } else {
      if (f.fd >= 0) ::close(f.fd);
      f.state = State::closed;
    }
  }

  void lost(Follower& f) {
    if (f.state == State::closed) return;
    if (f.state != State::open) return settle(f, false), void(--in_handshake_);
    ::close(f.fd);
    f.state = State::closed;
    std::lock_guard lock(progress.mu);
    --progress.open;
  }

  void loop() {
    start_next();
    std::vector<epoll_event> events(1024);
    while (!stopping_) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
      bool changed = false;
      for (int k = 0; k < n; ++k) changed |= handle(all_[events[k].data.u64], events[k].events);
      if (changed) progress.changed.notify_all();
      start_next();
    }
  }

  // Returns whether anything the publisher waits for changed.
  bool handle(Follower& f, std::uint32_t ready) {
    if (f.state == State::connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(f.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0 || (ready & (EPOLLERR | EPOLLHUP)) != 0) return lost(f), true;
      if ((ready & EPOLLOUT) == 0) return false;
      ::send(f.fd, f.request.data(), f.request.size(), MSG_NOSIGNAL);  // small: goes at once
      f.state = State::handshaking;
      epoll_event ev{.events = EPOLLIN,
                     .data = {.u64 = static_cast<std::uint64_t>(&f - all_.data())}};
      ::epoll_ctl(epoll_, EPOLL_CTL_MOD, f.fd, &ev);
      return false;
    }
    if (f.state == State::closed) return false;
    const ssize_t got = ::recv(f.fd, chunk_.data(), chunk_.size(), 0);
    if (got <= 0) {
      if (got < 0 && errno == EAGAIN) return false;
      return lost(f), true;
    }
    f.unread.append(chunk_.data(), static_cast<std::size_t>(got));
    if (f.state == State::handshaking) {
      const auto end = f.unread.find("\r\n\r\n");
      if (end == std::string::npos) return false;
      const bool switched = f.unread.starts_with("HTTP/1.1 101");
      --in_handshake_;
      if (!switched) return settle(f, false), true;
      f.state = State::open;
      f.unread.erase(0, end + 4);
      settle(f, true);
      take_frames(f);
      return true;
    }
    return take_frames(f);
  }

  // Reads each whole frame's publish time; answers pings; a close ends the follower.
  bool take_frames(Follower& f) {
    const std::int64_t received = now_us();
    std::size_t at = 0;
    bool marked = false;
    std::uint64_t frames = 0;
    while (f.unread.size() - at >= 2) {
      const auto b0 = static_cast<std::uint8_t>(f.unread[at]);
      std::uint64_t length = static_cast<std::uint8_t>(f.unread[at + 1]) & 0x7F;
      std::size_t head = 2;
      if (length >= 126) {
        const std::size_t bytes = length == 126 ? 2 : 8;
        if (f.unread.size() - at < head + bytes) break;
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i)
          length = (length << 8) | static_cast<std::uint8_t>(f.unread[at + head + i]);
        head += bytes;
      }
      if (f.unread.size() - at < head + length) break;
      const std::string_view payload(f.unread.data() + at + head, length);
      at += head + length;
      const int opcode = b0 & 0x0F;
      if (opcode == 0x8) return lost(f), true;
      if (opcode == 0x9) {  // a pong, masked with a zero key, payload unchanged
        std::string pong{static_cast<char>(0x8A), static_cast<char>(0x80 | payload.size())};
        pong.append(4, '\0');
        pong.append(payload);
        ::send(f.fd, pong.data(), pong.size(), MSG_NOSIGNAL);
        continue;
      }
      if (auto sent = payload.find(kSent); sent != std::string_view::npos) {
        std::int64_t us = 0;
        std::int32_t tick = -1;
        const char* end = payload.data() + payload.size();
        auto [after_us, ec] = std::from_chars(payload.data() + sent + kSent.size(), end, us);
        if (ec == std::errc{} && std::string_view(after_us, end).starts_with(kTick))
          std::from_chars(after_us + kTick.size(), end, tick);
        latencies.add(received - us);
        if (tick >= 0 && receipts.size() < receipts.capacity())
          receipts.push_back(Receipt{tick, received});
        ++frames;
      } else if (!f.saw_marker && payload.find(kMarker) != std::string_view::npos) {
        f.saw_marker = marked = true;
      }
    }
    f.unread.erase(0, at);
    if (frames == 0 && !marked) return false;
    std::lock_guard lock(progress.mu);
    progress.frames += frames;
    progress.marked += marked ? 1 : 0;
    return true;
  }
};

// CPU seconds (user + system) a process has used: /proc/PID/stat fields 14 and 15.
double cpu_seconds(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto after_name = text.rfind(')');
  if (after_name == std::string::npos) return -1;
  std::istringstream fields(text.substr(after_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long server_rss_kb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

cunhuo::Status publish_excursions(cunhuo::db::Database& db, const cunhuo::Clock& clock, int first,
                                  int count, int tick) {
  const bool marker = tick < 0;
  return db.write([&](cunhuo::db::Session& tx) -> cunhuo::Status {
    for (int i = 0; i < count; ++i) {
      const std::string stamp = marker ? R"("marker":1)"
                                       : R"("sent_us":)" + std::to_string(now_us()) +
                                             std::string(kTick) + std::to_string(tick);
      const std::string payload = R"({"excursion_id":)" + std::to_string(first + i) +
                                  R"(,"node":"MQ-TS-SL","kind":"continuous",)" + stamp + "}";
      CUNHUO_TRY(cunhuo::outbox::publish(tx, "excursion.raised", payload, clock));
    }
    return {};
  });
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
  std::vector<std::string> tokens;
  for (const auto& a : *accounts) tokens.push_back(a.token);

  Followers followers(port, tokens);
  followers.receipts.reserve(static_cast<std::size_t>(clients) *
                             static_cast<std::size_t>(std::max(1, rate / 100)) * seconds * 100);
  Progress& progress = followers.progress;
  followers.run();
  int connected = 0;
  {
    std::unique_lock lock(progress.mu);
    progress.changed.wait(lock, [&] { return progress.settled == clients; });
    connected = progress.open;
  }
  std::fprintf(stderr, "%d clients connected\n", connected);
  // Live once a marker event reached them: markers go out until every client has one.
  const auto ready_by = std::chrono::steady_clock::now() + kReadyWithin;
  for (int round = 0;; ++round) {
    std::unique_lock lock(progress.mu);
    if (progress.marked >= progress.open || std::chrono::steady_clock::now() > ready_by) break;
    lock.unlock();
    (void)publish_excursions(*db, clock, -1 - round, 1, -1);
    lock.lock();
    progress.changed.wait_for(lock, kMarkerEvery, [&] { return progress.marked >= progress.open; });
  }

  const double server_cpu_before = cpu_seconds(std::to_string(server_pid));
  const double own_cpu_before = cpu_seconds("self");
  // RATE events a second, in ticks of 10 ms, each tick's events in one transaction.
  const int per_tick = std::max(1, rate / 100);
  const int ticks = seconds * 100;
  auto next = std::chrono::steady_clock::now();
  std::int64_t sent = 0;
  std::vector<std::int64_t> committed_us(static_cast<std::size_t>(ticks), 0);
  Histogram commits;
  for (int t = 0; t < ticks; ++t) {
    next += std::chrono::milliseconds(10);
    const std::int64_t began = now_us();
    if (publish_excursions(*db, clock, t * per_tick, per_tick, t).ok()) sent += per_tick;
    committed_us[static_cast<std::size_t>(t)] = now_us();
    commits.add(committed_us[static_cast<std::size_t>(t)] - began);
    std::this_thread::sleep_until(next);  // the rate's pace
  }
  const auto expected = static_cast<std::uint64_t>(sent) * static_cast<std::uint64_t>(connected);
  {
    // Until every frame arrived, or none came for kQuietEnd (the rest will not).
    std::unique_lock lock(progress.mu);
    std::uint64_t before = progress.frames;
    while (progress.frames < expected) {
      progress.changed.wait_for(lock, kQuietEnd, [&] { return progress.frames >= expected; });
      if (progress.frames == before) break;
      before = progress.frames;
    }
  }
  const long rss_kb = server_rss_kb(server_pid);
  std::fprintf(stderr,
               "cpu seconds while publishing and delivering: server %.2f, load generator %.2f\n",
               cpu_seconds(std::to_string(server_pid)) - server_cpu_before,
               cpu_seconds("self") - own_cpu_before);
  followers.stop();
  // From the commit: a frame can arrive before the publisher has noted its commit's end
  // (the feed read it first): that counts as no delay.
  Histogram from_commit;
  for (const auto& r : followers.receipts)
    from_commit.add(
        std::max<std::int64_t>(0, r.at_us - committed_us[static_cast<std::size_t>(r.tick)]));
  {
    // Each second's own figures (stderr): a stall of the machine shows as one bad second.
    std::vector<Histogram> per_second(static_cast<std::size_t>(seconds));
    for (const auto& r : followers.receipts)
      per_second[static_cast<std::size_t>(std::min(r.tick / 100, seconds - 1))].add(
          std::max<std::int64_t>(0, r.at_us - committed_us[static_cast<std::size_t>(r.tick)]));
    for (std::size_t i = 0; i < per_second.size(); ++i)
      std::fprintf(stderr, "second %zu: p50 %.1f ms, p99 %.1f ms\n", i,
                   per_second[i].percentile_ms(0.5), per_second[i].percentile_ms(0.99));
  }
  std::printf("BENCH live_delivery_p50_ms %.1f\n", from_commit.percentile_ms(0.50));
  std::printf("BENCH live_delivery_p99_ms %.1f\n", from_commit.percentile_ms(0.99));
  std::printf("BENCH live_publish_p99_ms %.1f\n", followers.latencies.percentile_ms(0.99));
  std::printf("BENCH live_commit_p99_ms %.1f\n", commits.percentile_ms(0.99));
  std::printf("BENCH live_clients %d\n", progress.open);
  std::printf("BENCH live_rss_mb %.1f\n", static_cast<double>(rss_kb) / 1024.0);
  std::printf("BENCH live_frames_received %llu\n",
              static_cast<unsigned long long>(followers.latencies.total));
  std::printf("BENCH live_frames_expected %llu\n", static_cast<unsigned long long>(expected));
  std::fflush(stdout);
  std::_Exit(0);  // the followers' sockets go with the process
}
