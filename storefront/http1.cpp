#include "storefront/http1.hpp"

#include <algorithm>
#include <charconv>

namespace cunhuo::storefront::http1 {
namespace {

Error bad(std::string code, std::string message) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status parse_query(std::string_view query, Request& request) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) return bad("invalid_query", "the query string has a bad %-escape");
    request.query.emplace_back(std::move(*key), std::move(*value));
  }
  return {};
}

Status parse_request_line(std::string_view line, Head& head) {
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return bad("bad_request_line", "malformed request line");
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char))
    return bad("bad_request_line", "malformed method");
  if (version == "HTTP/1.1")
    head.http11 = true;
  else if (version == "HTTP/1.0")
    head.http11 = false;
  else
    return make_error(ErrorKind::unsupported, "http_version_not_supported",
                      "only HTTP/1.0 and HTTP/1.1 are spoken here");
  if (target.empty() || target.front() != '/')
    return bad("bad_request_target", "the request target must be a path");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F)
      return bad("bad_request_target", "bad character in the path");
  auto q = target.find('?');
  head.request.method = std::string(method);
  head.request.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) return parse_query(target.substr(q + 1), head.request);
  return {};
}

// A value holding CR, LF or NUL could split into a header or a response of its own
// wherever it is copied (logs, a proxy's request line): it is refused, not cleaned.
bool has_forbidden_byte(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (ascii_lower(trim(list.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

Result<Head> parse_head(std::string_view text) {
  Head head;
  auto eol = text.find("\r\n");
  CUNHUO_CHECK(parse_request_line(text.substr(0, eol), head));
  std::optional<std::int64_t> length;
  std::string connection;
  while (eol != std::string_view::npos) {
    std::size_t start = eol + 2;
    eol = text.find("\r\n", start);
    std::string_view line =
        text.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t')
      return bad("bad_header", "folded header lines are not accepted");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return bad("bad_header", "malformed header line");
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char))
      return bad("bad_header", "malformed header name");
    if (head.request.headers.size() >= kMaxHeaders)
      return make_error(ErrorKind::too_large, "too_many_headers", "over 100 headers");
    std::string key = ascii_lower(name);
    std::string_view value = trim(line.substr(colon + 1));
    if (has_forbidden_byte(value)) return bad("bad_header", "a header value holds CR, LF or NUL");
    // Two Hosts may name two sites; which one a proxy and this server pick could differ.
    if (key == "host" && head.request.header("host"))
      return bad("duplicate_host", "send one Host header");
    if (key == "content-length") {
      std::int64_t n = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 0 ||
          (length && *length != n))
        return bad("bad_content_length", "Content-Length must be one non-negative number");
      length = n;
    } else if (key == "transfer-encoding") {
      return make_error(ErrorKind::unsupported, "length_required",
                        "send the body with a Content-Length, not chunked");
    } else if (key == "connection") {
      connection = std::string(value);
    } else if (key == "expect") {
      if (ascii_lower(value) != "100-continue")
        return make_error(ErrorKind::unprocessable, "expectation_failed",
                          "only 100-continue is understood");
      head.expect_continue = true;
    }
    head.request.headers.emplace_back(std::move(key), std::string(value));
  }
  head.content_length = length.value_or(0);
  head.keep_alive =
      head.http11 ? !has_token(connection, "close") : has_token(connection, "keep-alive");
  if (head.request.header("host") == std::nullopt && head.http11)
    return bad("missing_host", "HTTP/1.1 requests need a Host header");
  return head;
}

static std::string_view reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string write_response(const Response& response, const std::string& request_id,
                           bool keep_alive) {
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  if (!request_id.empty()) {
    out += "\r\nX-Request-Id: ";
    out += request_id;
  }
  for (const auto& [name, value] : response.headers) {
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
  out += "\r\n\r\n";
  out += response.body;
  return out;
}

}  // namespace cunhuo::storefront::http1
