#include "storefront/http.hpp"

#include <algorithm>

#include "core/json.hpp"

namespace cunhuo::storefront {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool matches(const Route& route, std::string_view path,
             std::map<std::string, std::string>& params) {
  auto want = segments(route.pattern);
  auto got = segments(path);
  if (want.size() != got.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!want[i].empty() && want[i][0] == ':') {
      auto decoded = percent_decode(got[i], false);
      if (!decoded) return false;
      found.emplace(std::string(want[i].substr(1)), *decoded);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::optional<std::string> Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

Response Response::json(int status, std::string body) {
  return Response{status, std::move(body), "application/json; charset=utf-8", {}};
}

Response Response::text(int status, std::string body, std::string content_type) {
  return Response{status, std::move(body), std::move(content_type), {}};
}

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid: return 400;
    case ErrorKind::unauthorized: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::conflict: return 409;
    case ErrorKind::too_large: return 413;
    case ErrorKind::unsupported: return 415;
    case ErrorKind::unprocessable: return 422;
    case ErrorKind::unavailable: return 503;
    case ErrorKind::internal: return 500;
  }
  return 500;
}

Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view field) {
  JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("code", code).field("message", message);
  if (!field.empty()) w.field("field", field);
  w.end_object().end_object();
  return Response::json(status, w.take());
}

Response error_response(const Error& error) {
  // Internal details stay in the log; the caller gets a stable code.
  if (error.kind == ErrorKind::internal) return error_response(500, "internal", "internal error");
  Response r = error_response(http_status(error.kind), error.code, error.message, error.field);
  // A busy, lost or full store is passing: tell the client when to come back.
  if (error.kind == ErrorKind::unavailable)
    r.headers.emplace_back("Retry-After", std::to_string(kRetryAfterSeconds));
  return r;
}

void Router::add(Route route) {
  assert(!route.pattern.empty() && route.pattern[0] == '/');
  assert(route.handler || route.async_handler);
  routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match out;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!matches(route, path, params)) continue;
    if (route.method == method) {
      out.route = &route;
      out.params = std::move(params);
      return out;
    }
    if (std::find(out.allowed.begin(), out.allowed.end(), route.method) == out.allowed.end())
      out.allowed.push_back(route.method);
  }
  return out;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) return std::nullopt;
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace cunhuo::storefront
