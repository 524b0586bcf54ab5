#include "storefront/live/feed.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
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
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

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

using Text = std::shared_ptr<const std::string>;

// An event as it goes out: its frame, and whom it concerns.
struct Delivery {
  std::int64_t id = 0;
  Text frame;
  Reach reach;
};
using Deliveries = std::shared_ptr<const std::vector<Delivery>>;

Text event_frame(const outbox::Event& e) {
  JsonWriter w;
  w.begin_object().field("id", e.id).field("type", e.topic).field("at", e.created_at_ms);
  w.key("data").raw(e.payload.empty() ? std::string_view("{}") : std::string_view(e.payload));
  w.end_object();
  return std::make_shared<const std::string>(w.take());
}

Text reload_frame(std::int64_t resume_from, std::int64_t now_ms) {
  JsonWriter w;
  w.begin_object().field("id", resume_from).field("type", "reload").field("at", now_ms);
  w.key("data").begin_object().end_object().end_object();
  return std::make_shared<const std::string>(w.take());
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

// Its handlers name it by pointer: the io_context it owns holds them, and is destroyed (with
// them) only after its thread has stopped.
struct Feed::Impl {
  Impl(db::Database& d, Auth& a, const Clock& c) : db(d), auth(a), clock(c) {}

  db::Database& db;
  Auth& auth;
  const Clock& clock;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread io_thread, tail_thread;
  std::atomic<std::size_t> open{0};  // accepted upgrades not yet ended (caps them)

  // Open connections by account and by client address, under their own lock: taken on the
  // server's reactor thread, given back on the io thread.
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
  // `ahead` above it. A hole below an id handed out is a transaction that took its id
  // first and commits later (MariaDB's auto-increment), or one rolled back: it is waited
  // for up to kHoleWait, then given up.
  std::int64_t through = 0;
  std::set<std::int64_t> ahead;
  std::int64_t hole = 0, hole_seen_ms = 0;  // the hole at through + 1, since when
  std::int64_t handed_max() const { return ahead.empty() ? through : *ahead.rbegin(); }
  bool handed(std::int64_t id) const { return id <= through || ahead.count(id) > 0; }
  void advance();

  // The io thread's.
  std::unordered_set<std::shared_ptr<Session>> sessions;
  std::size_t peak_queue = 0;

  // Published for stats(), under stats_mu.
  mutable std::mutex stats_mu;
  std::condition_variable stats_cv;
  FeedStats shown;

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
  void fan_out(const Deliveries& batch);
  void adopt(int fd, Request request, Account account, std::optional<std::int64_t> after);
  void join(const std::shared_ptr<Session>& session);  // past its handshake
  void ended(const std::shared_ptr<Session>& session);
  void refresh_queue_stats();
};

// One WebSocket connection, on the io thread only.
struct Session : std::enable_shared_from_this<Session> {
  Session(Feed::Impl& f, tcp::socket socket, Account a, std::optional<std::int64_t> resume)
      : feed(f), ws(std::move(socket)), account(std::move(a)), after(resume), close_timer(f.io) {}

  Feed::Impl& feed;
  websocket::stream<tcp::socket> ws;
  Account account;
  std::string address;                // the client's, counted against its quota
  std::optional<std::int64_t> after;  // resumes after this event
  beast::flat_buffer in;
  std::deque<Text> queue;  // the front is being written while `writing`
  std::size_t queued_bytes = 0;
  bool writing = false;
  bool live = false;  // past its backlog: takes events as they are tailed (and counted)
  bool ending = false;
  asio::steady_timer close_timer;

  void accept(http::request<http::empty_body> request) {
    ws.read_message_max(kMaxClientFrameBytes);
    ws.auto_fragment(false);
    ws.text(true);
    websocket::stream_base::timeout limits{};
    limits.handshake_timeout = kHandshakeTimeout;
    limits.idle_timeout = kIdleTimeout;
    limits.keep_alive_pings = true;  // a ping at half the idle time; silence closes
    ws.set_option(limits);
    auto self = shared_from_this();
    ws.async_accept(request, [self](beast::error_code ec) {
      if (ec) return self->end("handshake", ec);
      self->feed.sessions.insert(self);
      self->feed.join(self);
      self->read();
    });
  }

  void read() {
    auto self = shared_from_this();
    ws.async_read(in, [self](beast::error_code ec, std::size_t) {
      if (ec == websocket::error::message_too_big) {
        self->feed.publish_stats([](FeedStats& s) { ++s.closed_policy; });
        return self->end("frame too big", ec);  // Beast has sent close 1009
      }
      if (ec) return self->end("read", ec);
      // Only control frames may come from the client; Beast answers pings itself.
      self->feed.publish_stats([](FeedStats& s) { ++s.closed_policy; });
      self->close_with(kClosePolicy, "clients send only ping, pong and close");
    });
  }

  // Queues a frame, or drops a client whose queue is full.
  void push(const Text& frame) {
    if (ending) return;
    if (queue.size() >= kSendQueueFrames || queued_bytes + frame->size() > kSendQueueBytes) {
      feed.publish_stats([](FeedStats& s) { ++s.dropped_slow; });
      close_with(kCloseTooSlow, "too slow: reconnect with after=");
      return;
    }
    queue.push_back(frame);
    queued_bytes += frame->size();
    feed.peak_queue = std::max(feed.peak_queue, queued_bytes);
    if (!writing) write_next();
  }

  void write_next() {
    writing = true;
    auto self = shared_from_this();
    ws.async_write(asio::buffer(*queue.front()), [self](beast::error_code ec, std::size_t) {
      self->writing = false;
      if (self->queue.empty()) return;  // dropped meanwhile
      self->queued_bytes -= self->queue.front()->size();
      self->queue.pop_front();
      if (ec) return self->end("write", ec);
      if (!self->queue.empty() && !self->ending) self->write_next();
    });
  }

  // Sends a close frame (behind a write in progress) and forgets the queue; a client that
  // does not take the close within kCloseGrace loses the connection all the same.
  void close_with(std::uint16_t code, const char* reason) {
    if (ending) return;
    forget();
    auto self = shared_from_this();
    close_timer.expires_after(kCloseGrace);
    close_timer.async_wait([self](beast::error_code ec) {
      if (!ec) self->drop_socket();
    });
    ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                   [self](beast::error_code) {
                     self->close_timer.cancel();
                     self->drop_socket();
                   });
  }

  void end(const char* where, beast::error_code ec) {
    if (ec != websocket::error::closed && ec != asio::error::operation_aborted)
      spdlog::debug("live connection of account {} ended at {}: {}", account.id, where,
                    ec.message());
    forget();
    drop_socket();
  }

  // Leaves the feed: no more events, the queue freed (but for a frame being written).
  void forget() {
    if (ending) return;
    ending = true;
    while (queue.size() > (writing ? 1u : 0u)) {
      queued_bytes -= queue.back()->size();
      queue.pop_back();
    }
    feed.ended(shared_from_this());
  }

  void drop_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws).shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).close(ignored);
  }
};

