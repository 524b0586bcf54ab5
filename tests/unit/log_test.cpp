#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "core/log.hpp"

TEST_CASE("log lines carry the request id and never personal data", "[log]") {
  std::ostringstream out;
  auto logger = cunhuo::make_logger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out), "info");
  {
    cunhuo::RequestIdScope scope("req-42");
    logger->info("login refused for phone {} id {}", "13800000004", "62062119850409004X");
  }
  logger->info("outside a request");
  logger->flush();
  std::string text = out.str();
  CHECK(text.find("[req-42] login refused for phone 138****0004 id 620621********004X") !=
        std::string::npos);
  CHECK(text.find("13800000004") == std::string::npos);
  CHECK(text.find("62062119850409004X") == std::string::npos);
  CHECK(text.find("[-] outside a request") != std::string::npos);
  CHECK(cunhuo::current_request_id() == "-");
}
