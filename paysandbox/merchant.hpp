// The merchant a payment sandbox serves when there is no real one (tests, the demo): an
// RSA key and an APIv3 key made at first start in a folder only the service may read, and
// the adapter's configuration pointing at the sandbox, written mode 0600.
#pragma once

#include <string>

#include "core/result.hpp"
#include "payments/wechatpay/provider.hpp"
#include "paysandbox/sandbox.hpp"

namespace cunhuo::paysandbox {

inline constexpr const char* kSandboxMchid = "1900000109";
inline constexpr const char* kSandboxAppid = "wxcunhuo000sandbox";
inline constexpr const char* kSandboxMerchantSerial = "3775B6A45ACD588826D15E583A95F5DD";

struct Merchant {
  std::string key_file, public_key_pem, apiv3_key;
  // How the sandbox signs for this merchant; unless certificate, the WeChat Pay public key
  // the merchant was given (its file and id) and the private half the sandbox signs with.
  Signing signing = Signing::certificate;
  std::string wechatpay_public_key_file, wechatpay_public_key_id, wechatpay_private_key_pem;
};

// dir/merchant-key.pem and dir/apiv3.key, made when missing; unless `signing` is
// certificate also the WeChat Pay public key: dir/wechatpay-public-key.pem (what the
// adapter reads), dir/wechatpay-public-key.id and dir/wechatpay-public-key-private.pem (the
// sandbox's own half, as WeChat Pay keeps it).
Result<Merchant> ensure_merchant(const std::string& dir, Signing signing = Signing::certificate);
// What a sandbox serving `merchant` is opened with (the rest left as in `base`).
Options options_for(const Merchant& merchant, Options base);
// The adapter's configuration for `merchant` at `sandbox`.
payments::wechatpay::Config adapter_config(const Merchant& merchant, const Sandbox& sandbox,
                                           std::string notify_url);

}  // namespace cunhuo::paysandbox
