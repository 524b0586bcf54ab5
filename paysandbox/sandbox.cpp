#include "paysandbox/sandbox.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/json.hpp"
#include "core/net/http_client.hpp"
#include "payments/wechatpay/crypto.hpp"
#include "payments/wechatpay/protocol.hpp"

namespace cunhuo::paysandbox {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace wx = payments::wechatpay;

constexpr db::Migration kMigrations[] = {
    {"paysandbox", 1, "the payment sandbox's own books",
     "CREATE TABLE IF NOT EXISTS sb_orders (\n"
     "  id {{ID}},\n"
     "  out_trade_no VARCHAR(32) NOT NULL UNIQUE,\n"
     "  prepay_id VARCHAR(64) NOT NULL UNIQUE,\n"
     "  trade_type VARCHAR(10) NOT NULL,\n"
     "  trade_state VARCHAR(12) NOT NULL,\n"
     "  total_fen BIGINT NOT NULL,\n"
     "  description VARCHAR(200) NOT NULL,\n"
     "  notify_url VARCHAR(300) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  success_at BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS sb_refunds (\n"
     "  id {{ID}},\n"
     "  out_refund_no VARCHAR(64) NOT NULL UNIQUE,\n"
     "  out_trade_no VARCHAR(32) NOT NULL,\n"
     "  refund_fen BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS sb_notifications (\n"
     "  id {{ID}},\n"
     "  event_type VARCHAR(40) NOT NULL,\n"
     "  resource TEXT NOT NULL,\n"
     "  notify_url VARCHAR(300) NOT NULL,\n"
     "  attempts INT NOT NULL DEFAULT 0,\n"
     "  next_attempt_at BIGINT NOT NULL,\n"
     "  acknowledged INT NOT NULL DEFAULT 0,\n"
     "  last_status INT NOT NULL DEFAULT 0\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sb_notifications_due ON sb_notifications (acknowledged, "
     "next_attempt_at);\n"
     "CREATE TABLE IF NOT EXISTS sb_certificates (\n"
     "  serial VARCHAR(64) NOT NULL PRIMARY KEY,\n"
     "  certificate TEXT NOT NULL,\n"
     "  private_key TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  not_after BIGINT NOT NULL\n"
     ");\n"},
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string location;
  bool sign = true;  // an API answer; the payer's pages and the bill's file are not signed
};

Reply error_reply(int status, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.begin_object().field("code", code).field("message", message).end_object();
  return Reply{.status = status, .body = w.take()};
}

// A failure of the sandbox itself: logged here, answered with no detail (an error's text
// may name its tables, files or keys).
Reply internal_error(std::string_view what) {
  spdlog::error("paysandbox: {}", what);
  return error_reply(500, "SYSTEM_ERROR", "the sandbox failed; see its log");
}

// Cuts connections that outlive their deadline: shuts the socket down (through a duplicate
// of its descriptor, so a number the kernel reuses is never touched), which ends the
// serving thread's blocking read or write. Beast's own timeouts apply to asynchronous
// operations only.
class Watchdog {
 public:
  Watchdog() : thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Watches `fd` until forget(); returns the handle to forget it by (-1: not watched).
  int watch(int fd, std::chrono::steady_clock::time_point deadline) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return -1;
    std::lock_guard lock(mu_);
    deadlines_[copy] = deadline;
    cv_.notify_all();
    return copy;
  }
  void forget(int handle) {
    if (handle < 0) return;
    std::lock_guard lock(mu_);
    deadlines_.erase(handle);
    ::close(handle);
  }
  // Cuts every connection now (the sandbox stops).
  void cut_all() {
    std::lock_guard lock(mu_);
    for (auto& [fd, deadline] : deadlines_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      const auto now = std::chrono::steady_clock::now();
      for (auto& [fd, deadline] : deadlines_) {
        if (deadline <= now) {
          ::shutdown(fd, SHUT_RDWR);
          deadline = std::chrono::steady_clock::time_point::max();  // cut once
        }
        next = std::min(next, deadline);
      }
      cv_.wait_until(lock, next);
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::chrono::steady_clock::time_point> deadlines_;
  bool stopping_ = false;
  std::thread thread_;
};

std::string padded(const char* prefix, std::int64_t id, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%0*lld", prefix, width, static_cast<long long>(id));
  return buf;
}

std::string transaction_id(std::int64_t order_row) { return padded("4200", order_row, 24); }
std::string refund_id(std::int64_t refund_row) { return padded("5030", refund_row, 24); }

Status write_private(const std::string& path, const std::string& text) {
  return payments::wechatpay::write_secret_file(path, text);
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

// What the payer reads on a closed order (the merchant closed it: its time ran out).
constexpr std::string_view kClosedWords =
    "这笔订单已关闭（付款时间已过或已重新下单），不能再支付。";

std::string state_words(std::string_view state) {
  if (state == wx::kSuccess) return "支付成功";
  if (state == wx::kNotPay) return "待支付";
  if (state == wx::kClosed) return "已关闭";
  if (state == wx::kPayError) return "支付失败";
  return std::string(state);
}

// A query string's value for `key` (the sandbox's own, simple names).
std::string query_value(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.starts_with(key) && pair.size() > key.size() && pair[key.size()] == '=')
      return std::string(pair.substr(key.size() + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

class SandboxImpl final : public Sandbox {
 public:
  SandboxImpl(Options options, const Clock& clock, std::unique_ptr<db::Database> db)
      : options_(std::move(options)),
        clock_(clock),
        db_(std::move(db)),
        notifier_(net::HttpClientOptions{.timeout_ms = kNotifyTimeoutMs}) {}
  ~SandboxImpl() override { stop(); }

  Status init();
  Status start() override;
  void stop() override;
  std::uint16_t port() const override { return port_; }
  std::string base_url() const override {
    return "https://" + options_.host + ":" + std::to_string(port_);
  }
  std::string ca_file() const override { return options_.data_dir + "/tls-cert.pem"; }
  std::string platform_serial() const override {
    std::lock_guard lock(mu_);
    return current_serial_;
  }
  Status pay(const std::string& out_trade_no, bool success) override;
  Result<std::string> decide(const std::string& no, bool success, std::int64_t paid_at_ms,
                             bool in_hand);
  void set_return_url(std::string url) override {
    std::lock_guard lock(mu_);
    options_.return_url = std::move(url);
  }
  Result<Order> find(const std::string& out_trade_no) override;
  Result<int> deliver_due() override;
  void hold_background_delivery(bool held) override { held_ = held; }
  Result<Sealed> seal(const std::string& event_type, const std::string& resource) override;
  Result<Sealed> sign(const std::string& body) override;
  Result<Sealed> sign_with(Key key, const std::string& body) override;
  Status rotate_certificate() override;
  std::string public_key_id() const override {
    return options_.signing == Signing::certificate ? "" : options_.public_key_id;
  }

 private:
  Status load_or_make_tls();
  Status load_public_key();
  // The key an answer to a request naming `serial` in Wechatpay-Serial is signed with.
  Key answer_key(std::string_view serial) const;
  Status load_current_certificate();
  Reply handle(const std::string& method, const std::string& target,
               const http::request<http::string_body>& req, bool tls);
  Status check_merchant(const std::string& method, const std::string& target,
                        const http::request<http::string_body>& req);
  Reply api(const std::string& method, const std::string& target, const std::string& body);
  Reply create(const std::string& kind, const std::string& body);
  Reply query(const std::string& out_trade_no);
  Reply close(const std::string& out_trade_no);
  Reply refund(const std::string& body);
  Reply query_refund(const std::string& out_refund_no);
  Reply bill(const std::string& date);
  Reply bill_file(const std::string& date);
  Reply certificates();
  Reply payer_page(const std::string& prepay_id);
  Reply payer_decides(const std::string& prepay_id, bool success, bool browser,
                      const std::string& body);
  Reply payer_in_hand(const std::string& prepay_id, bool success, const std::string& body);
  Result<std::string> bill_csv(const std::string& date);
  Result<wx::Transaction> transaction_of(const db::Row& r);
  Status queue(db::Session& tx, const std::string& event_type, const std::string& resource,
               const std::string& notify_url);
  void accept_next();
  void serve_waiting();
  void serve(tcp::socket socket);
  void converse(tcp::socket socket);
  template <class Stream>
  void exchange(Stream& stream, beast::flat_buffer& buffer, bool tls);

  Options options_;
  const Clock& clock_;
  std::unique_ptr<db::Database> db_;
  net::HttpClient notifier_;
  wx::RsaKey merchant_key_;
  mutable std::mutex mu_;
  std::mutex delivering_;
  std::string current_serial_;
  wx::RsaKey current_key_;
  wx::RsaKey public_key_;                   // WeChat Pay's private half of the public key
  std::atomic<unsigned> notifications_{0};  // migrating: key and certificate in turn
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::optional<asio::ssl::context> tls_;
  std::uint16_t port_ = 0;
  std::thread server_, sender_;
  std::atomic<bool> held_{false};
  std::condition_variable cv_;
  bool stopping_ = false, started_ = false;
  std::mutex nonces_mu_;
  wx::NonceWindow nonces_;  // the merchant's request nonces of the last 5 minutes
  // Accepted connections waiting for one of the serving threads.
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::deque<tcp::socket> waiting_;
  std::vector<std::thread> workers_;
  bool pool_stopping_ = false;
  std::unique_ptr<Watchdog> watchdog_;
};

Status SandboxImpl::init() {
  merchant_key_ = CUNHUO_TRY(wx::RsaKey::from_public_pem(options_.merchant_public_key_pem));
  CUNHUO_CHECK(load_public_key());
  CUNHUO_CHECK(load_or_make_tls());
  CUNHUO_CHECK(load_current_certificate());
  boost::system::error_code ec;
  const tcp::endpoint at(asio::ip::make_address(options_.host, ec), options_.port);
  if (ec) return make_error(ErrorKind::invalid, "bad_host", "the sandbox listens on an address");
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::unavailable, "cannot_listen",
                      "the sandbox cannot listen on " + options_.host + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  return {};
}

Status SandboxImpl::load_public_key() {
  if (options_.signing == Signing::certificate) return {};
  if (!wx::is_public_key_id(options_.public_key_id))
    return make_error(ErrorKind::invalid, "sandbox_public_key",
                      "a public key's id is PUB_KEY_ID_ followed by digits", "public_key_id");
  public_key_ = CUNHUO_TRY(wx::RsaKey::from_private_pem(options_.public_key_private_pem));
  return {};
}

Sandbox::Key SandboxImpl::answer_key(std::string_view serial) const {
  switch (options_.signing) {
    case Signing::certificate: return Key::certificate;
    case Signing::public_key: return Key::public_key;
    case Signing::migrating:  // as WeChat Pay: the answer follows the request's serial
      return serial == options_.public_key_id ? Key::public_key : Key::certificate;
  }
  return Key::certificate;
}

// The listener's certificate: RSA, self-signed for localhost and 127.0.0.1, made once.
Status SandboxImpl::load_or_make_tls() {
  const std::string cert = options_.data_dir + "/tls-cert.pem";
  const std::string key = options_.data_dir + "/tls-key.pem";
  if (!std::filesystem::exists(cert) || !std::filesystem::exists(key)) {
    auto k = CUNHUO_TRY(wx::RsaKey::generate());
    auto c = CUNHUO_TRY(wx::Certificate::self_signed(k, "cunhuo payment sandbox", "5A4E4442",
                                                     clock_.now_ms() / 1000 - 3600, 3650,
                                                     "DNS:localhost,IP:127.0.0.1"));
    CUNHUO_CHECK(write_private(key, CUNHUO_TRY(k.private_pem())));
    CUNHUO_CHECK(write_private(cert, CUNHUO_TRY(c.pem())));
  }
  tls_.emplace(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  tls_->use_certificate_chain_file(cert, ec);
  if (!ec) tls_->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) return make_error(ErrorKind::unavailable, "sandbox_tls", "cannot load " + cert);
  return {};
}

Status SandboxImpl::load_current_certificate() {
  auto row = CUNHUO_TRY(db_->read([](db::Session& s) {
    return s.query_one(
        "SELECT serial, private_key FROM sb_certificates ORDER BY created_at DESC, serial DESC "
        "LIMIT 1");
  }));
  if (!row) return rotate_certificate();
  auto key = CUNHUO_TRY(wx::RsaKey::from_private_pem(row->str(1)));
  std::lock_guard lock(mu_);
  current_serial_ = row->str(0);
  current_key_ = std::move(key);
  return {};
}

Status SandboxImpl::rotate_certificate() {
  auto key = CUNHUO_TRY(wx::RsaKey::generate());
  std::string serial = wx::sha1_hex(wx::random_token(32)).substr(0, 40);
  for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  serial[0] = '5';  // a serial with no leading zero keeps its hex spelling
  const std::int64_t now_s = clock_.now_ms() / 1000;
  auto cert = CUNHUO_TRY(wx::Certificate::self_signed(key, "Tenpay.com Root CA (sandbox)", serial,
                                                      now_s - 60, options_.certificate_days));
  const std::string cert_pem = CUNHUO_TRY(cert.pem()), key_pem = CUNHUO_TRY(key.private_pem());
  CUNHUO_CHECK(db_->write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(tx.exec(
        "INSERT INTO sb_certificates (serial, certificate, private_key, created_at, not_after) "
        "VALUES (?, ?, ?, ?, ?)",
        {cert.serial(), cert_pem, key_pem, clock_.now_ms(), cert.not_after_s()}));
    return {};
  }));
  std::lock_guard lock(mu_);
  spdlog::info("paysandbox: platform certificate {} in use", cert.serial());
  current_serial_ = cert.serial();
  current_key_ = std::move(key);
  return {};
}

Status SandboxImpl::start() {
  if (started_) return {};
  started_ = true;
  stopping_ = false;
  pool_stopping_ = false;
  watchdog_ = std::make_unique<Watchdog>();
  for (int i = 0; i < kServeThreads; ++i) workers_.emplace_back([this] { serve_waiting(); });
  io_.restart();
  server_ = std::thread([this] {
    accept_next();
    io_.run();
  });
  if (options_.deliver_in_background)
    sender_ = std::thread([this] {
      std::unique_lock held(mu_);
      while (!stopping_) {
        held.unlock();
        auto sent = held_ ? Result<int>(0) : deliver_due();
        if (!sent.ok()) spdlog::warn("paysandbox: delivering failed: {}", sent.error().message);
        held.lock();
        cv_.wait_for(held, std::chrono::milliseconds(options_.poll_ms), [&] { return stopping_; });
      }
    });
  spdlog::info("paysandbox: WeChat Pay v3 sandbox at {}", base_url());
  return {};
}

void SandboxImpl::stop() {
  if (!started_) return;
  started_ = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  asio::post(io_, [this] { acceptor_.close(); });
  if (server_.joinable()) server_.join();
  {
    std::lock_guard lock(pool_mu_);
    pool_stopping_ = true;
    waiting_.clear();
  }
  pool_cv_.notify_all();
  watchdog_->cut_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  watchdog_.reset();
}

// The accepting thread only queues: a connection is served by one of the pool's threads.
void SandboxImpl::accept_next() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor closed: the sandbox stops
    {
      std::lock_guard lock(pool_mu_);
      if (waiting_.size() < kMaxWaitingConnections) {
        waiting_.push_back(std::move(socket));
        pool_cv_.notify_one();
      } else {
        spdlog::warn("paysandbox: {} connections waiting: one more closed", waiting_.size());
      }
    }
    accept_next();
  });
}

