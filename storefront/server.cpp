#include "storefront/server.hpp"

#include <pistache/async.h>
#include <pistache/listener.h>
#include <pistache/peer.h>
#include <pistache/tcp.h>
#include <pistache/transport.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "storefront/http1.hpp"

namespace cunhuo::storefront {
namespace {

using namespace Pistache;

constexpr const char* kConnectionKey = "cunhuo.connection";
constexpr std::int64_t kLingerMs = 2000;  // how long a closing connection may keep sending
constexpr auto kSweepEvery = std::chrono::milliseconds(100);

// Pages are rendered by the server and load scripts only from it: no inline script, no
// framing (clickjacking of the payment and statement pages), no plugins.
std::string html_policy(const std::string& form_action_origins) {
  return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
         "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'" +
         (form_action_origins.empty() ? std::string() : " " + form_action_origins) +
         "; frame-ancestors 'none'";
}

// Pistache 0.0.5 offers no way to let go of a connection without closing it, and keeps
// the peer's Transport private. An explicit instantiation may name a private member
// ([temp.spec]/6): this reads Peer::transport once, here, for detach_socket().
template <typename Tag, typename Tag::type Member>
struct PrivateMember {
  friend typename Tag::type member_of(Tag) { return Member; }
};
struct PeerTransport {
  using type = Tcp::Transport* (Tcp::Peer::*)() const;
  friend type member_of(PeerTransport);
};
template struct PrivateMember<PeerTransport, &Tcp::Peer::transport>;

// Takes the connection's socket away from Pistache without closing it, for a protocol
// switch; returns a descriptor of the socket that the caller owns, or -1. On the peer's
// reactor thread. The socket leaves the reactor's epoll set, and the peer's descriptor
// number is pointed at a socket whose other end is closed: Pistache reads an end of
// stream there and disposes of the peer as after any disconnection, closing only that
// stand-in (never calling shutdown() on the real socket).
int detach_socket(const std::shared_ptr<Tcp::Peer>& peer) {
  Tcp::Transport* transport = (peer.get()->*member_of(PeerTransport{}))();
  const int fd = peer->fd();
  const int taken = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (transport == nullptr || taken < 0) return -1;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    ::close(taken);
    return -1;
  }
  ::close(ends[1]);
  transport->reactor()->removeFd(transport->key(), fd);
  const bool swapped = ::dup3(ends[0], fd, O_CLOEXEC) == fd;
  ::close(ends[0]);
  CUNHUO_ASSERT(swapped);
  transport->reactor()->registerFd(transport->key(), fd,
                                   Polling::NotifyOn::Read | Polling::NotifyOn::Shutdown,
                                   Polling::Mode::Edge);
  return taken;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// paused: the client does not read its answers; nothing more is served until it does.
enum class Phase { idle, head, body, awaiting, paused, closing };

// One client connection. Its bytes are handled on the connection's reactor thread only;
// the sweeper reads `phase` and `since_ms` from its own thread.
struct Connection {
  std::mutex mu;  // its reactor thread and an asynchronous answer may both touch it
  std::weak_ptr<Tcp::Peer> peer;
  std::string address;                  // the client's IP address
  bool counted = false;                 // counted against the connection caps
  std::atomic<std::int64_t> unsent{0};  // answer bytes handed to Pistache, not yet written
  std::atomic<bool> paused{false};      // stopped serving until `unsent` drains
  std::string buffer;
  std::optional<http1::Head> head;  // parsed, waiting for its body
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::atomic<Phase> phase{Phase::idle};
  std::atomic<std::int64_t> since_ms{steady_ms()};
  // A request was read on it. An upgrade must be a connection's first request: then it is
  // read on the reactor thread that owns the socket, never after an asynchronous answer.
  bool served = false;

