// HTTP/1.1 message framing (RFC 9112), kept apart from the network so it can be tested
// byte by byte: parsing a request head and writing a response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront::http1 {

constexpr std::size_t kMaxHeadBytes = 16 * 1024;  // request line and headers together
constexpr std::size_t kMaxHeaders = 100;

struct Head {
  Request request;  // method, path, query and headers filled in
  bool http11 = true;
  bool keep_alive = true;  // RFC 9112 §9.3, from the version and Connection
  std::int64_t content_length = 0;
  bool expect_continue = false;
};

// Parses the bytes before the blank line (without the final CRLF CRLF). Errors carry
// the status to answer with in `Error::kind` (invalid = 400, too_large = 431 or 413,
// unsupported = 501/505).
Result<Head> parse_head(std::string_view head);

// Serialises a whole response.
std::string write_response(const Response& response, const std::string& request_id,
                           bool keep_alive);

}  // namespace cunhuo::storefront::http1
