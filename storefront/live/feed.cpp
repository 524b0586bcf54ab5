#include "storefront/live/feed.hpp"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <map>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "storefront/live/reach.hpp"
#include "storefront/web/page_session.hpp"

namespace cunhuo::storefront::live {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A frame as it goes on the wire (header and payload), shared by every recipient: the
// server's frames are not masked, so the same bytes serve them all.
using Text = std::shared_ptr<const std::string>;

// An event as it goes out: its frame, and whom it concerns.
struct Delivery {
  std::int64_t id = 0;
  Text frame;
  Reach reach;
};
using Deliveries = std::shared_ptr<const std::vector<Delivery>>;

enum Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};
constexpr std::size_t kMaxControlPayload = 125;  // RFC 6455 5.5
constexpr std::size_t kMaxFrameHead = 14;        // 2, 8 of 64-bit length, 4 of mask key
constexpr std::size_t kReadChunk = 1024;         // read from a client per system call

// A client frame's header (RFC 6455 5.2), as far as its length: enough to refuse it.
struct FrameHead {
  bool fin = false;
  std::uint8_t reserved = 0;  // RSV1-3: no extension is negotiated, so they must be 0
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint64_t length = 0;  // of the payload, as the client claims it
  bool minimal = true;       // the length in its shortest form, as RFC 6455 5.2 requires
  std::size_t size = 0;      // of the header, the mask key included
  bool control() const { return (opcode & 0x8) != 0; }
};

// The header at the front of `bytes`; nullopt until enough of it has come (a client may
// send its frames a byte at a time).
std::optional<FrameHead> frame_head(std::string_view bytes) {
  if (bytes.size() < 2) return std::nullopt;
  const auto b0 = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  FrameHead h{.fin = (b0 & 0x80) != 0,
              .reserved = static_cast<std::uint8_t>(b0 & 0x70),
              .opcode = static_cast<std::uint8_t>(b0 & 0x0F),
              .masked = (b1 & 0x80) != 0,
              .length = static_cast<std::uint64_t>(b1 & 0x7F),
              .size = 2};
  if (h.length >= 126) {
    const std::size_t bytes_of_length = h.length == 126 ? 2 : 8;
    if (bytes.size() < h.size + bytes_of_length) return std::nullopt;
    h.length = 0;
    for (std::size_t i = 0; i < bytes_of_length; ++i)
      h.length = (h.length << 8) | static_cast<std::uint8_t>(bytes[h.size + i]);
    h.size += bytes_of_length;
    h.minimal = h.length > (bytes_of_length == 2 ? 125U : 0xFFFFU);
  }
  if (h.masked) h.size += 4;
  return h;
}

// Why a client frame fails the connection, checked on its header alone, in this order:
// malformed (1002), then too big (1009). `in_message`: a data message's first fragment
// came and its last has not; `message_bytes`: its fragments' payload so far.
std::optional<std::uint16_t> refusal_of(const FrameHead& h, bool in_message,
                                        std::uint64_t message_bytes) {
  const bool known =
      h.opcode <= Opcode::binary || (h.opcode >= Opcode::close && h.opcode <= Opcode::pong);
  const bool out_of_sequence =
      h.opcode == Opcode::continuation ? !in_message : !h.control() && in_message;
  if (!h.masked || h.reserved != 0 || !known || out_of_sequence || !h.minimal ||
      (h.length >> 63) != 0 || (h.control() && (!h.fin || h.length > kMaxControlPayload)))
    return kCloseProtocol;
  // Fragments count toward the limit together: a message is refused for its whole size.
  // The length is below 2^63 here and message_bytes at most 4 KB: the sum cannot overflow.
  if (!h.control() && message_bytes + h.length > kMaxClientFrameBytes) return kCloseTooBig;
  return std::nullopt;
}

// Whether `text` is well-formed UTF-8 (RFC 3629): no overlong form, no surrogate, nothing
// past U+10FFFF.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t more = 0;
    std::uint32_t point = 0, least = 0;
    if ((c & 0xE0) == 0xC0) {
      more = 1, point = c & 0x1F, least = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2, point = c & 0x0F, least = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3, point = c & 0x07, least = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i <= more) return false;
    for (std::size_t k = 1; k <= more; ++k) {
      const auto next = static_cast<std::uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      point = (point << 6) | (next & 0x3F);
    }
    if (point < least || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

// A close code a client may send (RFC 6455 7.4 and the IANA registry): never 1005, 1006 or
// 1015, which only name what an endpoint saw, nor an unassigned one.
bool sendable_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// A client's close frame's payload: empty, or a code then a UTF-8 reason (RFC 6455 5.5.1);
// nullopt when it is neither (the connection fails with 1002).
std::optional<std::optional<std::uint16_t>> close_code_of(std::string_view payload) {
  if (payload.empty()) return std::optional<std::uint16_t>();
  if (payload.size() < 2) return std::nullopt;
  const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                               static_cast<std::uint8_t>(payload[1]));
  if (!sendable_close_code(code) || !is_utf8(payload.substr(2))) return std::nullopt;
  return std::optional<std::uint16_t>(code);
}