void SandboxImpl::serve_waiting() {
  for (;;) {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return pool_stopping_ || !waiting_.empty(); });
    if (pool_stopping_) return;
    tcp::socket socket = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    serve(std::move(socket));
  }
}

// One connection, cut by the watchdog when it outlives its deadline.
void SandboxImpl::serve(tcp::socket socket) {
  const int watched = watchdog_->watch(
      socket.native_handle(), std::chrono::steady_clock::now() +
                                  std::chrono::milliseconds(options_.connection_deadline_ms));
  converse(std::move(socket));
  watchdog_->forget(watched);
}

// TLS for the API, plain HTTP for the payer's page (a browser opening the H5 link need not
// trust the sandbox's certificate).
void SandboxImpl::converse(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  beast::tcp_stream plain(std::move(socket));
  const bool tls = beast::detect_ssl(plain, buffer, ec);
  if (ec) return;
  if (!tls) return exchange(plain, buffer, false);
  asio::ssl::stream<beast::tcp_stream> stream(std::move(plain), *tls_);
  // The bytes detect_ssl read are the handshake's first, all taken by it.
  stream.handshake(asio::ssl::stream_base::server, buffer.data(), ec);
  if (ec) return;  // a client that refused the certificate has hung up
  buffer.consume(buffer.size());
  exchange(stream, buffer, true);
}

