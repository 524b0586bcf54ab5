// The only translation unit that includes Boost.Beast's HTTP and TLS templates: other files
// see the small header, so they do not pay for compiling them.
#include "core/net/http_client.hpp"

#include "core/assert.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <optional>

namespace cunhuo::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using beast::error_code;
using Deadline = std::chrono::steady_clock::time_point;

Error failure(std::string_view code, std::string message) {
  const ErrorKind kind = code == kInvalidUrl ? ErrorKind::invalid : ErrorKind::unavailable;
  return make_error(kind, std::string(code), std::move(message));
}

// The URL without its query: a query may carry phone numbers and keys, and errors are logged.
Error bad_url(std::string_view url, std::string_view why) {
  return failure(kInvalidUrl, "cannot call " + std::string(url.substr(0, url.find('?'))) + ": " +
                                  std::string(why));
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "host" or "host:port" for the Host field; an IPv6 literal in brackets.
std::string host_field(const Url& url) {
  const std::string host =
      url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  const bool default_port = url.port == (url.tls ? "443" : "80");
  return default_port ? host : host + ":" + url.port;
}

Result<std::string> parse_port(std::string_view url, std::string_view port, bool tls) {
  if (port.empty()) return std::string(tls ? "443" : "80");
  int value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9' || value > 65535) return bad_url(url, "the port is not a number");
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return bad_url(url, "the port is out of range");
  return std::string(port);
}

// One asynchronous step (connect, handshake, write, read) run to its end on this thread:
// a Beast stream's deadline applies to asynchronous operations only.
template <class Start>
error_code run_step(asio::io_context& io, Start&& start) {
  error_code result;
  std::forward<Start>(start)([&result](error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

bool same_letters(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool timed_out(const error_code& ec) { return ec == beast::error::timeout; }

Error timeout_error(const Url& url, std::string_view while_doing) {
  return failure(kTimeout,
                 "no answer from " + url.host + " in time (" + std::string(while_doing) + ")");
}

Result<tcp::resolver::results_type> resolve(asio::io_context& io, const Url& url) {
  tcp::resolver resolver(io);
  error_code ec;
  auto found = resolver.resolve(url.host, url.port, ec);
  if (ec) return failure(kUnreachable, "cannot resolve " + url.host + ": " + ec.message());
  return found;
}

Status connect(asio::io_context& io, beast::tcp_stream& stream,
               const tcp::resolver::results_type& endpoints, const Url& url) {
  const auto ec = run_step(io, [&](auto handler) { stream.async_connect(endpoints, handler); });
  if (timed_out(ec)) return timeout_error(url, "connecting");
  if (ec)
    return failure(kUnreachable,
                   "cannot connect to " + url.host + ":" + url.port + ": " + ec.message());
  return {};
}

// SNI: the server name in the ClientHello, so a shared host presents the right certificate.
bool set_server_name(SSL* handle, const std::string& host) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // OpenSSL's macro casts
  return SSL_set_tlsext_host_name(handle, host.c_str()) == 1;
#pragma GCC diagnostic pop
}

// SNI and the name check go with every handshake; the chain check is the context's.
Status handshake(asio::io_context& io, beast::ssl_stream<beast::tcp_stream>& stream,
                 const Url& url) {
  if (!is_ip_address(url.host) && !set_server_name(stream.native_handle(), url.host))
    return failure(kTlsFailed, "cannot set the TLS server name " + url.host);
  stream.set_verify_callback([check = ssl::host_name_verification(url.host)](
                                 bool preverified, ssl::verify_context& ctx) mutable {
    if (check(preverified, ctx)) return true;
    // A trusted chain whose leaf names another host: say so, not "unspecified".
    if (preverified) X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
    return false;
  });
  const auto ec = run_step(
      io, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (timed_out(ec)) return timeout_error(url, "TLS handshake");
  if (!ec) return {};
  const long verify = SSL_get_verify_result(stream.native_handle());
  const std::string why =
      verify == X509_V_OK ? ec.message() : X509_verify_cert_error_string(verify);
  return failure(kTlsFailed, "TLS with " + url.host + " failed: " + why);
}

http::request<http::string_body> build_request(const Url& url, const HttpRequest& request) {
  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown)
    req.method_string(request.method);
  else
    req.method(verb);
  req.target(url.target);
  req.version(11);
  req.set(http::field::host, host_field(url));
  req.set(http::field::user_agent, "cunhuo");
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  req.set(http::field::connection, "close");
  req.body() = request.body;
  req.prepare_payload();
  return req;
}

using Parser = http::response_parser<http::string_body>;

template <class Stream>
Status exchange(asio::io_context& io, Stream& stream, const Url& url,
                const http::request<http::string_body>& req, Parser& parser) {
  auto ec = run_step(io, [&](auto handler) { http::async_write(stream, req, handler); });
  if (timed_out(ec)) return timeout_error(url, "sending");
  if (ec) return failure(kUnreachable, "sending to " + url.host + " failed: " + ec.message());
  beast::flat_buffer buffer;
  ec = run_step(io, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (timed_out(ec)) return timeout_error(url, "reading the answer");
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return failure(kResponseTooLarge, url.host + " answered more than this client takes");
  if (ec) return failure(kBadResponse, url.host + " gave no valid answer: " + ec.message());
  return {};
}

HttpResponse to_response(http::response<http::string_body>&& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  return out;
}

}  // namespace

Result<Url> parse_url(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return bad_url(url, "only http:// and https:// URLs are taken");
  }
  const auto end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  target = target.substr(0, target.find('#'));  // a fragment is never sent
  u.target = target.starts_with('/') ? std::string(target) : "/" + std::string(target);
  if (authority.find('@') != std::string_view::npos)
    return bad_url(url, "credentials in a URL are not taken");
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "an unclosed [");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad_url(url, "junk after ]");
    port = after.empty() ? after : after.substr(1);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad_url(url, "no host");
  u.host = std::string(host);
  u.port = CUNHUO_TRY(parse_port(url, port, u.tls));
  return u;
}

bool is_loopback_host(std::string_view host) {
  if (same_letters(host, "localhost")) return true;
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [field, value] : headers)
    if (same_letters(field, name)) return value;
  return std::nullopt;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  std::optional<ssl::context> tls;
  Status trust;
};

namespace {

// The client side of TLS as every call uses it: the peer verified against the trusted
// CAs, TLS 1.2 or later.
Status load_trust(std::optional<ssl::context>& tls, const std::string& ca_file) {
  try {
    tls.emplace(ssl::context::tls_client);
  } catch (const std::exception& e) {
    return failure(kTlsFailed, std::string("cannot set up TLS: ") + e.what());
  }
  if (SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION) != 1)
    return failure(kTlsFailed, "cannot require TLS 1.2");
  error_code ec;
  tls->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (ca_file.empty())
      tls->set_default_verify_paths(ec);
    else
      tls->load_verify_file(ca_file, ec);
  }
  if (ec)
    return failure(kTlsFailed, "cannot load the trusted CAs" +
                                   (ca_file.empty() ? std::string() : " from " + ca_file) + ": " +
                                   ec.message());
  return {};
}