// One unfragmented frame from the server (RFC 6455 5.2).
std::string wire_frame(Opcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + kMaxFrameHead);
  out.push_back(static_cast<char>(0x80 | opcode));
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(126);
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  out.append(payload);
  return out;
}

Text text_frame(std::string json) {
  return std::make_shared<const std::string>(wire_frame(Opcode::text, json));
}

Text close_frame(std::optional<std::uint16_t> code, std::string_view reason) {
  std::string payload;
  if (code) {
    payload.push_back(static_cast<char>(*code >> 8));
    payload.push_back(static_cast<char>(*code & 0xFF));
    payload.append(reason.substr(0, kMaxControlPayload - 2));
  }
  return std::make_shared<const std::string>(wire_frame(Opcode::close, payload));
}

Text event_frame(const outbox::Event& e) {
  JsonWriter w;
  w.begin_object().field("id", e.id).field("type", e.topic).field("at", e.created_at_ms);
  w.key("data").raw(e.payload.empty() ? std::string_view("{}") : std::string_view(e.payload));
  w.end_object();
  return text_frame(w.take());
}

Text reload_frame(std::int64_t resume_from, std::int64_t now_ms) {
  JsonWriter w;
  w.begin_object().field("id", resume_from).field("type", "reload").field("at", now_ms);
  w.key("data").begin_object().end_object().end_object();
  return text_frame(w.take());
}

// The token the upgrade was authenticated by, for the session's re-checks.
std::string bearer_of(const Request& r) {
  constexpr std::string_view kBearer = "Bearer ";
  auto value = r.header("authorization");
  return value && value->starts_with(kBearer) ? value->substr(kBearer.size()) : std::string();
}

bool header_has(const Request& r, std::string_view name, std::string_view token) {
  auto value = r.header(name);
  return value && ascii_lower(*value).find(token) != std::string::npos;
}

// The host[:port] of an Origin such as "https://example.org:8080".
std::string origin_host(std::string_view origin) {
  const auto scheme = origin.find("://");
  return ascii_lower(scheme == std::string_view::npos ? origin : origin.substr(scheme + 3));
}

std::int64_t clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<outbox::Event> event_row(const db::Row& r) {
  return outbox::Event{.id = r.i64(0),
                       .topic = r.str(1),
                       .payload = r.str(2),
                       .created_at_ms = r.i64(3),
                       .attempts = 0};
}

}  // namespace

struct Session;

// A share of the connections with the thread and io_context serving them. A connection
// stays on its shard, so its handlers never run concurrently and need no strand.
struct Shard {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
  std::size_t index = 0;
  std::unordered_set<std::shared_ptr<Session>> sessions;  // past the handshake
  std::size_t peak_queue = 0;
  // Batches tailed and not yet fanned out. While the shard is busy they gather here, and
  // are fanned out together: one write per connection however many batches came.
  std::mutex inbox_mu;
  std::vector<Deliveries> inbox;
  bool inbox_posted = false;
};

// Its handlers name it by pointer: the io_contexts it owns hold them, and are destroyed
// (with them) only after their threads have stopped.
struct Feed::Impl {
  Impl(db::Database& d, Auth& a, const Clock& c) : db(d), auth(a), clock(c) {
    for (int i = 0; i < kIoThreads; ++i) {
      shards.push_back(std::make_unique<Shard>());
      shards.back()->index = static_cast<std::size_t>(i);
    }
  }

  db::Database& db;
  Auth& auth;
  const Clock& clock;
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<std::size_t> next_shard{0};
  std::thread tail_thread;
  std::atomic<std::size_t> open{0};  // accepted upgrades not yet ended (caps them)