template <class Stream>
void SandboxImpl::exchange(Stream& stream, beast::flat_buffer& buffer, bool tls) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  Reply reply;
  Key key = answer_key("");
  if (ec == http::error::header_limit) {
    reply = error_reply(431, "PARAM_ERROR", "the request's header is over 8 KiB");
    reply.sign = false;
  } else if (ec == http::error::body_limit) {
    reply = error_reply(413, "PARAM_ERROR", "the request's body is over 1 MiB");
    reply.sign = false;
  } else if (ec) {
    return;
  } else {
    const auto& req = parser.get();
    key = answer_key(std::string(req[wx::kSerialHeader]));
    try {
      reply = handle(std::string(req.method_string()), std::string(req.target()), req, tls);
    } catch (const std::exception& e) {
      reply = internal_error(e.what());
    }
  }
  http::response<http::string_body> res(static_cast<http::status>(reply.status), 11);
  res.set(http::field::content_type, reply.content_type);
  res.set("Request-ID", wx::random_token(16));
  if (!reply.location.empty()) res.set(http::field::location, reply.location);
  if (reply.sign) {
    auto h = sign_with(key, reply.body);
    if (h.ok()) {
      res.set(wx::kSerialHeader, h->serial);
      res.set(wx::kTimestampHeader, h->timestamp);
      res.set(wx::kNonceHeader, h->nonce);
      res.set(wx::kSignatureHeader, h->signature);
    }
  }
  res.body() = reply.body;
  res.keep_alive(false);
  res.prepare_payload();
  http::write(stream, res, ec);
}

