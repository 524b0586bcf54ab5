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
};

// dir/merchant-key.pem and dir/apiv3.key, made when missing.
Result<Merchant> ensure_merchant(const std::string& dir);
// What a sandbox serving `merchant` is opened with (the rest left as in `base`).
Options options_for(const Merchant& merchant, Options base);
// The adapter's configuration for `merchant` at `sandbox`.
payments::wechatpay::Config adapter_config(const Merchant& merchant, const Sandbox& sandbox,
                                           std::string notify_url);

}  // namespace cunhuo::paysandbox