  // Open connections by account and by client address, under their own lock: taken on the
  // server's reactor thread, given back on the io threads.
  std::mutex quota_mu;
  std::unordered_map<std::int64_t, int> by_account;
  std::unordered_map<std::string, int> by_address;
  bool quota_left(std::int64_t account, const std::string& address) {
    std::lock_guard lock(quota_mu);
    return by_account[account] < kMaxConnectionsPerAccount &&
           by_address[address] < kMaxConnectionsPerAddress;
  }
  bool take_quota(std::int64_t account, const std::string& address) {
    std::lock_guard lock(quota_mu);
    if (by_account[account] >= kMaxConnectionsPerAccount ||
        by_address[address] >= kMaxConnectionsPerAddress)
      return false;
    ++by_account[account];
    ++by_address[address];
    return true;
  }
  void give_back_quota(std::int64_t account, const std::string& address) {
    std::lock_guard lock(quota_mu);
    CUNHUO_ASSERT(by_account[account] > 0 && by_address[address] > 0);
    if (--by_account[account] == 0) by_account.erase(account);
    if (--by_address[address] == 0) by_address.erase(address);
  }

  // The tailing thread's: where it is, and the connections waiting to go live.
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false, started = false;
  struct Joining {
    std::shared_ptr<Session> session;
    std::optional<std::int64_t> after;
  };
  std::vector<Joining> joining;
  // The tailing thread's only. Every event up to `through` was handed out, and those in
  // `ahead` above it (with when). A hole below an id handed out is a transaction that took
  // its id first and commits later (MariaDB's auto-increment), one rolled back, or, on
  // Galera, an id another node's auto-increment offset owns and has not used: every hole
  // below an id handed out kHoleWait ago is given up together. New events are read above
  // the highest id handed out, holes by their ids every kHoleProbeEvery, so a stream full
  // of holes costs no more reads than a dense one.
  std::int64_t through = 0;
  std::map<std::int64_t, std::int64_t> ahead;  // id -> handed out at (ms)
  std::int64_t holes_probed_ms = 0;
  std::int64_t handed_max() const { return ahead.empty() ? through : ahead.rbegin()->first; }
  bool handed(std::int64_t id) const { return id <= through || ahead.count(id) > 0; }
  std::vector<db::Value> holes() const;  // the lowest, up to kMaxHoleProbe
  void advance();
  // The tailing thread's: the live connections' sessions, each asked again when due.
  struct Watch {
    std::weak_ptr<Session> session;
    std::string token;
    std::int64_t due_ms = 0;  // on the feed's clock
  };
  std::vector<Watch> watches;
  std::int64_t next_recheck_ms = 0;  // no watch is due before
  void recheck_sessions();

  // Published for stats(), under stats_mu.
  mutable std::mutex stats_mu;
  std::condition_variable stats_cv;
  FeedStats shown;
  std::vector<std::size_t> shard_queued = std::vector<std::size_t>(kIoThreads, 0);

  void publish_stats(const std::function<void(FeedStats&)>& change) {
    {
      std::lock_guard lock(stats_mu);
      change(shown);
    }
    stats_cv.notify_all();
  }

  void tail_loop();
  Status tail_once();
  void admit_joining();
  Result<std::vector<Text>> backlog_for(const Account& account, std::int64_t after);
  void deliver(Shard& shard, const Deliveries& batch);  // from the tailing thread
  void fan_out(Shard& shard);
  void adopt(Shard& shard, int fd, Request request, Account account, std::string token,
             std::optional<std::int64_t> after);
  void join(const std::shared_ptr<Session>& session);  // past its handshake
  void ended(const std::shared_ptr<Session>& session);
  void refresh_queue_stats(Shard& shard);
};

// One WebSocket connection, on its shard's thread only. Beast answers the handshake; then
// the socket is the session's: it writes whole frames (gathered, a wake-up's worth per
// system call) and reads the client's, which may only be ping, pong or close.
struct Session : std::enable_shared_from_this<Session> {
  Session(Feed::Impl& f, Shard& s, tcp::socket connection, Account a, std::string t,
          std::optional<std::int64_t> resume)
      : feed(f),
        shard(s),
        handshake(std::in_place, std::move(connection)),
        socket(s.io),
        account(std::move(a)),
        token(std::move(t)),
        after(resume),
        idle_timer(s.io),
        close_timer(s.io) {}

  Feed::Impl& feed;
  Shard& shard;
  std::optional<websocket::stream<tcp::socket>> handshake;  // until it is done
  tcp::socket socket;                                       // after it
  Account account;
  std::string token;                     // the session it was opened with, re-checked
  std::string address;                   // the client's, counted against its quota
  std::optional<std::int64_t> after;     // resumes after this event
  std::array<char, kReadChunk> chunk{};  // read from the client
  std::string unread;       // the client's bytes not yet a whole frame (kMaxFrameHead + 4 KB)
  bool in_message = false;  // a data message's first fragment came, not its last
  std::uint64_t message_bytes = 0;  // of a data message's fragments so far (to refuse it)
  std::deque<Text> queue;           // to write; the front `front_done` bytes are written
  std::size_t front_done = 0;
  bool waiting = false;  // for the socket to take more
  std::size_t queued_bytes = 0;
  std::vector<asio::const_buffer> gather;
  bool live = false;    // past its backlog: takes events as they are tailed (and counted)
  bool ending = false;  // out of the feed; its close frame (if any) is queued
  bool heard = true, pinged = false;
  asio::steady_timer idle_timer, close_timer;