Reply SandboxImpl::handle(const std::string& method, const std::string& target,
                          const http::request<http::string_body>& req, bool tls) {
  const std::string path = target.substr(0, target.find('?'));
  if (path.starts_with("/pay/")) {
    std::string rest = path.substr(5);
    const auto slash = rest.find('/');
    const std::string prepay = rest.substr(0, slash);
    if (method == "GET" && slash == std::string::npos) return payer_page(prepay);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    const bool browser =
        std::string(req[http::field::content_type]).starts_with("application/x-www-form");
    if (method == "POST" && (action == "confirm" || action == "fail"))
      return payer_decides(prepay, action == "confirm", browser, req.body());
    return Reply{.status = 404,
                 .body = "没有这个页面",
                 .content_type = "text/plain; charset=utf-8",
                 .sign = false};
  }
  if (!path.starts_with("/v3/")) return error_reply(404, "NOT_FOUND", "no such resource");
  if (!tls) return error_reply(403, "NO_AUTH", "the API is served over HTTPS only");
  if (auto ok = check_merchant(method, target, req); !ok.ok())
    return ok.error().code == "FREQUENCY_LIMITED"
               ? error_reply(429, "FREQUENCY_LIMITED", ok.error().message)
               : error_reply(401, "SIGN_ERROR", ok.error().message);
  // A request naming a public key's id must name this merchant's (WeChat Pay: 400).
  if (const std::string serial(req[wx::kSerialHeader]);
      options_.signing != Signing::certificate && serial.starts_with(wx::kPublicKeyIdPrefix) &&
      serial != options_.public_key_id)
    return error_reply(400, "INVALID_REQUEST", "Wechatpay-Serial names another public key");
  return api(method, target, req.body());
}

Status SandboxImpl::check_merchant(const std::string& method, const std::string& target,
                                   const http::request<http::string_body>& req) {
  const auto a = CUNHUO_TRY(wx::parse_authorization(std::string(req[http::field::authorization])));
  auto refuse = [](const char* why) {
    return make_error(ErrorKind::unauthorized, "SIGN_ERROR", why);
  };
  // The signature first: nothing the header says is looked at before it is the merchant's.
  if (!merchant_key_.verifies(
          wx::request_message(method, target, a.timestamp, a.nonce_str, req.body()), a.signature))
    return refuse("the signature does not verify");
  if (a.mchid != options_.mchid) return refuse("unknown merchant");
  if (a.serial_no != options_.merchant_serial) return refuse("unknown merchant certificate");
  const std::int64_t now_s = clock_.now_ms() / 1000;
  if (!wx::fresh_timestamp(a.timestamp, now_s))
    return refuse("the request's timestamp is too far from now");
  std::lock_guard lock(nonces_mu_);
  switch (nonces_.take(a.nonce_str, *wx::parse_timestamp(a.timestamp), now_s)) {
    case wx::NonceWindow::Verdict::first: return {};
    case wx::NonceWindow::Verdict::replayed: return refuse("the request's nonce was used before");
    case wx::NonceWindow::Verdict::full:
      return make_error(ErrorKind::unavailable, "FREQUENCY_LIMITED", "too many requests");
  }
  return refuse("unreachable");
}

Reply SandboxImpl::api(const std::string& method, const std::string& target,
                       const std::string& body) {
  const std::string path = target.substr(0, target.find('?'));
  constexpr std::string_view kTx = "/v3/pay/transactions/";
  constexpr std::string_view kByNo = "/v3/pay/transactions/out-trade-no/";
  constexpr std::string_view kRefunds = "/v3/refund/domestic/refunds";
  if (method == "POST" && path.starts_with(kTx) && !path.starts_with(kByNo))
    return create(path.substr(kTx.size()), body);
  if (path.starts_with(kByNo)) {
    std::string no = path.substr(kByNo.size());
    if (method == "POST" && no.ends_with("/close")) return close(no.substr(0, no.size() - 6));
    if (method == "GET" && no.find('/') == std::string::npos) {
      if (query_value(target, "mchid") != options_.mchid)
        return error_reply(400, "PARAM_ERROR", "mchid does not match");
      return query(no);
    }
  }
  if (method == "POST" && path == kRefunds) return refund(body);
  if (method == "GET" && path.starts_with(std::string(kRefunds) + "/"))
    return query_refund(path.substr(kRefunds.size() + 1));
  if (method == "GET" && path == "/v3/bill/tradebill")
    return bill(query_value(target, "bill_date"));
  if (method == "GET" && path == "/v3/billdownload/file")
    return bill_file(query_value(target, "token"));
  if (method == "GET" && path == "/v3/certificates") {
    // A merchant of the public key alone has no platform certificate to download.
    if (options_.signing == Signing::public_key)
      return error_reply(404, "RESOURCE_NOT_EXISTS", "this merchant verifies with the public key");
    return certificates();
  }
  return error_reply(404, "NOT_FOUND", "no such resource");
}

Result<wx::Transaction> SandboxImpl::transaction_of(const db::Row& r) {
  // id, out_trade_no, trade_type, trade_state, total_fen, success_at
  wx::Transaction t{.appid = options_.appid,
                    .mchid = options_.mchid,
                    .out_trade_no = r.str(1),
                    .transaction_id = {},
                    .trade_type = r.str(2),
                    .trade_state = r.str(3),
                    .success_time = {},
                    .total = r.i64(4),
                    .currency = "CNY"};
  if (t.trade_state == wx::kSuccess || t.trade_state == wx::kRefund) {
    t.transaction_id = transaction_id(r.i64(0));
    t.success_time = wx::beijing_time(r.opt_i64(5).value_or(0) / 1000);
  }
  return t;
}

constexpr const char* kOrderColumns =
    "id, out_trade_no, trade_type, trade_state, total_fen, success_at, prepay_id, notify_url";