Result<HttpResponse> call(const HttpClientOptions& options, ssl::context* tls, const Url& url,
                          const HttpRequest& request) {
  asio::io_context io;
  const auto endpoints = CUNHUO_TRY(resolve(io, url));
  const auto req = build_request(url, request);
  Parser parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxHttpResponseHeader));
  parser.body_limit(options.max_response_body);
  // One deadline for the whole call, from before connecting to the answer's last byte.
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  if (url.tls) {
    CUNHUO_ASSERT(tls != nullptr);  // send() checked the trust loaded
    beast::ssl_stream<beast::tcp_stream> stream(io, *tls);
    beast::get_lowest_layer(stream).expires_at(deadline);
    CUNHUO_CHECK(connect(io, beast::get_lowest_layer(stream), endpoints, url));
    CUNHUO_CHECK(handshake(io, stream, url));
    // No TLS shutdown after the answer: its length is known, and waiting for the peer's
    // close_notify would only cost a round trip.
    CUNHUO_CHECK(exchange(io, stream, url, req, parser));
  } else {
    beast::tcp_stream stream(io);
    stream.expires_at(deadline);
    CUNHUO_CHECK(connect(io, stream, endpoints, url));
    CUNHUO_CHECK(exchange(io, stream, url, req, parser));
  }
  return to_response(parser.release());
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->trust = load_trust(impl_->tls, impl_->options.ca_file);
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Status HttpClient::trust() const { return impl_->trust; }

Result<HttpResponse> HttpClient::send(const HttpRequest& request) const {
  const Url url = CUNHUO_TRY(parse_url(request.url));
  if (url.tls) CUNHUO_CHECK(impl_->trust);
  try {
    return call(impl_->options, impl_->tls ? &*impl_->tls : nullptr, url, request);
  } catch (const std::exception& e) {  // nothing is meant to throw; if it does, a value
    return failure(kBadResponse, "the call to " + url.host + " failed: " + e.what());
  }
}

}  // namespace cunhuo::net