  void accept(http::request<http::empty_body> request) {
    websocket::stream_base::timeout limits{};
    limits.handshake_timeout = kHandshakeTimeout;
    limits.idle_timeout = websocket::stream_base::none();
    limits.keep_alive_pings = false;  // ours: watch_idle
    handshake->set_option(limits);
    auto self = shared_from_this();
    handshake->async_accept(request, [self](beast::error_code ec) {
      if (ec) return self->end("handshake", ec);
      // The stream is left outside its own completion handler.
      asio::post(self->shard.io, [self] { self->switched(); });
    });
  }

  void switched() {
    socket = std::move(handshake->next_layer());
    handshake.reset();
    beast::error_code ec;
    socket.non_blocking(true, ec);  // flush writes without an asio operation per write
    if (ec) return end("switch", ec);
    shard.sessions.insert(shared_from_this());
    feed.join(shared_from_this());
    read();
    watch_idle();
  }

  void read() {
    auto self = shared_from_this();
    socket.async_read_some(asio::buffer(chunk), [self](beast::error_code ec, std::size_t n) {
      if (ec) return self->end("read", ec);
      self->heard = true;
      if (!self->ending) {
        // Whole frames are taken as they come, so what is left is less than the largest.
        CUNHUO_ASSERT(self->unread.size() < kMaxFrameHead + kMaxClientFrameBytes);
        self->unread.append(self->chunk.data(), n);
        self->take_client_frames();
      }
      // A closing connection reads on, discarding, until the client ends the stream.
      if (self->socket.is_open()) self->read();
    });
  }

  void refuse(std::uint16_t code, const char* reason) {
    feed.publish_stats([](FeedStats& s) { ++s.closed_policy; });
    close_with(code, reason);
  }

  // Acts on each whole frame the client sent, until the connection is closing.
  void take_client_frames() {
    while (!ending) {
      auto head = frame_head(unread);
      if (!head) return;
      if (auto code = refusal_of(*head, in_message, message_bytes))
        return refuse(*code,
                      *code == kCloseTooBig ? "messages over 4 KB are refused" : "malformed frame");
      if (unread.size() < head->size + head->length) return;
      std::string payload = unread.substr(head->size, head->length);
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= unread[head->size - 4 + i % 4];
      unread.erase(0, head->size + head->length);
      take_frame(*head, payload);
    }
  }

  void take_frame(const FrameHead& head, const std::string& payload) {
    if (!head.control()) {  // refused once whole, as a message over 4 KB is for its size
      if (head.fin) return refuse(kClosePolicy, "clients send only ping, pong and close");
      in_message = true;
      message_bytes += payload.size();
    } else if (head.opcode == Opcode::ping) {
      // Bounded as events are: a client that pings and does not read is dropped as slow.
      if (push(std::make_shared<const std::string>(wire_frame(Opcode::pong, payload)))) flush();
    } else if (head.opcode == Opcode::close) {
      answer_close(payload);
    }
  }

  // The client closes: its code echoed (RFC 6455 5.5.1), a malformed close refused.
  void answer_close(const std::string& payload) {
    auto code = close_code_of(payload);
    if (!code) return refuse(kCloseProtocol, "malformed close frame");
    close_with(*code, "");
  }