Reply SandboxImpl::create(const std::string& kind, const std::string& body) {
  if (kind != "native" && kind != "jsapi" && kind != "h5")
    return error_reply(404, "NOT_FOUND", "no such trade type");
  auto doc = Json::parse(body);
  if (!doc.ok()) return error_reply(400, "PARAM_ERROR", "the body is not JSON");
  auto text = [&](const Json* j, const char* key) {
    const Json* v = j != nullptr ? j->find(key) : nullptr;
    return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
  };
  const Json* amount = doc->find("amount");
  const Json* total = amount != nullptr ? amount->find("total") : nullptr;
  const std::string no = text(&*doc, "out_trade_no"), notify = text(&*doc, "notify_url");
  if (text(&*doc, "mchid") != options_.mchid || text(&*doc, "appid") != options_.appid)
    return error_reply(400, "PARAM_ERROR", "mchid or appid does not match");
  if (no.size() < 6 || no.size() > 32 || total == nullptr || total->type() != Json::Type::integer ||
      total->as_integer() <= 0 || notify.empty() || text(&*doc, "description").empty())
    return error_reply(400, "PARAM_ERROR",
                       "out_trade_no, description, notify_url and amount.total are required");
  if (kind == "jsapi" && text(doc->find("payer"), "openid").empty())
    return error_reply(400, "PARAM_ERROR", "a JSAPI order names payer.openid");
  const std::string prepay = "wx" + wx::random_token(30);
  auto made = db_->write([&](db::Session& tx) -> Result<Reply> {
    CUNHUO_TRY(tx.exec(
        std::string(tx.insert_ignore()) +
            " INTO sb_orders (out_trade_no, prepay_id, trade_type, trade_state, "
            "total_fen, description, notify_url, created_at) VALUES (?, ?, ?, "
            "'NOTPAY', ?, ?, ?, ?)",
        {no, prepay,
         kind == "h5"       ? "MWEB"
         : kind == "native" ? "NATIVE"
                            : "JSAPI",
         total->as_integer(), text(&*doc, "description").substr(0, 200), notify, clock_.now_ms()}));
    auto row = CUNHUO_TRY(tx.query_one(
        std::string("SELECT ") + kOrderColumns + " FROM sb_orders WHERE out_trade_no = ?", {no}));
    // The same out_trade_no again (a retry) answers the same prepay; never a second order.
    if (row->i64(4) != total->as_integer())
      return error_reply(400, "INVALID_REQUEST", "out_trade_no was used with another amount");
    if (row->str(3) == wx::kSuccess) return error_reply(400, "ORDERPAID", "the order is paid");
    if (row->str(3) == wx::kClosed) return error_reply(400, "ORDER_CLOSED", "the order is closed");
    const std::string link =
        "http://" + options_.host + ":" + std::to_string(port_) + "/pay/" + row->str(6);
    JsonWriter w;
    w.begin_object();
    if (kind == "native") w.field("code_url", link);
    if (kind == "h5") w.field("h5_url", link);
    if (kind == "jsapi") w.field("prepay_id", row->str(6));
    w.end_object();
    return Reply{.status = 200, .body = w.take()};
  });
  return made.ok() ? *made : internal_error(made.error().message);
}

Reply SandboxImpl::query(const std::string& no) {
  auto row = db_->read([&](db::Session& s) {
    return s.query_one(
        std::string("SELECT ") + kOrderColumns + " FROM sb_orders WHERE out_trade_no = ?", {no});
  });
  if (!row.ok()) return internal_error(row.error().message);
  if (!*row) return error_reply(404, "ORDER_NOT_EXIST", "no such order");
  auto t = transaction_of(**row);
  return Reply{.status = 200, .body = wx::encode(*t)};
}

Reply SandboxImpl::close(const std::string& no) {
  auto r = db_->write([&](db::Session& tx) -> Result<Reply> {
    auto row =
        CUNHUO_TRY(tx.query_one("SELECT trade_state FROM sb_orders WHERE out_trade_no = ?", {no}));
    if (!row) return error_reply(404, "ORDER_NOT_EXIST", "no such order");
    if (row->str(0) == wx::kSuccess || row->str(0) == wx::kRefund)
      return error_reply(400, "ORDERPAID", "a paid order cannot be closed");
    CUNHUO_TRY(tx.exec("UPDATE sb_orders SET trade_state = 'CLOSED' WHERE out_trade_no = ?", {no}));
    return Reply{.status = 204, .body = ""};
  });
  return r.ok() ? *r : internal_error(r.error().message);
}

Status SandboxImpl::queue(db::Session& tx, const std::string& event_type,
                          const std::string& resource, const std::string& notify_url) {
  const std::int64_t now = clock_.now_ms();
  auto add = [&](std::int64_t at) {
    return tx.exec(
        "INSERT INTO sb_notifications (event_type, resource, notify_url, next_attempt_at) "
        "VALUES (?, ?, ?, ?)",
        {event_type, resource, notify_url, at});
  };
  for (int copy = 0; copy <= options_.duplicates; ++copy) CUNHUO_TRY(add(now));
  if (options_.late_ms > 0) CUNHUO_TRY(add(now + options_.late_ms));
  return {};
}

// Records the payer's choice and returns the transaction as notified. With `in_hand`
// nothing is queued, and an order paid before answers its transaction again (a demo load
// resumed after a crash, as a provider resends a notification).
Result<std::string> SandboxImpl::decide(const std::string& no, bool success,
                                        std::int64_t paid_at_ms, bool in_hand) {
  auto resource = CUNHUO_TRY(db_->write([&](db::Session& tx) -> Result<std::string> {
    auto row = CUNHUO_TRY(tx.query_one(std::string("SELECT ") + kOrderColumns +
                                           " FROM sb_orders WHERE out_trade_no = ? OR "
                                           "prepay_id = ?",
                                       {no, no}));
    if (!row) return make_error(ErrorKind::not_found, "not_found", "no such order");
    if (in_hand && success && row->str(3) == wx::kSuccess)
      return wx::encode(CUNHUO_TRY(transaction_of(*row)));
    if (row->str(3) != wx::kNotPay)
      return make_error(ErrorKind::conflict, "already_decided",
                        "this order is already " + state_words(row->str(3)));
    CUNHUO_TRY(tx.exec("UPDATE sb_orders SET trade_state = ?, success_at = ? WHERE id = ?",
                       {success ? "SUCCESS" : "PAYERROR",
                        success ? db::Value(paid_at_ms) : db::Value(), row->i64(0)}));
    auto paid = CUNHUO_TRY(tx.query_one(
        std::string("SELECT ") + kOrderColumns + " FROM sb_orders WHERE id = ?", {row->i64(0)}));
    const std::string t = wx::encode(CUNHUO_TRY(transaction_of(*paid)));
    // WeChat Pay notifies successes only; the sandbox also tells of a failure the payer
    // chose (TRANSACTION.FAIL, trade_state PAYERROR), so the platform's intent fails.
    if (!in_hand)
      CUNHUO_CHECK(queue(tx, success ? "TRANSACTION.SUCCESS" : "TRANSACTION.FAIL", t, row->str(7)));
    return t;
  }));
  cv_.notify_all();
  return resource;
}

Status SandboxImpl::pay(const std::string& no, bool success) {
  CUNHUO_TRY(decide(no, success, clock_.now_ms(), false));
  return {};
}

Result<Order> SandboxImpl::find(const std::string& no) {
  auto row = CUNHUO_TRY(db_->read([&](db::Session& s) {
    return s.query_one(std::string("SELECT ") + kOrderColumns +
                           " FROM sb_orders WHERE out_trade_no = ? OR prepay_id = ?",
                       {no, no});
  }));
  if (!row) return make_error(ErrorKind::not_found, "not_found", "no such order");
  const auto t = CUNHUO_TRY(transaction_of(*row));
  return Order{t.out_trade_no, t.transaction_id, row->str(6), t.trade_type, t.trade_state, t.total};
}

