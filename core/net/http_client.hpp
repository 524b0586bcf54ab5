// An HTTP/1.1 client for the platform's calls out: the SMS gateway and the payment
// sandbox's notifications. One request per call, synchronous, over http:// or https://
// (Boost.Beast and OpenSSL behind this header; nothing of them leaks out of it).
//
// TLS is always verified: the peer's chain against the system's trust store (or a CA file
// for a private deployment or a test), its name against the URL's host (DNS name or IP
// address in subjectAltName), SNI sent, TLS 1.2 at least. There is no way to turn that off.
//
// Every call is bounded: one deadline covers connecting, the TLS handshake, writing the
// request and reading the answer (name resolution is the system resolver's, with its own
// timeouts); the answer's header and body have size limits. Failures are error values with
// the codes below (kind unavailable: worth a retry), never exceptions. Error messages name
// the host, never the URL's query (it may carry phone numbers and keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace cunhuo::net {

inline constexpr std::int64_t kHttpTimeoutMs = 5'000;             // the whole call
inline constexpr std::size_t kMaxHttpResponseBody = 1024 * 1024;  // bytes
inline constexpr std::size_t kMaxHttpResponseHeader = 16 * 1024;  // bytes, all fields

// The error codes a call returns.
inline constexpr std::string_view kInvalidUrl = "invalid_url";   // kind invalid
inline constexpr std::string_view kUnreachable = "unreachable";  // cannot resolve or connect
inline constexpr std::string_view kTimeout = "timeout";          // the deadline passed
inline constexpr std::string_view kTlsFailed = "tls_failed";     // untrusted peer, no handshake
inline constexpr std::string_view kResponseTooLarge = "response_too_large";
inline constexpr std::string_view kBadResponse = "bad_response";  // not HTTP, or cut short

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;      // http://host[:port]/path?query or https://...
  HttpHeaders headers;  // Host, Content-Length and Connection are the client's
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  // The first field named `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

struct HttpClientOptions {
  std::int64_t timeout_ms = kHttpTimeoutMs;
  std::size_t max_response_body = kMaxHttpResponseBody;
  // PEM file of the CAs to trust instead of the system's store; empty: the system's.
  std::string ca_file;
};

struct Url {
  bool tls = false;
  std::string host;    // without brackets for an IPv6 literal
  std::string port;    // "80" / "443" unless given
  std::string target;  // path and query, at least "/"
};

// Splits an http:// or https:// URL; anything else is `invalid_url`.
Result<Url> parse_url(std::string_view url);
// localhost, 127.0.0.0/8 or ::1: a host whose traffic never leaves the machine.
bool is_loopback_host(std::string_view host);

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Whether the trust store loaded (an unreadable CA file is `tls_failed`); https calls
  // fail with this error until it is fixed. Worth checking at start-up.
  Status trust() const;
  // One request on a fresh connection (Connection: close). Safe from several threads.
  Result<HttpResponse> send(const HttpRequest& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cunhuo::net
