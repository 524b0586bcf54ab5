// The WeChat Pay merchant API v3 adapter: a PaymentProvider that opens Native, JSAPI and H5
// orders, queries and closes them, refunds, downloads and checks the daily trade bill, keeps
// the platform certificates current (/v3/certificates) and opens the provider's signed,
// encrypted notifications. Every request is signed with the merchant's RSA key and every
// answer verified with the platform certificate it names. The same code speaks to WeChat Pay
// and to the sandbox provider (paysandbox/): only the configuration differs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/net/http_client.hpp"
#include "payments/provider.hpp"
#include "payments/wechatpay/crypto.hpp"
#include "payments/wechatpay/protocol.hpp"

namespace cunhuo::payments::wechatpay {

inline constexpr std::string_view kDefaultApiBase = "https://api.mch.weixin.qq.com";
inline constexpr std::string_view kOutTradeNoPrefix = "CUNHUO";
inline constexpr std::string_view kH5CashierOrigin = "https://wx.tenpay.com";
inline constexpr int kCallAttempts = 3;          // a call that times out or gets a 5xx
inline constexpr std::int64_t kBackoffMs = 200;  // waits this, then twice as long
// Unknown serials refresh the platform certificates at most this often (a notification's
// in the background, an answer's on the call's own thread).
inline constexpr std::int64_t kRefreshGapMs = 60'000;
// A create (with its retries and the queries between them) gives up once its back-off would
// take it past this: the buyer's request waits on it.
inline constexpr std::int64_t kCreateDeadlineMs = 8'000;

// The merchant's configuration, from a file only the service may read.
struct Config {
  std::string mchid, appid;
  std::string private_key_file;  // the merchant's RSA-2048 key (PEM)
  std::string merchant_serial;   // the serial of the merchant's API certificate
  std::string apiv3_key;         // 32 bytes
  std::string notify_url;        // where the provider posts notifications
  std::string api_base = std::string(kDefaultApiBase);
  std::string ca_file;  // the CAs to trust for api_base (a private deployment, the sandbox)
  std::string trade_type = "h5";  // what the platform's pages open: native, jsapi or h5
  // The WeChat Pay public key (微信支付公钥, PEM) and its id (PUB_KEY_ID_ and digits): what
  // answers and notifications naming that id in Wechatpay-Serial are verified with. Both or
  // neither.
  std::string wechatpay_public_key_file, wechatpay_public_key_id;
  // Whether platform certificates are downloaded from /v3/certificates and trusted. A
  // merchant migrating to the public key keeps both until WeChat Pay signs everything with
  // the key; a new merchant has only the key. At least one of the two.
  bool platform_certificates = true;
  // "sandbox yes": the provider is the payment sandbox (paysandbox/): no real money moves,
  // so the intents and ledger name the provider kSandboxProvider, and payouts know it.
  bool sandbox = false;
};

// Reads `key value` lines (# comments). Refuses a file the group or others may read, as
// ssh does, and a configuration missing a field or with an APIv3 key not 32 bytes long.
// platform_certificates (yes or no) is yes unless a public key is configured; one of the
// two is required.
Result<Config> load_config(const std::string& path);
// Writes one, mode 0600 (the demo's first run).
Status write_config(const std::string& path, const Config& config);

enum class TradeType { native, jsapi, h5 };
std::optional<TradeType> trade_type_of(std::string_view name);

struct AdapterOptions {
  int attempts = kCallAttempts;
  std::int64_t backoff_ms = kBackoffMs;
  std::function<void(std::int64_t ms)> sleep;  // the back-off's wait; tests make it instant
  std::int64_t timeout_ms = net::kHttpTimeoutMs;
  std::int64_t create_deadline_ms = kCreateDeadlineMs;
  // Where the platform certificates trusted so far are kept (PEM), so that a restart while
  // /v3/certificates cannot be reached still verifies answers and notifications. "": none.
  std::string trusted_file;
  // Runs a refresh of the platform certificates that a notification naming an unknown
  // serial asked for, off the notify thread. Default: a thread of the provider's own.
  // Tests run the task when they say.
  std::function<void(std::function<void()> task)> in_background;
};

std::string out_trade_no(std::int64_t intent_id);
std::optional<std::int64_t> intent_of(std::string_view out_trade_no);
// Refund keys hold ':'; out_refund_no takes letters, digits and _-|*@.
std::string out_refund_no(std::string_view refund_key);
// SUCCESS, ABNORMAL, CLOSED, PROCESSING (the refund's status) as the platform names them.
std::optional<RefundState> refund_state_of(std::string_view status);

// The bill's lines in the platform's terms: the payments that succeeded, and the refunds
// whose 退款状态 is SUCCESS (a PROCESSING or ABNORMAL refund has not reached the payer).
std::vector<BillLine> platform_bill(const std::vector<TradeBillLine>& lines);

class WechatPayProvider final : public PaymentProvider {
 public:
  static constexpr const char* kName = "wechatpay";
  // Loads the merchant key, the WeChat Pay public key if configured, and (platform
  // certificates on) the certificates trusted before (options.trusted_file), then fetches
  // the platform certificates. A fetch that fails is not fatal: what was trusted stays
  // trusted, and with nothing trusted the provider is not ready() until a later call
  // fetches them (at most once a minute). With only a public key nothing is fetched.
  static Result<std::unique_ptr<WechatPayProvider>> open(Config config, const Clock& clock,
                                                         AdapterOptions options = {});