Reply SandboxImpl::refund(const std::string& body) {
  auto doc = Json::parse(body);
  if (!doc.ok()) return error_reply(400, "PARAM_ERROR", "the body is not JSON");
  auto text = [&](const char* key) {
    const Json* v = doc->find(key);
    return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
  };
  const Json* amount = doc->find("amount");
  auto integer = [&](const char* key) -> std::int64_t {
    const Json* v = amount != nullptr ? amount->find(key) : nullptr;
    return v != nullptr && v->type() == Json::Type::integer ? v->as_integer() : -1;
  };
  const std::string no = text("out_trade_no"), refund_no = text("out_refund_no");
  const std::int64_t refund = integer("refund"), total = integer("total");
  for (char c : refund_no)
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("_-|*@").find(c) == std::string_view::npos)
      return error_reply(400, "PARAM_ERROR", "out_refund_no has a character it may not");
  if (refund_no.empty() || refund <= 0)
    return error_reply(400, "PARAM_ERROR", "out_refund_no and amount.refund are required");
  const std::string notify = text("notify_url");
  auto r = db_->write([&](db::Session& tx) -> Result<Reply> {
    auto order = CUNHUO_TRY(tx.query_one(
        std::string("SELECT ") + kOrderColumns + " FROM sb_orders WHERE out_trade_no = ?", {no}));
    if (!order) return error_reply(404, "RESOURCE_NOT_EXISTS", "no such order");
    auto before = CUNHUO_TRY(tx.query_one(
        "SELECT id, refund_fen, created_at FROM sb_refunds WHERE out_refund_no = ?", {refund_no}));
    std::int64_t id = 0, at = clock_.now_ms();
    if (before) {  // the same refund again: the same answer, no second refund
      id = before->i64(0);
      at = before->i64(2);
    } else {
      if (order->str(3) != wx::kSuccess && order->str(3) != wx::kRefund)
        return error_reply(400, "INVALID_REQUEST", "the order is not paid");
      if (total != order->i64(4))
        return error_reply(400, "INVALID_REQUEST", "amount.total is not the order's");
      auto sum = CUNHUO_TRY(tx.query_one(
          "SELECT COALESCE(SUM(refund_fen), 0) FROM sb_refunds WHERE out_trade_no = ?", {no}));
      if (sum->i64(0) + refund > order->i64(4))
        return error_reply(400, "INVALID_REQUEST", "refunds would exceed the payment");
      CUNHUO_TRY(
          tx.exec("INSERT INTO sb_refunds (out_refund_no, out_trade_no, refund_fen, "
                  "created_at) VALUES (?, ?, ?, ?)",
                  {refund_no, no, refund, at}));
      id = CUNHUO_TRY(tx.last_insert_id());
    }
    wx::RefundRecord rec{.mchid = options_.mchid,
                         .refund_id = refund_id(id),
                         .out_refund_no = refund_no,
                         .transaction_id = transaction_id(order->i64(0)),
                         .out_trade_no = no,
                         .status = "SUCCESS",
                         .success_time = wx::beijing_time(at / 1000),
                         .refund = before ? before->i64(1) : refund,
                         .total = order->i64(4)};
    if (!before && !notify.empty())
      CUNHUO_CHECK(queue(tx, "REFUND.SUCCESS", wx::encode(rec), notify));
    // As WeChat Pay does, the first answer is PROCESSING (the notification settles it); the
    // sandbox's refunds complete at once, so asking again answers SUCCESS.
    rec.mchid.clear();
    if (!before) {
      rec.status = "PROCESSING";
      rec.success_time.clear();
    }
    return Reply{.status = 200, .body = wx::encode(rec)};
  });
  cv_.notify_all();
  return r.ok() ? *r : internal_error(r.error().message);
}

Reply SandboxImpl::query_refund(const std::string& refund_no) {
  auto r = db_->read([&](db::Session& s) -> Result<Reply> {
    auto row = CUNHUO_TRY(s.query_one(
        "SELECT r.id, r.out_trade_no, r.refund_fen, r.created_at, o.id, o.total_fen FROM "
        "sb_refunds r JOIN sb_orders o ON o.out_trade_no = r.out_trade_no WHERE "
        "r.out_refund_no = ?",
        {refund_no}));
    if (!row) return error_reply(404, "RESOURCE_NOT_EXISTS", "no such refund");
    const wx::RefundRecord rec{.refund_id = refund_id(row->i64(0)),
                               .out_refund_no = refund_no,
                               .transaction_id = transaction_id(row->i64(4)),
                               .out_trade_no = row->str(1),
                               .status = "SUCCESS",
                               .success_time = wx::beijing_time(row->i64(3) / 1000),
                               .refund = row->i64(2),
                               .total = row->i64(5)};
    return Reply{.status = 200, .body = wx::encode(rec)};
  });
  return r.ok() ? *r : internal_error(r.error().message);
}

Result<std::string> SandboxImpl::bill_csv(const std::string& date) {
  auto day = parse_date(date);
  if (!day) return make_error(ErrorKind::invalid, "PARAM_ERROR", "bill_date is YYYY-MM-DD");
  const std::int64_t from = shanghai_midnight_ms(*day), to = from + 86'400'000;
  return db_->read([&](db::Session& s) -> Result<std::string> {
    std::vector<wx::TradeBillLine> lines;
    auto when = [](std::int64_t ms) {
      std::string t = wx::beijing_time(ms / 1000).substr(0, 19);
      t[10] = ' ';
      return t;
    };
    for (const auto& r :
         CUNHUO_TRY(s.query("SELECT id, out_trade_no, total_fen, success_at FROM sb_orders WHERE "
                            "success_at >= ? AND success_at < ? ORDER BY id",
                            {from, to})))
      lines.push_back(wx::TradeBillLine{.trade_time = when(r.i64(3)),
                                        .transaction_id = transaction_id(r.i64(0)),
                                        .out_trade_no = r.str(1),
                                        .trade_state = "SUCCESS",
                                        .total = r.i64(2)});
    for (const auto& r : CUNHUO_TRY(s.query(
             "SELECT r.id, r.out_refund_no, r.out_trade_no, r.refund_fen, r.created_at, o.id, "
             "o.total_fen FROM sb_refunds r JOIN sb_orders o ON o.out_trade_no = r.out_trade_no "
             "WHERE r.created_at >= ? AND r.created_at < ? ORDER BY r.id",
             {from, to})))
      lines.push_back(wx::TradeBillLine{.trade_time = when(r.i64(4)),
                                        .transaction_id = transaction_id(r.i64(5)),
                                        .out_trade_no = r.str(2),
                                        .trade_state = "REFUND",
                                        .refund_id = refund_id(r.i64(0)),
                                        .out_refund_no = r.str(1),
                                        .total = r.i64(6),
                                        .refund = r.i64(3)});
    return wx::format_trade_bill(options_.appid, options_.mchid, lines);
  });
}

