#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "core/json.hpp"
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

TEST_CASE(
    "JSON log lines are one object each, with time, level, request id and the redacted "
    "message",
    "[log]") {
  std::ostringstream out;
  auto logger = cunhuo::make_logger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out), "info",
                                    cunhuo::LogFormat::json);
  {
    cunhuo::RequestIdScope scope("req-7");
    logger->warn("refused \"{}\"\n\tfor phone {}", "a\\b", "13800000004");
  }
  logger->info("outside a request");
  logger->flush();
  std::istringstream lines(out.str());
  std::string first, second, none;
  REQUIRE(std::getline(lines, first));
  REQUIRE(std::getline(lines, second));
  CHECK_FALSE(std::getline(lines, none));  // a newline in a message stays inside its line
  auto doc = cunhuo::Json::parse(first);
  REQUIRE(doc.ok());
  CHECK(doc->find("level")->as_string() == "warning");
  CHECK(doc->find("request_id")->as_string() == "req-7");
  CHECK(doc->find("message")->as_string() == "refused \"a\\b\"\n\tfor phone 138****0004");
  CHECK(doc->find("time")->as_string().size() == std::string("2026-11-25T00:41:26.123Z").size());
  auto outside = cunhuo::Json::parse(second);
  REQUIRE(outside.ok());
  CHECK(outside->find("request_id")->is_null());
  CHECK(outside->find("message")->as_string() == "outside a request");
}