  std::string name() const override { return config_.sandbox ? kSandboxProvider : kName; }
  ~WechatPayProvider() override;
  // The WeChat Pay public key is configured, or some platform certificate is trusted:
  // answers and notifications can be verified.
  bool ready() const override;
  // Where the provider is told to send notifications (a platform on an ephemeral port
  // knows it once it listens).
  void set_notify_url(std::string url);
  Result<ProviderPayment> create_payment(const PaymentRequest& request) override;
  // The refund as WeChat Pay answers it: mostly PROCESSING, settled by its notification.
  Result<ProviderRefund> refund(std::int64_t intent_id, Money amount,
                                const std::string& refund_key) override;
  Result<ProviderRefund> query_refund_state(const std::string& refund_key) override;
  std::string refund_no(const std::string& refund_key) const override {
    return out_refund_no(refund_key);
  }
  Result<std::vector<BillLine>> bill(const std::string& date) override;
  // A notification naming a serial not trusted is refused at once (WeChat Pay sends it
  // again); a refresh of the certificates is asked for in the background (one at a time,
  // at most once per kRefreshGapMs), so that a copy sent later verifies.
  Result<Notification> open_notification(const Notification& received) override;

  // An order of a given kind: its pay_url is the H5 link, the Native code_url, or for
  // JSAPI the prepay_id (what the WeChat client's JS bridge takes).
  Result<ProviderPayment> create_order(const PaymentRequest& request, TradeType type);
  // With `retrying` off one attempt only (inside another call's retries).
  Result<std::optional<Transaction>> query(std::int64_t intent_id, bool retrying = true);
  Status close(std::int64_t intent_id);
  // One close; a refused close is decided by the order's state (one query): paid, or
  // closed (closed, revoked or never made).
  Result<CloseOutcome> close_payment(std::int64_t intent_id) override;
  // One query (housekeeping asks again later): SUCCESS or REFUND is paid.
  Result<std::optional<ProviderPaid>> query_paid(std::int64_t intent_id) override;
  Result<RefundRecord> query_refund(const std::string& refund_key);
  // Downloads /v3/certificates and trusts every certificate in it (old ones stay trusted
  // until they expire, so a rotation at the provider loses no notification).
  Status refresh_certificates() { return refresh(true); }
  std::vector<std::string> trusted_serials() const;
  // The origin of the payer's pages the pay links lead to: WeChat Pay's H5 cashier, or the
  // sandbox's own listener (its pages are plain HTTP on the API's port).
  std::string payer_origin() const;
  const Config& config() const { return config_; }

 private:
  WechatPayProvider(Config config, RsaKey key, const Clock& clock, AdapterOptions options);
  struct Answer {
    int status = 0;
    std::string body;
    SignedHeaders headers;  // as answered; verified already unless /v3/certificates
  };
  // One signed request, its answer's signature verified; transport failures are errors.
  Result<Answer> call(std::string_view method, const std::string& path_query,
                      const std::string& body);
  // call() again after a timeout or a 5xx, with back-off.
  Result<Answer> call_retrying(std::string_view method, const std::string& path_query,
                               const std::string& body);
  Result<Answer> once(std::string_view method, const std::string& path_query,
                      const std::string& body);
  Status verify_answer(const net::HttpResponse& response);
  Status check_certificates_answer(const Answer& answer, const std::vector<Certificate>& fresh,
                                   std::int64_t now_s) const;
  // How a serial not trusted is handled: refused, certificates refreshed now (an answer to
  // our own call), or refused with a refresh asked for in the background (a notification).
  enum class OnUnknown { refuse, refresh_now, refresh_later };
  std::optional<RsaKey> platform_key(const std::string& serial, OnUnknown on_unknown);
  // Whether `serial` could be a platform certificate to fetch: certificates on and not a
  // public key's id (a download never brings one).
  bool fetchable(const std::string& serial) const;
  void refresh_in_background();
  // With `retrying` off one attempt only: a notification waiting on it must be answered
  // within WeChat Pay's 5 s.
  Status refresh(bool retrying);
  void wait(int attempt);
  void load_trusted();
  void save_trusted() const;  // under mu_

  std::string notify_url() const;

  Config config_;
  RsaKey key_;
  const Clock& clock_;
  AdapterOptions options_;
  net::HttpClient http_;
  mutable std::mutex mu_;
  std::map<std::string, Certificate> platform_;  // by serial
  std::optional<RsaKey> public_key_;             // the WeChat Pay public key, if configured
  std::int64_t refreshed_ms_ = INT64_MIN / 2;
  bool refreshing_ = false;  // a background refresh is in flight (under mu_)
  std::mutex refresher_mu_;  // guards refresher_ (taken without mu_)
  std::thread refresher_;    // the default in_background's thread
};

}  // namespace cunhuo::payments::wechatpay