Reply SandboxImpl::bill(const std::string& date) {
  auto csv = bill_csv(date);
  if (!csv.ok()) return error_reply(400, "PARAM_ERROR", csv.error().message);
  JsonWriter w;
  w.begin_object().field("hash_type", "SHA1").field("hash_value", wx::sha1_hex(*csv));
  w.field("download_url", base_url() + "/v3/billdownload/file?token=" + date).end_object();
  return Reply{.status = 200, .body = w.take()};
}

Reply SandboxImpl::bill_file(const std::string& date) {
  auto csv = bill_csv(date);
  if (!csv.ok()) return error_reply(400, "PARAM_ERROR", csv.error().message);
  return Reply{.status = 200,
               .body = *csv,
               .content_type = "text/plain; charset=utf-8",
               .location = {},
               .sign = false};
}

Reply SandboxImpl::certificates() {
  auto rows = db_->read([&](db::Session& s) {
    return s.query(
        "SELECT serial, certificate, created_at, not_after FROM sb_certificates WHERE not_after "
        ">= ? ORDER BY created_at",
        {clock_.now_ms() / 1000});
  });
  if (!rows.ok()) return internal_error(rows.error().message);
  JsonWriter w;
  w.begin_object().key("data").begin_array();
  for (const auto& r : *rows) {
    const std::string nonce = wx::random_token(wx::kGcmNonceBytes);
    auto sealed = wx::aes_gcm_seal(options_.apiv3_key, nonce, wx::kCertificateResource, r.str(1));
    if (!sealed.ok()) return internal_error("cannot seal a certificate");
    w.begin_object().field("serial_no", r.str(0));
    w.field("effective_time", wx::beijing_time(r.i64(2) / 1000));
    w.field("expire_time", wx::beijing_time(r.i64(3)));
    w.key("encrypt_certificate").begin_object().field("algorithm", wx::kAeadAlgorithm);
    w.field("nonce", nonce).field("associated_data", wx::kCertificateResource);
    w.field("ciphertext", *sealed);
    w.end_object().end_object();
  }
  w.end_array().end_object();
  return Reply{.status = 200, .body = w.take()};
}

Reply SandboxImpl::payer_page(const std::string& prepay) {
  auto order = find(prepay);
  if (!order.ok() || order->prepay_id != prepay)
    return Reply{.status = 404,
                 .body = "没有这笔支付",
                 .content_type = "text/plain; charset=utf-8",
                 .sign = false};
  const std::string base = "/pay/" + html_escape(prepay);
  std::string html =
      "<!doctype html><html lang=zh-CN><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width\"><link rel=icon href=\"data:,\">"
      "<title>支付沙箱</title>"
      // A phone's thumb: buttons the full width and 48 px tall.
      "<style>body{font:16px/1.5 sans-serif;margin:1rem}button{display:block;width:100%;"
      "min-height:48px;font-size:1.1rem;margin:.5rem 0}</style></head><body>"
      "<h1>村货 · 支付沙箱</h1><p>这是演示用的支付页面，不会扣真钱。</p>"
      "<p>订单号 " +
      html_escape(order->out_trade_no) + "</p><p>金额 <b>¥" + wx::yuan(order->total) +
      "</b></p><p>状态 <span id=status>" + state_words(order->trade_state) + "</span></p>";
  if (order->trade_state == wx::kClosed)
    html += "<p id=refused>" + std::string(kClosedWords) + "</p>";
  if (order->trade_state == wx::kNotPay)
    html += "<form method=post action=\"" + base +
            "/confirm\"><button id=confirm>确认支付</button></form><form method=post action=\"" +
            base + "/fail\"><button id=fail>支付失败</button></form>";
  html += "</body></html>";
  return Reply{
      .status = 200, .body = html, .content_type = "text/html; charset=utf-8", .sign = false};
}

Reply SandboxImpl::payer_decides(const std::string& prepay, bool success, bool browser,
                                 const std::string& body) {
  auto order = find(prepay);
  if (!order.ok() || order->prepay_id != prepay)
    return Reply{.status = 404,
                 .body = "没有这笔支付",
                 .content_type = "text/plain; charset=utf-8",
                 .sign = false};
  if (!browser && !body.empty()) {
    if (!options_.back_dated_payments) {
      Reply off = error_reply(403, "NO_AUTH", "back-dated payments are not offered here");
      off.sign = false;
      return off;
    }
    return payer_in_hand(prepay, success, body);
  }
  auto paid = pay(prepay, success);
  if (browser) {
    std::lock_guard lock(mu_);
    return Reply{.status = 303,
                 .body = "",
                 .content_type = "text/html; charset=utf-8",
                 .location = options_.return_url.empty() ? "/pay/" + prepay : options_.return_url,
                 .sign = false};
  }
  if (!paid.ok())
    return error_reply(
        409, "ORDER_DECIDED",
        order->trade_state == wx::kClosed ? std::string(kClosedWords) : paid.error().message);
  auto now = find(prepay);
  JsonWriter w;
  w.begin_object().field("out_trade_no", now->out_trade_no);
  w.field("trade_state", now->trade_state).end_object();
  return Reply{.status = 200, .body = w.take(), .sign = false};
}