void Feed::Impl::ended(const std::shared_ptr<Session>& session) {
  sessions.erase(session);
  --open;
  give_back_quota(session->account.id, session->address);
  publish_stats([&](FeedStats& s) {
    if (session->live) --s.connections;
  });
}

void Feed::Impl::refresh_queue_stats() {
  std::size_t total = 0;
  for (const auto& s : sessions) total += s->queued_bytes;
  publish_stats([&](FeedStats& s) {
    s.queued_bytes = total;
    s.peak_queue_bytes = peak_queue;
  });
}

void Feed::Impl::fan_out(const Deliveries& batch) {
  // Copied: a push may drop a session, which leaves `sessions`.
  std::vector<std::shared_ptr<Session>> now(sessions.begin(), sessions.end());
  for (const auto& d : *batch)
    for (const auto& s : now)
      if (s->live && !s->ending && may_receive(s->account, d.reach)) s->push(d.frame);
  refresh_queue_stats();
}

void Feed::Impl::adopt(int fd, Request request, Account account,
                       std::optional<std::int64_t> after) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  tcp::socket socket(io);
  beast::error_code ec;
  socket.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    --open;
    give_back_quota(account.id, request.client_address);
    return;
  }
  http::request<http::empty_body> head{http::verb::get, request.path, 11};
  for (const auto& [name, value] : request.headers) head.insert(name, value);
  auto session = std::make_shared<Session>(*this, std::move(socket), std::move(account), after);
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
    asio::post(io, [self = this, s = j.session, frames = std::move(frames)] {
      if (s->ending) return;
      for (const auto& f : frames) s->push(f);
      if (s->ending) return;  // its backlog alone was too much for it
      s->live = true;
      self->publish_stats([](FeedStats& st) { ++st.connections; });
      self->refresh_queue_stats();
    });
  }
}

void Feed::Impl::advance() {
  while (!ahead.empty() && *ahead.begin() == through + 1) {
    ++through;
    ahead.erase(ahead.begin());
  }
  if (ahead.empty()) {
    hole = 0;
    return;
  }
  const std::int64_t now = clock_ms();
  if (hole != through + 1) {
    hole = through + 1;
    hole_seen_ms = now;
  } else if (now - hole_seen_ms > kHoleWait.count()) {
    spdlog::debug("live: outbox ids {}..{} never committed", hole, *ahead.begin() - 1);
    through = *ahead.begin() - 1;
    advance();
  }
}

Status Feed::Impl::tail_once() {
  auto batch = CUNHUO_TRY(db.read([&](db::Session& s) -> Result<std::vector<Delivery>> {
    auto rows = CUNHUO_TRY(
        s.query("SELECT id, topic, payload, created_at FROM outbox_events WHERE id > ? ORDER BY "
                "id LIMIT ?",
                {through, kTailBatch}));
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
  for (const auto& d : batch) ahead.insert(d.id);
  advance();
  const std::int64_t at = handed_max();
  publish_stats([&](FeedStats& s) { s.tailed_through = at; });
  if (batch.empty()) return {};
  auto shared = std::make_shared<const std::vector<Delivery>>(std::move(batch));
  asio::post(io, [self = this, shared] { self->fan_out(shared); });
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
  impl_->io_thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  impl_->tail_thread = std::thread([impl = impl_.get()] { impl->tail_loop(); });
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
  asio::post(impl_->io, [impl = impl_.get()] {
    std::vector<std::shared_ptr<Session>> all(impl->sessions.begin(), impl->sessions.end());
    for (const auto& s : all) {
      s->forget();
      s->drop_socket();
    }
    impl->io.stop();
  });
  impl_->work.reset();
  impl_->io_thread.join();
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
  if (!by_cookie) {
    account = impl_->auth.authenticate(request);
  } else if (auto token = web::cookie(request, web::kSessionCookie); token && !token->empty()) {
    account = impl_->auth.authenticate_token(*token);
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
  answer.take = [impl = impl_.get(), who = std::move(*account), after](int fd, Request r,
                                                                       std::string early) mutable {
    // Frames before the switch (RFC 6455 §4.1 forbids them), or a burst past the quota
    // since it was checked.
    if (!early.empty() || !impl->take_quota(who.id, r.client_address)) {
      ::close(fd);
      return;
    }
    ++impl->open;
    asio::post(impl->io, [impl, fd, r = std::move(r), who = std::move(who), after]() mutable {
      impl->adopt(fd, std::move(r), std::move(who), after);
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
