// The HTTP vocabulary every route uses: Request, Response, the JSON error shape and
// the Router. Independent of Pistache, which only the server adapter knows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace cunhuo::storefront {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::map<std::string, std::string> params;                 // from the route pattern
  std::string body;
  std::string request_id;
  std::string route;           // the matched pattern
  std::string client_address;  // the peer's IP, e.g. "127.0.0.1"

  std::optional<std::string> header(std::string_view lower_name) const;
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type);
};

// How long a client is asked to wait after a 503 for a store that is busy, lost or full.
inline constexpr int kRetryAfterSeconds = 5;

// {"error":{"code":..., "message":..., "field":...}} with the status for its kind.
int http_status(ErrorKind kind);
Response error_response(const Error& error);
Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view field = {});

using RouteHandler = std::function<Response(const Request&)>;
// An asynchronous route answers through `respond`, from any thread, exactly once; the
// connection waits for that answer before it reads the next request. The request is
// valid only during the call: copy what the answer needs.
using Respond = std::function<void(Response)>;
using AsyncRouteHandler = std::function<void(const Request&, Respond respond)>;

struct Route {
  std::string method;
  std::string pattern;         // "/api/v1/orders/:id"
  RouteHandler handler;        // or, when set, async_handler answers
  std::int64_t max_body = -1;  // bytes; -1 means the server's JSON limit
  bool takes_json = false;     // body must be application/json
  std::string summary;         // for the OpenAPI document
  AsyncRouteHandler async_handler = nullptr;
  // The server authenticates from the headers (ServerOptions::authenticate_head) and
  // answers 401 before it reads the body: for routes whose body is large.
  bool authenticate_before_body = false;
};

class Router {
 public:
  void add(Route route);

  struct Match {
    const Route* route = nullptr;  // null: no route for the path or method
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // methods the path does take (for 405)
  };
  Match match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

std::string ascii_lower(std::string_view text);

// Decodes %XX escapes (and '+' as space in query strings); nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace cunhuo::storefront