// The demo's extension: {"in_hand": true, "paid_at_ms": N} pays at that moment of the
// demo's history and answers the signed notification instead of sending it, for the loader
// to hand to the platform's verification (nothing listens while the demo loads).
Reply SandboxImpl::payer_in_hand(const std::string& prepay, bool success, const std::string& body) {
  auto doc = Json::parse(body);
  const Json* in_hand = doc.ok() ? doc->find("in_hand") : nullptr;
  const Json* at = doc.ok() ? doc->find("paid_at_ms") : nullptr;
  if (in_hand == nullptr || in_hand->type() != Json::Type::boolean || !in_hand->as_bool() ||
      at == nullptr || at->type() != Json::Type::integer)
    return error_reply(400, "PARAM_ERROR", "in_hand: true and paid_at_ms are required");
  auto resource = decide(prepay, success, at->as_integer(), true);
  if (!resource.ok()) return error_reply(409, "ORDER_DECIDED", resource.error().message);
  auto sealed = seal(success ? "TRANSACTION.SUCCESS" : "TRANSACTION.FAIL", *resource);
  if (!sealed.ok()) return internal_error(sealed.error().message);
  JsonWriter w;
  w.begin_object().field("serial", sealed->serial).field("timestamp", sealed->timestamp);
  w.field("nonce", sealed->nonce).field("signature", sealed->signature);
  w.field("body", sealed->body).end_object();
  return Reply{.status = 200, .body = w.take(), .sign = false};
}

Result<Sandbox::Sealed> SandboxImpl::seal(const std::string& event_type,
                                          const std::string& resource) {
  const std::string nonce = wx::random_token(wx::kGcmNonceBytes);
  const auto kind = wx::resource_kind_of(event_type);
  if (!kind) return make_error(ErrorKind::invalid, "PARAM_ERROR", "no such event type");
  const bool refund = *kind == wx::kRefundResource;
  const std::string aad(*kind);
  // A notification sent again (a duplicate, a late copy, a retry) keeps its id.
  wx::Envelope e{.id = "EV-" + wx::sha1_hex(event_type + resource).substr(0, 32),
                 .create_time = wx::beijing_time(clock_.now_ms() / 1000),
                 .event_type = event_type,
                 .resource_type = "encrypt-resource",
                 .summary = refund ? "退款成功" : "支付成功",
                 .resource = wx::Resource{.algorithm = std::string(wx::kAeadAlgorithm),
                                          .original_type = aad,
                                          .ciphertext = CUNHUO_TRY(wx::aes_gcm_seal(
                                              options_.apiv3_key, nonce, aad, resource)),
                                          .associated_data = aad,
                                          .nonce = nonce}};
  return sign(wx::encode(e));
}

Result<Sandbox::Sealed> SandboxImpl::sign(const std::string& body) {
  switch (options_.signing) {
    case Signing::certificate: return sign_with(Key::certificate, body);
    case Signing::public_key: return sign_with(Key::public_key, body);
    case Signing::migrating:
      return sign_with(notifications_++ % 2 == 0 ? Key::public_key : Key::certificate, body);
  }
  return sign_with(Key::certificate, body);
}

Result<Sandbox::Sealed> SandboxImpl::sign_with(Key which, const std::string& body) {
  std::string serial;
  wx::RsaKey key;
  if (which == Key::public_key && options_.signing == Signing::certificate)
    return make_error(ErrorKind::invalid, "no_public_key", "this sandbox signs with certificates");
  if (which == Key::public_key) {
    serial = options_.public_key_id;
    key = public_key_;
  } else {
    std::lock_guard lock(mu_);
    serial = current_serial_;
    key = current_key_;
  }
  auto h = CUNHUO_TRY(wx::sign_body(key, serial, clock_.now_ms() / 1000, body));
  return Sealed{h.serial, h.timestamp, h.nonce, h.signature, body};
}

Result<int> SandboxImpl::deliver_due() {
  // One pass at a time (the background loop and a test's own call): none is sent twice.
  std::lock_guard pass(delivering_);
  auto due = CUNHUO_TRY(db_->read([&](db::Session& s) {
    return s.query(
        "SELECT id, event_type, resource, notify_url, attempts FROM sb_notifications WHERE "
        "acknowledged = 0 AND next_attempt_at <= ? AND attempts < ? ORDER BY next_attempt_at, "
        "id LIMIT 100",
        {clock_.now_ms(), options_.max_attempts});
  }));
  int acknowledged = 0;
  for (const auto& row : due) {
    auto sealed = CUNHUO_TRY(seal(row.str(1), row.str(2)));
    auto answer =
        notifier_.send(net::HttpRequest{.method = "POST",
                                        .url = row.str(3),
                                        .headers = {{"Content-Type", "application/json"},
                                                    {wx::kSerialHeader, sealed.serial},
                                                    {wx::kTimestampHeader, sealed.timestamp},
                                                    {wx::kNonceHeader, sealed.nonce},
                                                    {wx::kSignatureHeader, sealed.signature}},
                                        .body = sealed.body});
    const int status = answer.ok() ? answer->status : 0;
    const bool ok = status >= 200 && status < 300;
    const int attempts = static_cast<int>(row.i64(4)) + 1;
    const std::int64_t wait =
        std::min(options_.retry_cap_ms, options_.retry_base_ms << std::min(attempts, 20));
    CUNHUO_CHECK(db_->write([&](db::Session& tx) -> Status {
      CUNHUO_TRY(
          tx.exec("UPDATE sb_notifications SET attempts = ?, acknowledged = ?, last_status = ?, "
                  "next_attempt_at = ? WHERE id = ?",
                  {attempts, ok ? 1 : 0, status, clock_.now_ms() + wait, row.i64(0)}));
      return {};
    }));
    if (ok)
      ++acknowledged;
    else
      spdlog::info("paysandbox: notification {} not acknowledged ({}), again in {} ms", row.i64(0),
                   status, wait);
  }
  return acknowledged;
}

}  // namespace

std::optional<Signing> signing_of(std::string_view name) {
  if (name == "certificate") return Signing::certificate;
  if (name == "public_key") return Signing::public_key;
  if (name == "migrating") return Signing::migrating;
  return std::nullopt;
}

Result<std::unique_ptr<Sandbox>> Sandbox::open(Options options, const Clock& clock) {
  if (!net::is_loopback_host(options.host))
    return make_error(ErrorKind::invalid, "sandbox_exposed",
                      "the payment sandbox listens on loopback only", "host");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec)
    return make_error(ErrorKind::unavailable, "sandbox_store", "cannot create " + options.data_dir);
  if (options.db_url.empty()) options.db_url = "sqlite:" + options.data_dir + "/paysandbox.db";
  auto db = CUNHUO_TRY(db::open_database(options.db_url));
  CUNHUO_TRY(db::migrate(*db, kMigrations));
  auto sandbox = std::make_unique<SandboxImpl>(std::move(options), clock, std::move(db));
  CUNHUO_CHECK(sandbox->init());
  return std::unique_ptr<Sandbox>(std::move(sandbox));
}

}  // namespace cunhuo::paysandbox
