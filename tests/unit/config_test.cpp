#include <catch2/catch.hpp>

#include <fstream>

#include "core/config.hpp"
#include "tests/support/support.hpp"

using cunhuo::load_config;

TEST_CASE("defaults serve on 127.0.0.1:8080 with the sqlite store", "[config]") {
  auto c = load_config({}, {});
  REQUIRE(c.ok());
  CHECK(c->listen_host == "127.0.0.1");
  CHECK(c->listen_port == 8080);
  CHECK(c->db_url == "sqlite:var/cunhuo.db");
}

TEST_CASE("flags beat the environment, which beats the file", "[config]") {
  auto dir = cunhuo::test::temp_dir();
  std::string file = dir + "/cunhuo.conf";
  std::ofstream(file) << "# comment\nthreads = 3\nlisten = 0.0.0.0:9000\nseed = none\n";
  auto c = load_config({"--config", file, "--listen=127.0.0.1:7000"},
                       {{"CUNHUO_LISTEN", "127.0.0.1:8000"}, {"CUNHUO_THREADS", "5"}});
  REQUIRE(c.ok());
  CHECK(c->listen_port == 7000);  // flag
  CHECK(c->threads == 5);         // environment over file
  CHECK(c->seed == "none");       // file over default
}

TEST_CASE("unknown flags and bad values are refused with the key named", "[config]") {
  auto unknown = load_config({"--colour", "red"}, {});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().field == "colour");
  auto bad = load_config({"--threads", "many"}, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().field == "threads");
  CHECK_FALSE(load_config({"--listen", "nohost"}, {}).ok());
  CHECK_FALSE(load_config({"--db"}, {}).ok());
  CHECK_FALSE(load_config({}, {{"CUNHUO_LOG_LEVEL", "chatty"}}).ok());
}

TEST_CASE("the edge limits are set by flags, and metrics-allow takes a list of addresses",
          "[config]") {
  auto c = load_config({"--metrics-allow", "10.0.0.5, 127.0.0.1,,", "--max-connections=100",
                        "--max-connections-per-address", "4", "--login-attempts-per-address", "9"},
                       {});
  REQUIRE(c.ok());
  CHECK(c->metrics_allow == std::vector<std::string>{"10.0.0.5", "127.0.0.1"});
  CHECK(c->max_connections == 100);
  CHECK(c->max_connections_per_address == 4);
  CHECK(c->login_attempts_per_address == 9);
  CHECK(load_config({}, {})->metrics_allow == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(load_config({"--metrics-allow="}, {})->metrics_allow.empty());  // admins only
  CHECK_FALSE(load_config({"--max-connections", "0"}, {}).ok());
}

TEST_CASE("text messages go to a sandbox, a gateway or nowhere by flag, else left to the start",
          "[config]") {
  CHECK_FALSE(load_config({}, {})->sms.has_value());  // storefront::sms_mode decides
  CHECK(load_config({"--sms", "sandbox"}, {})->sms == "sandbox");
  auto gateway = load_config(
      {"--sms", "gateway", "--sms-gateway-url", "http://127.0.0.1:9/", "--sms-access-key-id", "id",
       "--sms-access-key-secret", "secret", "--sms-gateway-ca", "/etc/cunhuo/gateway-ca.pem"},
      {});
  REQUIRE(gateway.ok());
  CHECK(gateway->sms == "gateway");
  CHECK(gateway->sms_gateway_url == "http://127.0.0.1:9/");
  CHECK(gateway->sms_access_key_secret == "secret");
  CHECK(gateway->sms_gateway_ca == "/etc/cunhuo/gateway-ca.pem");
  CHECK(load_config({}, {})->sms_gateway_ca.empty());  // the system's CAs
  auto pigeon = load_config({"--sms", "pigeon"}, {});
  REQUIRE_FALSE(pigeon.ok());
  CHECK(pigeon.error().field == "sms");
}

TEST_CASE("trusted-proxy takes a list of CIDR ranges and refuses a bad one by name",
          "[config][client-address]") {
  auto c = load_config({"--trusted-proxy", "127.0.0.1, 10.0.0.0/8,2001:db8::/32"}, {});
  REQUIRE(c.ok());
  CHECK(c->trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"});
  CHECK(load_config({}, {})->trusted_proxies.empty());  // no proxy trusted: as before
  auto bad = load_config({"--trusted-proxy", "10.0.0.0/8,10.0.0.0/40"}, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("\"10.0.0.0/40\"") != std::string::npos);
  CHECK(bad.error().message.find("trusted-proxy") != std::string::npos);
}

TEST_CASE("demo-days shortens the demo county's history, within its 90 days", "[config]") {
  CHECK(load_config({}, {})->demo_days == cunhuo::kMaxDemoDays);
  CHECK(load_config({"--demo-days", "5"}, {})->demo_days == 5);
  CHECK_FALSE(load_config({"--demo-days", "0"}, {}).ok());
  CHECK_FALSE(load_config({"--demo-days", "91"}, {}).ok());
}