  // Pings a connection silent for half of kIdleTimeout; ends one silent for all of it.
  void watch_idle() {
    idle_timer.expires_after(kIdleTimeout / 2);
    idle_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->ending) return;
      if (self->heard) {
        self->heard = false;
        self->pinged = false;
      } else if (!self->pinged) {
        self->pinged = true;
        self->push_control(std::make_shared<const std::string>(wire_frame(Opcode::ping, "")));
        self->flush();
      } else {
        return self->end("idle", asio::error::timed_out);
      }
      self->watch_idle();
    });
  }

  // Queues an event's frame without writing yet (flush does); false when the client is too
  // slow for it and was dropped.
  bool push(const Text& frame) {
    if (ending) return false;
    if (queue.size() >= kSendQueueFrames || queued_bytes + frame->size() > kSendQueueBytes) {
      feed.publish_stats([](FeedStats& s) { ++s.dropped_slow; });
      close_with(kCloseTooSlow, "too slow: reconnect with after=");
      return false;
    }
    queue.push_back(frame);
    queued_bytes += frame->size();
    shard.peak_queue = std::max(shard.peak_queue, queued_bytes);
    return true;
  }

  void push_control(const Text& frame) {
    queue.push_back(frame);
    queued_bytes += frame->size();
  }

  // Writes what is queued, in gathered writes straight from this thread (the socket does
  // not block); when the socket takes no more, waits until it does.
  void flush() {
    while (!waiting && !queue.empty() && socket.is_open()) {
      gather.clear();
      std::size_t bytes = 0;
      for (const auto& frame : queue) {
        if (gather.size() == kMaxGatheredFrames) break;
        const std::size_t skip = gather.empty() ? front_done : 0;
        gather.emplace_back(frame->data() + skip, frame->size() - skip);
        bytes += frame->size() - skip;
      }
      beast::error_code ec;
      const std::size_t n = socket.write_some(gather, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_writable();
      if (ec) return end("write", ec);
      written(n);
      if (n < bytes) return wait_writable();
    }
    if (queue.empty() && ending && socket.is_open()) {
      // Its close frame is out: the client's answer ends the stream.
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  void wait_writable() {
    waiting = true;
    socket.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
      self->waiting = false;
      if (ec) return self->end("write", ec);
      self->flush();
    });
  }

  void written(std::size_t n) {
    while (n > 0) {
      const std::size_t left = queue.front()->size() - front_done;
      if (n < left) {
        front_done += n;
        break;
      }
      n -= left;
      queued_bytes -= queue.front()->size();
      queue.pop_front();
      front_done = 0;
    }
  }

  // Queues a close frame (behind the frames being written) and forgets the rest; a client
  // that does not end the stream within kCloseGrace loses the connection all the same.
  void close_with(std::optional<std::uint16_t> code, const char* reason) {
    if (ending) return;
    forget();
    push_control(close_frame(code, reason));
    close_timer.expires_after(kCloseGrace);
    close_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->drop_socket();
    });
    flush();
  }

  void end(const char* where, beast::error_code ec) {
    if (ec != asio::error::eof && ec != asio::error::operation_aborted)
      spdlog::debug("live connection of account {} ended at {}: {}", account.id, where,
                    ec.message());
    forget();
    drop_socket();
  }

  // Leaves the feed: no more events, the queue freed (but for the frames being written).
  void forget() {
    if (ending) return;
    ending = true;
    const std::size_t keep = front_done > 0 ? 1 : 0;  // a frame begun must be ended
    while (queue.size() > keep) {
      queued_bytes -= queue.back()->size();
      queue.pop_back();
    }
    feed.ended(shared_from_this());
  }

  void drop_socket() {
    beast::error_code ignored;
    idle_timer.cancel();
    close_timer.cancel();
    if (handshake) {
      beast::get_lowest_layer(*handshake).close(ignored);
      return;
    }
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

void Feed::Impl::ended(const std::shared_ptr<Session>& session) {
  session->shard.sessions.erase(session);
  --open;
  give_back_quota(session->account.id, session->address);
  publish_stats([&](FeedStats& s) {
    if (session->live) --s.connections;
  });
}

void Feed::Impl::refresh_queue_stats(Shard& shard) {
  std::size_t total = 0;
  for (const auto& s : shard.sessions) total += s->queued_bytes;
  {
    std::lock_guard lock(stats_mu);
    shard_queued[shard.index] = total;
    shown.queued_bytes = 0;
    for (auto q : shard_queued) shown.queued_bytes += q;
    shown.peak_queue_bytes = std::max(shown.peak_queue_bytes, shard.peak_queue);
  }
  stats_cv.notify_all();
}

void Feed::Impl::deliver(Shard& shard, const Deliveries& batch) {
  {
    std::lock_guard lock(shard.inbox_mu);
    shard.inbox.push_back(batch);
    if (std::exchange(shard.inbox_posted, true)) return;  // its fan_out is still to run
  }
  asio::post(shard.io, [self = this, &shard] { self->fan_out(shard); });
}

// Each connection takes the events it may see of every batch waiting, then writes them in
// one go.
void Feed::Impl::fan_out(Shard& shard) {
  std::vector<Deliveries> batches;
  {
    std::lock_guard lock(shard.inbox_mu);
    batches.swap(shard.inbox);
    shard.inbox_posted = false;
  }
  // Copied: a push may drop a session, which leaves `sessions`.
  std::vector<std::shared_ptr<Session>> now(shard.sessions.begin(), shard.sessions.end());
  for (const auto& s : now) {
    if (!s->live || s->ending) continue;
    for (const auto& batch : batches)
      for (const auto& d : *batch)
        if (may_receive(s->account, d.reach) && !s->push(d.frame)) break;
    s->flush();
  }
  refresh_queue_stats(shard);
}

void Feed::Impl::adopt(Shard& shard, int fd, Request request, Account account, std::string token,
                       std::optional<std::int64_t> after) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  tcp::socket socket(shard.io);
  beast::error_code ec;
  socket.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    --open;
    give_back_quota(account.id, request.client_address);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);  // a frame goes when it is written
  http::request<http::empty_body> head{http::verb::get, request.path, 11};
  for (const auto& [name, value] : request.headers) head.insert(name, value);
  auto session = std::make_shared<Session>(*this, shard, std::move(socket), std::move(account),
                                           std::move(token), after);
  session->address = request.client_address;
  session->accept(std::move(head));
}

