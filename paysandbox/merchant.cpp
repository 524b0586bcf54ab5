#include "paysandbox/merchant.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace cunhuo::paysandbox {
namespace {

namespace wx = payments::wechatpay;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Status write_owner_only(const std::string& path, const std::string& text) {
  return payments::wechatpay::write_secret_file(path, text);
}

// A public key's id as WeChat Pay gives them: PUB_KEY_ID_ and 32 digits.
std::string new_public_key_id() {
  std::string id(wx::kPublicKeyIdPrefix);
  for (char c : wx::sha1_hex(wx::random_token(32)).substr(0, 32))
    id += static_cast<char>('0' + static_cast<unsigned char>(c) % 10);
  return id;
}

Status ensure_public_key(const std::string& dir, Merchant& m) {
  const std::string private_file = dir + "/wechatpay-public-key-private.pem";
  const std::string id_file = dir + "/wechatpay-public-key.id";
  m.wechatpay_public_key_file = dir + "/wechatpay-public-key.pem";
  if (!std::filesystem::exists(private_file) || !std::filesystem::exists(id_file) ||
      !std::filesystem::exists(m.wechatpay_public_key_file)) {
    auto key = CUNHUO_TRY(wx::RsaKey::generate());
    CUNHUO_CHECK(write_owner_only(private_file, CUNHUO_TRY(key.private_pem())));
    CUNHUO_CHECK(write_owner_only(m.wechatpay_public_key_file, CUNHUO_TRY(key.public_pem())));
    CUNHUO_CHECK(write_owner_only(id_file, new_public_key_id()));
  }
  m.wechatpay_private_key_pem = read_all(private_file);
  m.wechatpay_public_key_id = read_all(id_file);
  if (!wx::is_public_key_id(m.wechatpay_public_key_id))
    return make_error(ErrorKind::invalid, "sandbox_merchant", id_file + " is not a public key id");
  return {};
}

}  // namespace

Result<Merchant> ensure_merchant(const std::string& dir, Signing signing) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  Merchant m{.key_file = dir + "/merchant-key.pem", .public_key_pem = {}, .apiv3_key = {}};
  const std::string apiv3_file = dir + "/apiv3.key";
  if (!std::filesystem::exists(m.key_file)) {
    auto key = CUNHUO_TRY(wx::RsaKey::generate());
    CUNHUO_CHECK(write_owner_only(m.key_file, CUNHUO_TRY(key.private_pem())));
  }
  if (!std::filesystem::exists(apiv3_file))
    CUNHUO_CHECK(write_owner_only(apiv3_file, wx::random_token(wx::kApiV3KeyBytes)));
  m.public_key_pem = CUNHUO_TRY(CUNHUO_TRY(wx::RsaKey::load_private_file(m.key_file)).public_pem());
  m.apiv3_key = read_all(apiv3_file);
  if (m.apiv3_key.size() != wx::kApiV3KeyBytes)
    return make_error(ErrorKind::invalid, "sandbox_merchant", apiv3_file + " is not 32 bytes");
  m.signing = signing;
  if (signing != Signing::certificate) CUNHUO_CHECK(ensure_public_key(dir, m));
  return m;
}

Options options_for(const Merchant& merchant, Options base) {
  base.mchid = kSandboxMchid;
  base.appid = kSandboxAppid;
  base.merchant_public_key_pem = merchant.public_key_pem;
  base.merchant_serial = kSandboxMerchantSerial;
  base.apiv3_key = merchant.apiv3_key;
  base.signing = merchant.signing;
  base.public_key_id = merchant.wechatpay_public_key_id;
  base.public_key_private_pem = merchant.wechatpay_private_key_pem;
  return base;
}

wx::Config adapter_config(const Merchant& merchant, const Sandbox& sandbox,
                          std::string notify_url) {
  return wx::Config{.mchid = kSandboxMchid,
                    .appid = kSandboxAppid,
                    .private_key_file = merchant.key_file,
                    .merchant_serial = kSandboxMerchantSerial,
                    .apiv3_key = merchant.apiv3_key,
                    .notify_url = std::move(notify_url),
                    .api_base = sandbox.base_url(),
                    .ca_file = sandbox.ca_file(),
                    .trade_type = "h5",
                    .wechatpay_public_key_file = merchant.wechatpay_public_key_file,
                    .wechatpay_public_key_id = merchant.wechatpay_public_key_id,
                    .platform_certificates = merchant.signing != Signing::public_key,
                    .sandbox = true};
}

}  // namespace cunhuo::paysandbox
