// cunhuo-paysandbox as the demo runs it: a process of its own that writes the merchant's
// configuration (mode 0600) for the service, answers the adapter, and rotates its platform
// certificate on SIGUSR1 without the adapter losing the old one.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "payments/wechatpay/provider.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/support.hpp"

namespace wx = cunhuo::payments::wechatpay;

namespace {

// The longest the test waits for the sandbox to say what it did.
constexpr std::chrono::seconds kSandboxLimit{30};

// The sandbox writes the merchant's configuration, then starts to listen and says so.
std::unique_ptr<cunhuo::test::ChildProcess> start_sandbox(
    const std::string& dir, const std::string& config, const std::string& signing = "certificate") {
  auto sandbox = std::make_unique<cunhuo::test::ChildProcess>(
      std::vector<std::string>{PAYSANDBOX_BINARY, "--data-dir", dir + "/sandbox", "--config",
                               config, "--notify-url", "http://127.0.0.1:1/notify", "--signing",
                               signing},
      dir + "/sandbox.log");
  REQUIRE(sandbox->wait_for_output("paysandbox: WeChat Pay v3 sandbox at", kSandboxLimit));
  return sandbox;
}

}  // namespace

TEST_CASE("cunhuo-paysandbox serves the adapter and rotates its certificate on SIGUSR1",
          "[wechatpay][process]") {
  const std::string dir = cunhuo::test::temp_dir();
  const std::string config_file = dir + "/wechatpay.conf";
  auto sandbox = start_sandbox(dir, config_file);
  struct stat st {};
  REQUIRE(::stat(config_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto config = wx::load_config(config_file);
  REQUIRE(config.ok());
  CHECK(config->sandbox);
  cunhuo::SystemClock clock;
  auto adapter = wx::WechatPayProvider::open(*config, clock);
  REQUIRE(adapter.ok());
  CHECK((*adapter)->trusted_serials().size() == 1);
  auto made = (*adapter)->create_payment(
      cunhuo::payments::PaymentRequest{61, cunhuo::Money::fen(100), "CNY", "枸杞"});
  REQUIRE(made.ok());
  sandbox->signal(SIGUSR1);
  // The signal is taken asynchronously: the sandbox says when the new certificate is stored.
  REQUIRE(sandbox->wait_for_output("paysandbox: platform certificate", kSandboxLimit));
  REQUIRE((*adapter)->refresh_certificates().ok());
  CHECK((*adapter)->trusted_serials().size() == 2);
  CHECK((*adapter)->query(61).ok());  // answers signed with the new key verify
  sandbox->signal(SIGTERM);
  CHECK(sandbox->wait_exit(kSandboxLimit) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("cunhuo-paysandbox --signing public_key serves a merchant of the WeChat Pay public key",
          "[wechatpay][process][public-key]") {
  const std::string dir = cunhuo::test::temp_dir();
  const std::string config_file = dir + "/wechatpay.conf";
  auto sandbox = start_sandbox(dir, config_file, "public_key");
  auto config = wx::load_config(config_file);
  REQUIRE(config.ok());
  CHECK_FALSE(config->platform_certificates);
  CHECK(wx::is_public_key_id(config->wechatpay_public_key_id));
  CHECK(config->wechatpay_public_key_file == dir + "/sandbox/merchant/wechatpay-public-key.pem");
  cunhuo::SystemClock clock;
  auto adapter = wx::WechatPayProvider::open(*config, clock);
  REQUIRE(adapter.ok());
  CHECK((*adapter)->ready());
  CHECK((*adapter)->trusted_serials().empty());
  REQUIRE((*adapter)
              ->create_payment(
                  cunhuo::payments::PaymentRequest{62, cunhuo::Money::fen(100), "CNY", "枸杞"})
              .ok());
  CHECK((*adapter)->query(62).ok());
  sandbox->signal(SIGTERM);
  CHECK(sandbox->wait_exit(kSandboxLimit) == 0);
  // A second start keeps the key and its id.
  auto again = start_sandbox(dir, config_file, "public_key");
  auto reread = wx::load_config(config_file);
  REQUIRE(reread.ok());
  CHECK(reread->wechatpay_public_key_id == config->wechatpay_public_key_id);
  again->signal(SIGTERM);
  CHECK(again->wait_exit(kSandboxLimit) == 0);
  std::filesystem::remove_all(dir);
}