void Feed::Impl::join(const std::shared_ptr<Session>& session) {
  {
    std::lock_guard lock(mu);
    joining.push_back(Joining{session, session->after});
  }
  wake.notify_all();
}

// Asks Auth again about each connection due: one whose session ended is closed, one whose
// account changed takes its new fields (and so its new filter).
void Feed::Impl::recheck_sessions() {
  const std::int64_t now = clock.now_ms();
  if (now < next_recheck_ms) return;  // most passes: none is due
  std::int64_t checked = 0;
  std::erase_if(watches, [](const Watch& w) { return w.session.expired(); });
  next_recheck_ms = now + std::chrono::milliseconds(kSessionRecheck).count();
  for (auto& w : watches) {
    if (w.due_ms > now) {
      next_recheck_ms = std::min(next_recheck_ms, w.due_ms);
      continue;
    }
    auto session = w.session.lock();
    if (!session) continue;
    w.due_ms = now + std::chrono::milliseconds(kSessionRecheck).count();
    ++checked;
    auto account = auth.authenticate_token(w.token);
    if (!account.ok() && account.error().kind != ErrorKind::unauthorized) continue;  // later
    asio::post(session->shard.io, [self = this, session, account = std::move(account)] {
      if (session->ending) return;
      if (account.ok()) {
        session->account = *account;
        return;
      }
      self->publish_stats([](FeedStats& s) { ++s.closed_session; });
      session->close_with(kCloseSessionEnded, "session ended: log in again");
    });
  }
  if (checked > 0) publish_stats([&](FeedStats& s) { s.session_checks += checked; });
}

Result<std::vector<Text>> Feed::Impl::backlog_for(const Account& account, std::int64_t after) {
  return db.read([&](db::Session& s) -> Result<std::vector<Text>> {
    auto rows = CUNHUO_TRY(
        s.query("SELECT id, topic, payload, created_at FROM outbox_events WHERE id > ? AND id "
                "<= ? ORDER BY id LIMIT ?",
                {after, handed_max(), kResumeBacklog + 1}));
    std::vector<Text> frames;
    for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(kResumeBacklog); ++i) {
      auto event = CUNHUO_TRY(event_row(rows[i]));
      if (!handed(event.id)) continue;  // a late commit: it comes live
      auto reach = reach_of(s, event);
      if (reach.ok() && may_receive(account, *reach)) frames.push_back(event_frame(event));
    }
    if (rows.size() > static_cast<std::size_t>(kResumeBacklog))
      frames.push_back(reload_frame(handed_max(), clock.now_ms()));
    return frames;
  });
}

// Sends each joining connection what it missed of the events handed out so far, then makes
// it live: the events handed out later are fanned out later, from this thread, so none is
// lost or doubled.
void Feed::Impl::admit_joining() {
  std::vector<Joining> now;
  {
    std::lock_guard lock(mu);
    now.swap(joining);
  }
  for (auto& j : now) {
    std::vector<Text> frames;
    if (j.after) {
      auto missed = backlog_for(j.session->account, *j.after);
      if (missed.ok())
        frames = std::move(*missed);
      else
        frames.push_back(reload_frame(handed_max(), clock.now_ms()));
    }
    watches.push_back(
        Watch{.session = j.session,
              .token = j.session->token,
              .due_ms = clock.now_ms() + std::chrono::milliseconds(kSessionRecheck).count()});
    next_recheck_ms = std::min(next_recheck_ms, watches.back().due_ms);
    asio::post(j.session->shard.io, [self = this, s = j.session, frames = std::move(frames)] {
      if (s->ending) return;
      for (const auto& f : frames)
        if (!s->push(f)) return;  // its backlog alone was too much for it
      s->flush();
      s->live = true;
      self->publish_stats([](FeedStats& st) { ++st.connections; });
      self->refresh_queue_stats(s->shard);
    });
  }
}

