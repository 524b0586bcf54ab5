#include "tests/support/paysandbox.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/support/support.hpp"

namespace cunhuo::test {

namespace wx = payments::wechatpay;

std::string sandbox_transaction(std::int64_t intent, std::string_view trade_state,
                                std::string_view appid) {
  return wx::encode(wx::Transaction{.appid = std::string(appid),
                                    .mchid = "1900000109",
                                    .out_trade_no = wx::out_trade_no(intent),
                                    .transaction_id = "42000000" + std::to_string(intent),
                                    .trade_type = "MWEB",
                                    .trade_state = std::string(trade_state),
                                    .success_time = "",
                                    .total = 100});
}

PaySandbox::PaySandbox(const Clock& clock, SandboxSetup setup) : dir_(temp_dir()) {
  auto key = wx::RsaKey::generate();
  REQUIRE(key.ok());
  const std::string key_file = dir_ + "/merchant-key.pem";
  REQUIRE(wx::write_secret_file(key_file, *key->private_pem()).ok());
  const std::string apiv3 = wx::random_token(wx::kApiV3KeyBytes);
  paysandbox::Options options{.data_dir = dir_ + "/sandbox",
                              .db_url = setup.store_url,
                              .host = "127.0.0.1",
                              .port = 0,
                              .mchid = "1900000109",
                              .appid = "wxcunhuo000sandbox",
                              .merchant_public_key_pem = *key->public_pem(),
                              .merchant_serial = "3775B6A45ACD588826D15E583A95F5DD",
                              .apiv3_key = apiv3,
                              .return_url = setup.return_url,
                              .duplicates = setup.duplicates,
                              .late_ms = setup.late_ms,
                              .deliver_in_background = false,
                              .back_dated_payments = setup.back_dated_payments,
                              .connection_deadline_ms = setup.connection_deadline_ms,
                              .signing = setup.signing};
  std::string public_key_file;
  if (setup.signing != paysandbox::Signing::certificate) {
    auto wechat_key = wx::RsaKey::generate();
    REQUIRE(wechat_key.ok());
    options.public_key_id = kTestPublicKeyId;
    options.public_key_private_pem = *wechat_key->private_pem();
    public_key_file = dir_ + "/wechatpay-public-key.pem";
    REQUIRE(wx::write_secret_file(public_key_file, *wechat_key->public_pem()).ok());
  }
  auto opened = paysandbox::Sandbox::open(options, clock);
  if (!opened.ok()) FAIL("cannot open the sandbox: " << opened.error().message);
  sandbox_ = std::move(*opened);
  REQUIRE(sandbox_->start().ok());
  config_ = wx::Config{.mchid = options.mchid,
                       .appid = options.appid,
                       .private_key_file = key_file,
                       .merchant_serial = options.merchant_serial,
                       .apiv3_key = apiv3,
                       .notify_url = setup.notify_url,
                       .api_base = sandbox_->base_url(),
                       .ca_file = sandbox_->ca_file(),
                       .trade_type = "h5",
                       .wechatpay_public_key_file = public_key_file,
                       .wechatpay_public_key_id = public_key_file.empty() ? "" : kTestPublicKeyId,
                       .platform_certificates = setup.signing != paysandbox::Signing::public_key};
  config_file_ = dir_ + "/wechatpay.conf";
  REQUIRE(wx::write_config(config_file_, config_).ok());
}

PaySandbox::~PaySandbox() {
  sandbox_->stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::unique_ptr<wx::WechatPayProvider> PaySandbox::adapter(
    const Clock& clock, std::function<void(std::function<void()>)> in_background) const {
  if (!in_background) in_background = [](std::function<void()> task) { task(); };
  auto opened = wx::WechatPayProvider::open(
      config_, clock,
      wx::AdapterOptions{
          .attempts = 3, .backoff_ms = 1, .sleep = [](auto) {}, .in_background = in_background});
  if (!opened.ok()) FAIL("cannot open the adapter: " << opened.error().message);
  return std::move(*opened);
}

}  // namespace cunhuo::test
