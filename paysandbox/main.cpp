// cunhuo-paysandbox: the payment sandbox as a process of its own, on loopback, serving the
// merchant it makes at first start (keys in --data-dir/merchant). Each start writes the
// adapter's configuration file (--config, mode 0600) for the platform to read:
//
//   cunhuo-paysandbox --data-dir var/paysandbox --port 8443 --config var/wechatpay.conf \
//     --notify-url http://127.0.0.1:8080/api/v1/payments/notify \
//     --return-url http://127.0.0.1:8080/orders [--duplicates 1] [--late-ms 60000]
//     [--back-dated-payments on]   (only for a platform loading the demo county)
//     [--signing certificate|public_key|migrating]
//
// --signing public_key makes it sign as for a merchant given a WeChat Pay public key (its key
// and PUB_KEY_ID_ id made at first start beside the merchant's, named in --config);
// migrating signs with the key while the certificates are still served.
//
// SIGUSR1 rotates its platform certificate (the old one is still served until it expires);
// SIGTERM or SIGINT stops it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "paysandbox/merchant.hpp"
#include "paysandbox/sandbox.hpp"

namespace {

constexpr const char* kUsage =
    "usage: cunhuo-paysandbox --data-dir DIR --config FILE --notify-url URL [--port N]\n"
    "       [--return-url URL] [--duplicates N] [--late-ms MS] [--host 127.0.0.1]\n"
    "       [--back-dated-payments on|off] [--signing certificate|public_key|migrating]\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "cunhuo-paysandbox: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--port", "0"},
                                          {"--duplicates", "0"},
                                          {"--late-ms", "0"},
                                          {"--host", "127.0.0.1"},
                                          {"--return-url", ""},
                                          {"--data-dir", ""},
                                          {"--config", ""},
                                          {"--notify-url", ""},
                                          {"--back-dated-payments", "off"},
                                          {"--signing", "certificate"}};
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc || !args.contains(argv[i])) return fail(std::string("bad flag\n") + kUsage);
    args[argv[i]] = argv[i + 1];
  }
  const std::string back_dated = args["--back-dated-payments"];
  if (back_dated != "on" && back_dated != "off")
    return fail(std::string("--back-dated-payments is on or off\n") + kUsage);
  const auto signing = cunhuo::paysandbox::signing_of(args["--signing"]);
  if (!signing)
    return fail(std::string("--signing is certificate, public_key or migrating\n") + kUsage);
  for (const char* required : {"--data-dir", "--config", "--notify-url"})
    if (args[required].empty()) return fail(std::string(required) + " is required\n" + kUsage);
  cunhuo::init_logging("info");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  namespace ps = cunhuo::paysandbox;
  cunhuo::SystemClock clock;
  auto merchant = ps::ensure_merchant(args["--data-dir"] + "/merchant", *signing);
  if (!merchant.ok()) return fail(merchant.error().message);
  ps::Options base{.data_dir = args["--data-dir"],
                   .host = args["--host"],
                   .port = static_cast<std::uint16_t>(std::atoi(args["--port"].c_str())),
                   .return_url = args["--return-url"],
                   .duplicates = std::atoi(args["--duplicates"].c_str()),
                   .late_ms = std::atoll(args["--late-ms"].c_str()),
                   .back_dated_payments = back_dated == "on"};
  auto sandbox = ps::Sandbox::open(ps::options_for(*merchant, base), clock);
  if (!sandbox.ok()) return fail(sandbox.error().message);
  auto written = cunhuo::payments::wechatpay::write_config(
      args["--config"], ps::adapter_config(*merchant, **sandbox, args["--notify-url"]));
  if (!written.ok()) return fail(written.error().message);
  if (auto started = (*sandbox)->start(); !started.ok()) return fail(started.error().message);
  for (int signal = SIGUSR1; signal == SIGUSR1;) {
    sigwait(&signals, &signal);
    if (signal != SIGUSR1) break;
    if (auto rotated = (*sandbox)->rotate_certificate(); !rotated.ok())
      std::fprintf(stderr, "cunhuo-paysandbox: %s\n", rotated.error().message.c_str());
  }
  (*sandbox)->stop();
  return 0;
}