void Feed::Impl::advance() {
  const std::int64_t now = clock_ms();
  while (!ahead.empty()) {
    const auto [id, handed_ms] = *ahead.begin();
    if (id != through + 1 && now - handed_ms <= kHoleWait.count()) break;
    if (id != through + 1)
      spdlog::debug("live: outbox ids {}..{} never committed", through + 1, id - 1);
    through = id;
    ahead.erase(ahead.begin());
  }
}

std::vector<db::Value> Feed::Impl::holes() const {
  std::vector<db::Value> out;
  std::int64_t next = through + 1;
  for (const auto& [id, at] : ahead) {
    for (; next < id && out.size() < kMaxHoleProbe; ++next) out.emplace_back(next);
    next = id + 1;
    if (out.size() >= kMaxHoleProbe) break;
  }
  return out;
}

Status Feed::Impl::tail_once() {
  const std::int64_t now = clock_ms();
  std::vector<db::Value> late;
  if (now - holes_probed_ms >= kHoleProbeEvery.count()) {
    late = holes();
    holes_probed_ms = now;
  }
  auto batch = CUNHUO_TRY(db.read([&](db::Session& s) -> Result<std::vector<Delivery>> {
    auto rows = CUNHUO_TRY(
        s.query("SELECT id, topic, payload, created_at FROM outbox_events WHERE id > ? ORDER BY "
                "id LIMIT ?",
                {handed_max(), kTailBatch}));
    if (!late.empty()) {
      auto filled = CUNHUO_TRY(
          s.query_with("SELECT id, topic, payload, created_at FROM outbox_events WHERE id IN (" +
                           db::placeholders(late.size()) + ")",
                       late));
      rows.insert(rows.end(), filled.begin(), filled.end());
    }
    std::vector<Delivery> out;
    for (const auto& r : rows) {
      auto event = CUNHUO_TRY(event_row(r));
      if (handed(event.id)) continue;
      auto reach = reach_of(s, event);
      if (!reach.ok())
        spdlog::warn("live: cannot place event {} ({}): {}; admins only", event.id, event.topic,
                     reach.error().message);
      out.push_back(
          Delivery{event.id, event_frame(event), reach.ok() ? std::move(*reach) : Reach{}});
    }
    return out;
  }));
  for (const auto& d : batch) ahead.emplace(d.id, now);
  advance();
  const std::int64_t at = handed_max();
  publish_stats([&](FeedStats& s) { s.tailed_through = at; });
  if (batch.empty()) return {};
  auto shared = std::make_shared<const std::vector<Delivery>>(std::move(batch));
  for (auto& shard : shards) deliver(*shard, shared);
  return {};
}

void Feed::Impl::tail_loop() {
  std::unique_lock lock(mu);
  while (!stopping) {
    lock.unlock();
    // Tail first, so that a connection joining now has all that was committed before it
    // in its backlog rather than in the live stream (which then counts it as missed).
    if (auto st = tail_once(); !st.ok())
      spdlog::warn("live: outbox read failed: {}", st.error().message);
    admit_joining();
    recheck_sessions();
    lock.lock();
    wake.wait_for(lock, kTailEvery, [&] { return stopping || !joining.empty(); });
  }
}

Feed::Feed(db::Database& db, Auth& auth, const Clock& clock)
    : impl_(std::make_shared<Impl>(db, auth, clock)) {}

Feed::~Feed() { stop(); }

void Feed::start() {
  auto newest = impl_->db.read([](db::Session& s) -> Result<std::int64_t> {
    auto row = CUNHUO_TRY(s.query_one("SELECT MAX(id) FROM outbox_events"));
    return row && !row->is_null(0) ? row->i64(0) : 0;
  });
  impl_->through = newest.ok() ? *newest : 0;  // earlier events only through after=
  impl_->started = true;
  for (auto& shard : impl_->shards)
    shard->thread = std::thread([shard = shard.get()] {
      ::pthread_setname_np(::pthread_self(), ("live-io" + std::to_string(shard->index)).c_str());
      shard->io.run();
    });
  impl_->tail_thread = std::thread([impl = impl_.get()] {
    ::pthread_setname_np(::pthread_self(), "live-tail");  // as top and perf show it
    impl->tail_loop();
  });
}

