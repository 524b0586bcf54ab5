// A payment sandbox (paysandbox/) for one test, with a merchant of its own: an RSA key and
// certificate, an APIv3 key, and the adapter configuration that points at the sandbox
// (its API base, its certificate as the CA file). Notifications are sent when the test
// says (deliver_due), never in the background.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "payments/wechatpay/provider.hpp"
#include "paysandbox/sandbox.hpp"

namespace cunhuo::test {

// The JSON of a transaction of the test sandbox's merchant (its mchid; the sandbox's appid
// unless `appid` says another) for `intent`, 1 yuan, in `trade_state`: the resource tests
// seal into notifications and forge.
std::string sandbox_transaction(std::int64_t intent, std::string_view trade_state = "SUCCESS",
                                std::string_view appid = "wxcunhuo000sandbox");

struct SandboxSetup {
  std::string store_url;   // the sandbox's own store; empty: SQLite in its folder
  std::string notify_url;  // where the adapter asks notifications to go
  std::string return_url;
  int duplicates = 0;
  std::int64_t late_ms = 0;
  bool back_dated_payments = false;
  std::int64_t connection_deadline_ms = paysandbox::kConnectionDeadlineMs;
  // How the sandbox signs; unless certificate, the merchant is given a WeChat Pay public
  // key (kTestPublicKeyId) and the adapter is configured with it (and, migrating, with the
  // certificates too).
  paysandbox::Signing signing = paysandbox::Signing::certificate;
};

inline constexpr const char* kTestPublicKeyId = "PUB_KEY_ID_01142321349124100000000000000001";

class PaySandbox {
 public:
  PaySandbox(const Clock& clock, SandboxSetup setup);
  ~PaySandbox();
  paysandbox::Sandbox& sandbox() { return *sandbox_; }
  // What the adapter is configured with (written, mode 0600, to config_file()).
  const payments::wechatpay::Config& config() const { return config_; }
  const std::string& config_file() const { return config_file_; }
  const std::string& dir() const { return dir_; }
  // The adapter over this sandbox; back-off waits are instant. A background refresh of the
  // certificates runs at once on the calling thread unless `in_background` says otherwise.
  std::unique_ptr<payments::wechatpay::WechatPayProvider> adapter(
      const Clock& clock, std::function<void(std::function<void()>)> in_background = {}) const;

 private:
  std::string dir_, config_file_;
  payments::wechatpay::Config config_;
  std::unique_ptr<paysandbox::Sandbox> sandbox_;
};

}  // namespace cunhuo::test
