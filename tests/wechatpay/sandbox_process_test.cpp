// cunhuo-paysandbox as the demo runs it: a process of its own that writes the merchant's
// configuration (mode 0600) for the service, answers the adapter, and rotates its platform
// certificate on SIGUSR1 without the adapter losing the old one.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "payments/wechatpay/provider.hpp"
#include "tests/support/support.hpp"

namespace wx = cunhuo::payments::wechatpay;

namespace {

pid_t start_sandbox(const std::string& dir, const std::string& config) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string data = dir + "/sandbox";
    const char* argv[] = {PAYSANDBOX_BINARY,
                          "--data-dir",
                          data.c_str(),
                          "--config",
                          config.c_str(),
                          "--notify-url",
                          "http://127.0.0.1:1/notify",
                          nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  return pid;
}

// The process writes its configuration once it listens: waits up to 10 s for the file.
bool written(const std::string& file) {
  for (int i = 0; i < 200; ++i) {
    if (std::filesystem::exists(file) && std::filesystem::file_size(file) > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a process, not a thread
  }
  return false;
}

}  // namespace

TEST_CASE("cunhuo-paysandbox serves the adapter and rotates its certificate on SIGUSR1",
          "[wechatpay][process]") {
  const std::string dir = cunhuo::test::temp_dir();
  const std::string config_file = dir + "/wechatpay.conf";
  const pid_t pid = start_sandbox(dir, config_file);
  REQUIRE(pid > 0);
  REQUIRE(written(config_file));
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
  REQUIRE(::kill(pid, SIGUSR1) == 0);
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {  // the signal is taken asynchronously
    REQUIRE((*adapter)->refresh_certificates().ok());
    rotated = (*adapter)->trusted_serials().size() == 2;
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(rotated);
  CHECK((*adapter)->query(61).ok());  // answers signed with the new key verify
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
}