void Feed::stop() {
  if (!impl_->started) return;
  impl_->started = false;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->tail_thread.join();
  for (auto& shard : impl_->shards) {
    asio::post(shard->io, [shard = shard.get()] {
      std::vector<std::shared_ptr<Session>> all(shard->sessions.begin(), shard->sessions.end());
      for (const auto& s : all) {
        s->forget();
        s->drop_socket();
      }
      shard->io.stop();
    });
    shard->work.reset();
    shard->thread.join();
  }
}

UpgradeAnswer Feed::upgrade(const Request& request) {
  UpgradeAnswer answer;
  if (request.method != "GET") {
    answer.refusal = error_response(405, "method_not_allowed", "open the live feed with GET");
    answer.refusal->headers.emplace_back("Allow", "GET");
    return answer;
  }
  if (!header_has(request, "upgrade", "websocket") ||
      !header_has(request, "connection", "upgrade")) {
    answer.refusal = error_response(426, "upgrade_required", "open /live as a WebSocket");
    answer.refusal->headers.emplace_back("Upgrade", "websocket");
    return answer;
  }
  // Who: a bearer token, or the pages' session cookie (never a token in the URL).
  Result<Account> account = make_error(ErrorKind::unauthorized, "unauthenticated", "log in first");
  const bool by_cookie = !request.header("authorization").has_value();
  std::string token;
  if (!by_cookie) {
    account = impl_->auth.authenticate(request);
    token = bearer_of(request);
  } else if (auto cookie = web::cookie(request, web::kSessionCookie); cookie && !cookie->empty()) {
    account = impl_->auth.authenticate_token(*cookie);
    token = *cookie;
  }
  if (!account.ok()) {
    answer.refusal = error_response(account.error());
    return answer;
  }
  // A cookie rides along with any site's request: only our own pages may use it here.
  auto origin = request.header("origin");
  auto host = request.header("host");
  if (by_cookie && origin && (!host || origin_host(*origin) != ascii_lower(*host))) {
    answer.refusal = error_response(403, "cross_origin", "open the live feed from its own pages");
    return answer;
  }
  std::optional<std::int64_t> after;
  for (const auto& [name, value] : request.query) {
    if (name != "after") {
      answer.refusal =
          error_response(400, "unknown_query_parameter", "the live feed takes only after=", name);
      return answer;
    }
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
    if (ec != std::errc{} || end != value.data() + value.size() || id < 0) {
      answer.refusal = error_response(400, "invalid_resume_id",
                                      "after must be the id of an event you received", "after");
      return answer;
    }
    after = id;
  }
  if (after) {
    // An id never handed out (from the future) is refused; one from before the feed's
    // oldest stored event resumes with a reload.
    auto newest = impl_->db.read([](db::Session& s) -> Result<std::int64_t> {
      auto row = CUNHUO_TRY(s.query_one("SELECT MAX(id) FROM outbox_events"));
      return row && !row->is_null(0) ? row->i64(0) : 0;
    });
    if (!newest.ok()) {
      answer.refusal = error_response(newest.error());
      return answer;
    }
    if (*after > *newest) {
      answer.refusal =
          error_response(400, "unknown_resume_id", "no event with this id was ever sent", "after");
      return answer;
    }
  }
  if (impl_->open.load() >= kMaxConnections) {
    answer.refusal = error_response(503, "too_many_connections", "the live feed is full");
    answer.refusal->headers.emplace_back("Retry-After", "5");
    return answer;
  }
  if (!impl_->quota_left(account->id, request.client_address)) {
    answer.refusal = error_response(429, "too_many_connections",
                                    "too many live connections from this account or address");
    answer.refusal->headers.emplace_back("Retry-After", "5");
    return answer;
  }
  // Called at once by the server (which stops before the feed does).
  answer.take = [impl = impl_.get(), who = std::move(*account), token = std::move(token), after](
                    int fd, Request r, std::string early) mutable {
    // Frames before the switch (RFC 6455 §4.1 forbids them), or a burst past the quota
    // since it was checked.
    if (!early.empty() || !impl->take_quota(who.id, r.client_address)) {
      ::close(fd);
      return;
    }
    ++impl->open;
    Shard& shard = *impl->shards[impl->next_shard++ % impl->shards.size()];
    asio::post(shard.io, [impl, &shard, fd, r = std::move(r), who = std::move(who),
                          token = std::move(token), after]() mutable {
      impl->adopt(shard, fd, std::move(r), std::move(who), std::move(token), after);
    });
  };
  return answer;
}

FeedStats Feed::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->shown;
}

bool Feed::wait_until(const std::function<bool(const FeedStats&)>& done,
                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->stats_mu);
  return impl_->stats_cv.wait_for(lock, timeout, [&] { return done(impl_->shown); });
}

}  // namespace cunhuo::storefront::live