  void enter(Phase p) {
    phase.store(p);
    since_ms.store(steady_ms());
  }
};

struct Shared {
  ServerOptions options;
  std::string html_policy;  // html_policy(options.form_action_origins), made once
  const Router* router = nullptr;
  Metrics* metrics = nullptr;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> sample_data{false};  // the store holds invented sample data
  std::mutex connections_mu;
  std::unordered_map<std::size_t, std::shared_ptr<Connection>> connections;
  int open_connections = 0;                              // counted ones, under connections_mu
  std::unordered_map<std::string, int> open_by_address;  // the same, by client address
};

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (auto& c : id) {
    c = hex[v & 0xF];
    v >>= 4;
  }
  return id;
}

bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

bool is_json_content_type(const std::optional<std::string>& ct) {
  if (!ct) return false;
  return ascii_lower(*ct).rfind("application/json", 0) == 0;
}

std::int64_t body_limit(const Shared& shared, const Route* route) {
  return route != nullptr && route->max_body >= 0 ? route->max_body : shared.options.max_json_body;
}

Response method_not_allowed(const Request& request, const std::vector<std::string>& allowed) {
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  auto r = error_response(405, "method_not_allowed",
                          "method " + request.method + " is not allowed here; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// Answers that need no handler (or says why there is none); nullopt: run the route.
std::optional<Response> refuse_early(Shared& shared, Request& request, const Router::Match& match) {
  if (shared.draining.load()) {
    request.route = "draining";
    return error_response(503, "shutting_down",
                          "server is shutting down, retry on another connection");
  }
  if (match.route == nullptr) {
    request.route = "unmatched";
    if (!match.allowed.empty()) return method_not_allowed(request, match.allowed);
    return error_response(404, "route_not_found", "no such route");
  }
  const Route& route = *match.route;
  request.route = route.pattern;
  request.params = match.params;
  if (route.takes_json && !is_json_content_type(request.header("content-type")))
    return error_response(415, "unsupported_media_type", "send the body as application/json");
  return std::nullopt;
}

Response run_handler(const Route& route, const Request& request) {
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("unhandled exception in {} {}: {}", request.method, route.pattern, e.what());
    return error_response(500, "internal", "internal error");
  }
}

// What respond() needs to finish a request, kept for an answer that comes later.
struct Answering {
  std::string request_id, method, route;
  bool keep_alive = true;
  bool authenticated = false;  // the request carried Authorization
  bool api = false;            // under /api/v1
  std::chrono::steady_clock::time_point started;
};

// Hands an asynchronous answer over: inline (before the handler returned) or later.
struct PendingAnswer {
  std::mutex mu;
  bool handler_returned = false;
  std::optional<Response> inline_answer;
};

bool has_header(const Response& r, std::string_view lower_name) {
  for (const auto& [name, value] : r.headers)
    if (ascii_lower(name) == lower_name) return true;
  return false;
}

void drop_header(Response& r, std::string_view lower_name) {
  std::erase_if(r.headers, [&](const auto& h) { return ascii_lower(h.first) == lower_name; });
}

// Every answer, in one place: no type sniffing; pages get their policy; an answer to an
// authenticated request, or an API answer its route did not mark cacheable, is never
// stored by a browser or proxy (it may hold personal data).
void add_safety_headers(Response& r, const Answering& a, const std::string& html_policy) {
  if (!has_header(r, "x-content-type-options"))
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (r.content_type.rfind("text/html", 0) == 0) {
    if (!has_header(r, "content-security-policy"))
      r.headers.emplace_back("Content-Security-Policy", html_policy);
    if (!has_header(r, "referrer-policy")) r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (a.authenticated) drop_header(r, "cache-control");
  if ((a.authenticated || a.api) && !has_header(r, "cache-control"))
    r.headers.emplace_back("Cache-Control", "no-store");
}

// Invented data says so on every answer, and in words at the top of every page.
void mark_sample(Response& r) {
  r.headers.emplace_back("X-Sample-Data", "true");
  if (r.content_type.rfind("text/html", 0) != 0) return;
  constexpr std::string_view kBody = "<body>";
  if (auto at = r.body.find(kBody); at != std::string::npos)
    r.body.insert(at + kBody.size(),
                  "<p id=sample-data role=note><b>演示数据 Sample data</b>: every name, "
                  "household, order and figure here is invented.</p>");
}

using Sent = std::function<void()>;

// Hands bytes to Pistache, which writes them later from the reactor; `written` runs once
// they are out (or the write failed), to resume a connection paused on unsent bytes.
void send_bytes(const std::shared_ptr<Tcp::Peer>& peer, std::string bytes, bool close_after,
                const std::shared_ptr<Connection>& conn = nullptr, Sent written = nullptr) {
  const auto size = static_cast<std::int64_t>(bytes.size());
  if (conn) conn->unsent += size;
  auto sent = peer->send(RawBuffer(std::move(bytes), static_cast<std::size_t>(size)));
  std::weak_ptr<Tcp::Peer> weak = peer;
  std::weak_ptr<Connection> weak_conn = conn;
  auto done = [weak, weak_conn, size, close_after, written](bool ok) {
    if (auto c = weak_conn.lock()) c->unsent -= size;
    auto p = weak.lock();
    // Half-close once the answer is written: the client reads it, then sees the end.
    if (p && close_after) ::shutdown(p->fd(), ok ? SHUT_WR : SHUT_RDWR);
    if (written) written();
  };
  sent.then([done](ssize_t) { done(true); }, [done](std::exception_ptr) { done(false); });
}

class Adapter final : public Tcp::Handler {
 public:
  PROTOTYPE_OF(Tcp::Handler, Adapter)
  explicit Adapter(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    auto conn = std::make_shared<Connection>();
    conn->peer = peer;
    conn->address = peer->address().host();
    peer->putData(kConnectionKey, conn);
    bool admitted = false;
    {
      std::lock_guard lock(shared_->connections_mu);
      admitted = admit(*conn);
      shared_->connections[peer->getID()] = conn;
    }
    if (admitted) return;
    conn->enter(Phase::closing);
    auto busy =
        error_response(503, "too_many_connections", "too many connections; try again shortly");
    busy.headers.emplace_back("Retry-After", "1");
    send_bytes(peer, http1::write_response(busy, new_request_id(), false), true);
    shared_->metrics->observe("refused", "other", 503, 0);
  }

  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    auto conn = std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
    std::lock_guard lock(shared_->connections_mu);
    if (conn) release(*conn);
    shared_->connections.erase(peer->getID());
  }

  void onInput(const char* data, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    auto conn = std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
    if (!conn) return;
    std::lock_guard lock(conn->mu);
    const Phase phase = conn->phase.load();
    if (phase == Phase::closing) return;  // closing: discard what still arrives
    if (phase == Phase::awaiting || phase == Phase::paused) {
      // Pipelined bytes wait for the answer in progress; a client that floods is cut off.
      const std::size_t cap =
          phase == Phase::paused
              ? kMaxPipelinedBytes
              : http1::kMaxHeadBytes + static_cast<std::size_t>(shared_->options.max_upload_body);
      if (conn->buffer.size() + len > cap) {
        ::shutdown(peer->fd(), SHUT_RDWR);
        return;
      }
      conn->buffer.append(data, len);
      return;
    }
    if (phase == Phase::idle) conn->enter(Phase::head);
    conn->buffer.append(data, len);
    process(conn, peer);
  }

 private:
  // Reads and answers requests while there are complete ones; the caller holds conn->mu.
  void process(const std::shared_ptr<Connection>& conn_ptr,
               const std::shared_ptr<Tcp::Peer>& peer) {
    Connection& conn = *conn_ptr;
    while (true) {
      if (conn.phase.load() != Phase::body && conn.unsent.load() > kMaxUnsentBytes && pause(conn))
        return;
      if (conn.phase.load() != Phase::body && !read_head(conn, peer)) return;
      const auto need = static_cast<std::size_t>(conn.head->content_length);
      if (conn.buffer.size() < need) return;
      conn.head->request.body = conn.buffer.substr(0, need);
      conn.buffer.erase(0, need);
      auto answer = respond(conn_ptr, peer);
      if (!answer) {
        conn.enter(Phase::awaiting);  // the answer comes later; it resumes this loop
        return;
      }
      if (!after_answer(conn, *answer)) return;
    }
  }

  // Counts a new connection against the caps; the caller holds connections_mu.
  bool admit(Connection& conn) {
    // A trusted proxy carries many clients' connections: only the overall cap holds it.
    const bool proxy = shared_->options.proxies.trusts(conn.address);
    int& from_address = shared_->open_by_address[conn.address];
    if (shared_->open_connections >= shared_->options.max_connections ||
        (!proxy && from_address >= shared_->options.max_connections_per_address)) {
      if (from_address == 0) shared_->open_by_address.erase(conn.address);
      return false;
    }
    ++from_address;
    ++shared_->open_connections;
    conn.counted = true;
    return true;
  }

  // The caller holds connections_mu.
  void release(Connection& conn) {
    if (!conn.counted) return;
    conn.counted = false;
    --shared_->open_connections;
    if (auto it = shared_->open_by_address.find(conn.address);
        it != shared_->open_by_address.end() && --it->second <= 0)
      shared_->open_by_address.erase(it);
  }

  // Stops serving while the answers already sent wait to be written; true when paused.
  // resume() picks it up again, from the thread that finishes a write.
  static bool pause(Connection& conn) {
    conn.enter(Phase::paused);
    conn.paused.store(true);
    // The writes may all have finished before `paused` was set: then go on here.
    if (conn.unsent.load() > kMaxUnsentBytes || !conn.paused.exchange(false)) return true;
    conn.enter(conn.buffer.empty() ? Phase::idle : Phase::head);
    return false;
  }

  static void resume(const std::shared_ptr<Shared>& shared,
                     const std::weak_ptr<Connection>& weak_conn,
                     const std::weak_ptr<Tcp::Peer>& weak_peer) {
    auto conn = weak_conn.lock();
    auto peer = weak_peer.lock();
    if (!conn || !peer || conn->unsent.load() > kMaxUnsentBytes || !conn->paused.exchange(false))
      return;
    std::lock_guard lock(conn->mu);
    if (conn->phase.load() != Phase::paused) return;
    conn->enter(conn->buffer.empty() ? Phase::idle : Phase::head);
    Adapter resumer(shared);
    resumer.process(conn, peer);
  }

  // Moves the connection on after an answer; true when more buffered requests wait.
  static bool after_answer(Connection& conn, bool keep_alive) {
    conn.head.reset();
    if (!keep_alive) {
      conn.buffer.clear();
      conn.enter(Phase::closing);
      return false;
    }
    conn.enter(conn.buffer.empty() ? Phase::idle : Phase::head);
    return !conn.buffer.empty();
  }

  // Parses the next request head from the buffer; false when there is not enough yet
  // or the connection was refused.
  bool read_head(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer) {
    if (conn.buffer.empty()) {
      conn.enter(Phase::idle);
      return false;
    }
    const auto end = conn.buffer.find("\r\n\r\n");
    if (end == std::string::npos || end > http1::kMaxHeadBytes) {
      if (conn.buffer.size() > http1::kMaxHeadBytes)
        refuse(
            conn, peer,
            error_response(431, "headers_too_large", "request line and headers are over 16 KiB"));
      return false;
    }
    auto head = http1::parse_head(std::string_view(conn.buffer).substr(0, end));
    conn.buffer.erase(0, end + 4);
    if (head.ok())
      head->request.client_address =
          shared_->options.proxies.client_of(conn.address, head->request.headers);
    if (!head.ok()) {
      const Error& e = head.error();
      int status = e.kind == ErrorKind::too_large     ? 431
                   : e.code == "length_required"      ? 411
                   : e.code == "expectation_failed"   ? 417
                   : e.kind == ErrorKind::unsupported ? 505
                                                      : 400;
      refuse(conn, peer, error_response(status, e.code, e.message));
      return false;
    }
    if (auto up = shared_->options.upgrades.find(head->request.path);
        up != shared_->options.upgrades.end()) {
      if (head->content_length > 0) {
        refuse(conn, peer,
               error_response(400, "body_not_allowed", "an upgrade request has no body"));
        return false;
      }
      if (conn.served) {
        refuse(conn, peer,
               error_response(400, "upgrade_not_first",
                              "an upgrade must be the first request of its connection"));
        return false;
      }
      hand_over(conn, peer, std::move(head->request), up->second);
      return false;
    }
    auto match = shared_->router->match(head->request.method, head->request.path);
    const std::int64_t limit = body_limit(*shared_, match.route);
    if (head->content_length > limit) {
      refuse(conn, peer,
             error_response(413, "body_too_large",
                            "request body is over " + std::to_string(limit) + " bytes"));
      return false;
    }
    // A large body is read only for a caller who may send it.
    if (match.route != nullptr && match.route->authenticate_before_body &&
        shared_->options.authenticate_head) {
      if (auto refusal = shared_->options.authenticate_head(head->request)) {
        refuse(conn, peer, *refusal);
        return false;
      }
    }
    if (head->expect_continue && head->content_length > 0 && conn.buffer.empty())
      send_bytes(peer, "HTTP/1.1 100 Continue\r\n\r\n", false);
    conn.served = true;
    conn.route = match.route;
    conn.params = std::move(match.params);
    conn.head = std::move(*head);
    conn.buffer.reserve(static_cast<std::size_t>(conn.head->content_length));
    conn.enter(Phase::body);
    return true;
  }

  // A request to switch protocols: refused over HTTP, or the connection handed over to
  // its new owner. Either way this server is done with the connection.
  void hand_over(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer, Request request,
                 const UpgradeHandler& handler) {
    const auto started = std::chrono::steady_clock::now();
    request.request_id = new_request_id();
    request.route = request.path;
    RequestIdScope log_scope(request.request_id);
    UpgradeAnswer answer;
    try {
      answer = handler(request);
    } catch (const std::exception& e) {
      spdlog::error("unhandled exception in upgrade of {}: {}", request.path, e.what());
      answer.refusal = error_response(500, "internal", "internal error");
    }
    // Answers still being written would go to the stand-in, not the client.
    if (!answer.refusal && conn.unsent.load() > 0)
      answer.refusal = error_response(503, "busy", "answers are still being sent; retry");
    int fd = -1;
    if (!answer.refusal && (fd = detach_socket(peer)) < 0)
      answer.refusal = error_response(503, "cannot_upgrade", "cannot take the connection now");
    if (answer.refusal) {
      spdlog::debug("upgrade of {} refused: {}", request.path, answer.refusal->status);
      refuse(conn, peer, std::move(*answer.refusal));  // counted as "unparsed"
      return;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    shared_->metrics->observe(request.path, request.method, 101, seconds);
    std::string early = std::move(conn.buffer);
    conn.buffer.clear();
    conn.enter(Phase::closing);
    answer.take(fd, std::move(request), std::move(early));
  }

  // Answers a request that cannot be read any further, then closes the connection.
  void refuse(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer, Response response) {
    const std::string id = new_request_id();
    Answering facts;
    facts.api = true;  // refusals are JSON errors: never stored
    add_safety_headers(response, facts, shared_->html_policy);
    send_bytes(peer, http1::write_response(response, id, false), true);
    shared_->metrics->observe("unparsed", "other", response.status, 0);
    conn.buffer.clear();
    conn.head.reset();
    conn.enter(Phase::closing);
  }

  // Handles one complete request: the connection's keep-alive when answered now,
  // nullopt when an asynchronous route will answer later.
  std::optional<bool> respond(const std::shared_ptr<Connection>& conn_ptr,
                              const std::shared_ptr<Tcp::Peer>& peer) {
    Connection& conn = *conn_ptr;
    shared_->metrics->set_in_flight(++shared_->in_flight);
    Request& request = conn.head->request;
    auto given_id = request.header("x-request-id");
    request.request_id =
        given_id && acceptable_request_id(*given_id) ? *given_id : new_request_id();
    RequestIdScope log_scope(request.request_id);
    Answering answering{.request_id = request.request_id,
                        .method = request.method,
                        .route = "",
                        .keep_alive = conn.head->keep_alive,
                        .authenticated = request.header("authorization").has_value(),
                        .api = request.path.rfind("/api/v1/", 0) == 0,
                        .started = std::chrono::steady_clock::now()};

    Router::Match match;
    match.route = conn.route;
    match.params = std::move(conn.params);
    if (match.route == nullptr)
      match = shared_->router->match(request.method, request.path);  // for Allow
    std::optional<Response> response = refuse_early(*shared_, request, match);
    answering.route = request.route;
    if (!response && !match.route->async_handler) response = run_handler(*match.route, request);
    if (!response) {
      auto pending = std::make_shared<PendingAnswer>();
      std::weak_ptr<Tcp::Peer> weak_peer = peer;
      auto shared = shared_;
      Respond later = [pending, conn_ptr, weak_peer, shared, answering](Response r) {
        {
          std::lock_guard lock(pending->mu);
          if (!pending->handler_returned) {
            pending->inline_answer = std::move(r);
            return;
          }
        }
        finish_later(shared, conn_ptr, weak_peer, answering, std::move(r));
      };
      try {
        match.route->async_handler(request, later);
      } catch (const std::exception& e) {
        spdlog::error("unhandled exception in {} {}: {}", request.method, request.route, e.what());
        std::lock_guard lock(pending->mu);
        if (!pending->inline_answer)
          pending->inline_answer = error_response(500, "internal", "internal error");
      }
      std::lock_guard lock(pending->mu);
      pending->handler_returned = true;
      if (!pending->inline_answer) return std::nullopt;
      response = std::move(pending->inline_answer);
    }
    return send_answer(shared_, conn_ptr, peer, answering, std::move(*response));
  }

  // Sends an answer and counts it; returns whether the connection stays open.
  static bool send_answer(const std::shared_ptr<Shared>& shared_ptr,
                          const std::shared_ptr<Connection>& conn,
                          const std::shared_ptr<Tcp::Peer>& peer, const Answering& a,
                          Response response) {
    Shared& shared = *shared_ptr;
    const bool keep_alive = a.keep_alive && !shared.draining.load();
    add_safety_headers(response, a, shared.html_policy);
    if (shared.sample_data.load()) mark_sample(response);
    std::weak_ptr<Connection> weak_conn = conn;
    std::weak_ptr<Tcp::Peer> weak_peer = peer;
    send_bytes(peer, http1::write_response(response, a.request_id, keep_alive), !keep_alive, conn,
               [shared_ptr, weak_conn, weak_peer] { resume(shared_ptr, weak_conn, weak_peer); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - a.started).count();
    shared.metrics->observe(a.route, a.method, response.status, seconds);
    if (response.status >= 500)
      spdlog::warn("{} {} -> {}", a.method, a.route, response.status);
    else
      spdlog::debug("{} {} -> {} in {:.3f} ms", a.method, a.route, response.status, seconds * 1000);
    shared.metrics->set_in_flight(--shared.in_flight);
    return keep_alive;
  }

  // An asynchronous answer arriving after its handler returned: send it, then go on
  // with the connection's buffered requests, from this thread.
  static void finish_later(const std::shared_ptr<Shared>& shared,
                           const std::shared_ptr<Connection>& conn,
                           const std::weak_ptr<Tcp::Peer>& weak_peer, const Answering& answering,
                           Response response) {
    auto peer = weak_peer.lock();
    if (!peer) {
      shared->metrics->set_in_flight(--shared->in_flight);
      return;
    }
    std::lock_guard lock(conn->mu);
    const bool keep_alive = send_answer(shared, conn, peer, answering, std::move(response));
    if (!after_answer(*conn, keep_alive)) return;
    Adapter resumer(shared);
    resumer.process(conn, peer);
  }

  std::shared_ptr<Shared> shared_;
};

// Closes connections that are too slow, idle too long, or lingering after a refusal.
void sweep(Shared& shared) {
  const std::int64_t now = steady_ms();
  std::vector<std::shared_ptr<Tcp::Peer>> expired;
  {
    std::lock_guard lock(shared.connections_mu);
    for (auto it = shared.connections.begin(); it != shared.connections.end();) {
      auto peer = it->second->peer.lock();
      if (!peer) {
        it = shared.connections.erase(it);
        continue;
      }
      const std::int64_t age = now - it->second->since_ms.load();
      std::int64_t limit = 0;
      switch (it->second->phase.load()) {
        case Phase::idle: limit = shared.options.idle_timeout_ms; break;
        case Phase::head: limit = shared.options.header_timeout_ms; break;
        case Phase::body: limit = shared.options.body_timeout_ms; break;
        case Phase::closing: limit = kLingerMs; break;
        case Phase::awaiting:
          limit = INT64_MAX;
          break;  // the server owes the answer, not the client
        case Phase::paused:
          limit = shared.options.idle_timeout_ms;
          break;  // the client owes a read
      }
      if (age > limit) expired.push_back(std::move(peer));
      ++it;
    }
  }
  for (const auto& peer : expired) ::shutdown(peer->fd(), SHUT_RDWR);
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::unique_ptr<Tcp::Listener> listener;
  std::thread sweeper;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool running = false;

  void sweep_loop() {
    std::unique_lock lock(mu);
    while (!stopping) {
      cv.wait_for(lock, kSweepEvery, [&] { return stopping; });
      lock.unlock();
      sweep(*shared);
      lock.lock();
    }
  }
};

HttpServer::HttpServer(ServerOptions options, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared->html_policy = html_policy(options.form_action_origins);
  impl_->shared->options = std::move(options);
  impl_->shared->router = &router;
  impl_->shared->metrics = &metrics;
}

HttpServer::~HttpServer() { shutdown(std::chrono::milliseconds(0)); }

Status HttpServer::start() {
  const auto& o = impl_->shared->options;
  try {
    impl_->listener = std::make_unique<Tcp::Listener>(Address(o.host, Port(o.port)));
    impl_->listener->init(static_cast<std::size_t>(o.threads),
                          Flags<Tcp::Options>(Tcp::Options::ReuseAddr) | Tcp::Options::NoDelay);
    impl_->listener->setHandler(std::make_shared<Adapter>(impl_->shared));
    impl_->listener->bind();
    impl_->listener->runThreaded();
  } catch (const std::exception& e) {
    return make_error(
        ErrorKind::unavailable, "listen_failed",
        "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
  }
  impl_->running = true;
  impl_->sweeper = std::thread([this] { impl_->sweep_loop(); });
  spdlog::info("listening on http://{}:{}", o.host, port());
  return {};
}

std::uint16_t HttpServer::port() const {
  return impl_->listener ? static_cast<std::uint16_t>(impl_->listener->getPort()) : 0;
}

bool HttpServer::draining() const { return impl_->shared->draining.load(); }

void HttpServer::mark_sample_data(bool sample) { impl_->shared->sample_data = sample; }

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  if (!impl_->running) return;
  impl_->running = false;
  impl_->shared->draining = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    std::lock_guard lock(impl_->shared->connections_mu);
    for (const auto& [id, conn] : impl_->shared->connections)
      if (auto peer = conn->peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->sweeper.join();
  impl_->listener->shutdown();
  spdlog::info("http server stopped");
}

}  // namespace cunhuo::storefront
