// The HTTP edge, measured two ways over the same App (routes, pages, store): the server we
// run (server.hpp: Pistache's TCP layer, our HTTP/1.1 framing, the live feed's socket
// handed over to Beast) against a minimal HTTP/1.1 loop on Boost.Beast, which is what
// "serve HTTP wholesale with Beast" would start from. tests/bench/http_edge drives both
// with wrk and prints the figures.
//   http_edge_bench pistache|beast PORT DATA_DIR THREADS
// The Beast loop keeps connections alive, serves pipelined requests in order, and has the
// same header (16 KiB) and JSON body limits and header/idle timeouts; it does not add our
// request ids, safety headers or metrics, so it does a little less work per request than
// the server it is compared with.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/config.hpp"
#include "storefront/app.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;  // as http1::kMaxHeadBytes

cunhuo::storefront::Request to_request(const http::request<http::string_body>& in,
                                       const std::string& peer) {
  cunhuo::storefront::Request r;
  r.method = std::string(in.method_string());
  const std::string_view target(in.target().data(), in.target().size());
  const auto q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {  // not decoded: the routes measured take no query
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      r.query.emplace_back(std::string(pair.substr(0, eq)),
                           eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
  }
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = in.body();
  r.client_address = peer;
  return r;
}

cunhuo::storefront::Response route(cunhuo::storefront::App& app,
                                   cunhuo::storefront::Request& request) {
  auto match = app.router().match(request.method, request.path);
  if (match.route == nullptr || !match.route->handler)
    return cunhuo::storefront::error_response(404, "route_not_found", "no such route");
  request.route = match.route->pattern;
  request.params = match.params;
  return match.route->handler(request);
}

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(tcp::socket s, cunhuo::storefront::App& a, const cunhuo::Config& c)
      : stream(std::move(s)), app(a), config(c) {}
  beast::tcp_stream stream;
  cunhuo::storefront::App& app;
  const cunhuo::Config& config;
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
  http::response<http::string_body> answer;
  std::string peer;

  void read() {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(static_cast<std::uint64_t>(config.max_json_body));
    // Between requests the idle timeout; Beast has one timer for the whole read.
    stream.expires_after(
        std::chrono::milliseconds(buffer.size() > 0 ? config.header_timeout_ms : 75'000));
    http::async_read(stream, buffer, *parser,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->serve();
                     });
  }

  void serve() {
    auto in = parser->release();
    auto request = to_request(in, peer);
    const cunhuo::storefront::Response out = route(app, request);
    answer = {};
    answer.version(11);
    answer.result(static_cast<unsigned>(out.status));
    answer.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) answer.insert(name, value);
    answer.body() = out.body;
    answer.keep_alive(in.keep_alive());
    answer.prepare_payload();
    http::async_write(stream, answer,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->answer.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

void accept(tcp::acceptor& acceptor, cunhuo::storefront::App& app, const cunhuo::Config& config) {
  acceptor.async_accept([&](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      auto c = std::make_shared<Connection>(std::move(socket), app, config);
      c->peer = c->stream.socket().remote_endpoint(ec).address().to_string();
      c->read();
    }
    accept(acceptor, app, config);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: http_edge_bench pistache|beast PORT DATA_DIR THREADS\n");
    return 2;
  }
  const std::string mode = argv[1];
  cunhuo::Config config;
  config.listen_port = static_cast<std::uint16_t>(std::stoi(argv[2]));
  config.data_dir = argv[3];
  config.db_url = std::string("sqlite:") + argv[3] + "/edge.db";
  config.seed = "fixture";
  config.threads = std::stoi(argv[4]);
  config.log_level = "warn";
  cunhuo::SystemClock clock;
  auto app = cunhuo::storefront::App::open(config, clock);
  if (!app.ok()) {
    std::fprintf(stderr, "cannot open: %s\n", app.error().message.c_str());
    return 1;
  }
  asio::io_context io(config.threads);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) { io.stop(); });
  std::optional<tcp::acceptor> acceptor;
  if (mode == "pistache") {
    if (auto st = (*app)->start(); !st.ok()) return 1;
  } else {
    acceptor.emplace(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), config.listen_port));
    accept(*acceptor, **app, config);
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  std::_Exit(0);
}
