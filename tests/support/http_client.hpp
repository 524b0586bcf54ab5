// A deliberately plain HTTP/1.1 client over one TCP connection, for tests and benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cunhuo::test {

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::optional<std::string> header(const std::string& lower_name) const;
};

// Tests control every byte sent (missing headers, bad bodies) and can see whether the
// server closed the connection.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void send_raw(const std::string& bytes);
  HttpReply read_reply();
  HttpReply request(const std::string& method, const std::string& path,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  // True when the server has closed the connection (reads EOF within the timeout).
  bool closed_by_server(int timeout_ms = 2000);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// JSON POST with Content-Type set.
HttpReply post_json(HttpClient& client, const std::string& path, const std::string& body,
                    std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace cunhuo::test
