#include "payments/wechatpay/provider.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/assert.hpp"
#include "core/json.hpp"

namespace cunhuo::payments::wechatpay {
namespace {

Error config_error(std::string message, std::string field = "") {
  return make_error(ErrorKind::invalid, "bad_wechatpay_config", std::move(message),
                    std::move(field));
}

Error provider_error(int status, std::string_view what) {
  // A 4xx is the provider refusing the request; a 5xx (after the retries) is it failing.
  return make_error(status >= 500 ? ErrorKind::unavailable : ErrorKind::conflict,
                    status >= 500 ? std::string(kProviderUnavailable) : "provider_refused",
                    "WeChat Pay answered " + std::to_string(status) + " to " + std::string(what));
}

bool transient(const Error& e) { return e.kind == ErrorKind::unavailable; }

// The provider could not be reached or failed (5xx): not an answer that failed its checks.
bool unreachable(const Error& e) {
  return e.code == kProviderUnavailable || e.code == net::kUnreachable || e.code == net::kTimeout ||
         e.code == net::kBadResponse;
}

// A certificate is trusted only between its notBefore and notAfter.
bool valid_at(const Certificate& c, std::int64_t now_s) {
  return c.not_before_s() <= now_s && now_s <= c.not_after_s();
}

SignedHeaders signed_headers(const net::HttpResponse& r) {
  return SignedHeaders{.serial = r.header(kSerialHeader).value_or(""),
                       .timestamp = r.header(kTimestampHeader).value_or(""),
                       .nonce = r.header(kNonceHeader).value_or(""),
                       .signature = r.header(kSignatureHeader).value_or("")};
}

std::string path_of_trade(std::int64_t intent_id) {
  return "/v3/pay/transactions/out-trade-no/" + out_trade_no(intent_id);
}

// "2026-12-07T10:00:00+08:00" → Unix milliseconds; 0 when it does not parse.
std::int64_t epoch_ms_of(const std::string& rfc3339) {
  struct tm tm {};
  int offset_h = 0, offset_m = 0;
  char sign = '+';
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &offset_h, &offset_m) != 9)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::int64_t offset = (offset_h * 3600 + offset_m * 60) * (sign == '-' ? -1 : 1);
  return (static_cast<std::int64_t>(timegm(&tm)) - offset) * 1000;
}

bool failed_trade(std::string_view state) {
  return state == kClosed || state == kPayError || state == kRevoked;
}

// The notification as apply_notification reads it (intents.hpp): the decrypted transaction
// in the platform's own terms.
std::string payment_notice(const Envelope& e, const Transaction& t) {
  JsonWriter w;
  w.begin_object().field("id", e.id.substr(0, 64));
  CUNHUO_ASSERT(t.trade_state == kSuccess || failed_trade(t.trade_state));
  w.field("event_type", t.trade_state == kSuccess ? "TRANSACTION.SUCCESS" : "TRANSACTION.FAIL");
  w.field("out_trade_no", std::to_string(intent_of(t.out_trade_no).value_or(0)));
  w.field("transaction_id", t.transaction_id.substr(0, 64));
  w.key("amount").begin_object().field("total", t.total).field("currency", t.currency);
  w.end_object();
  if (const auto at = epoch_ms_of(t.success_time); at > 0) w.field("paid_at_ms", at);
  w.end_object();
  return w.take();
}

std::string refund_notice(const Envelope& e, const RefundRecord& r) {
  JsonWriter w;
  w.begin_object().field("id", e.id.substr(0, 64)).field("event_type", e.event_type);
  w.field("out_trade_no", std::to_string(intent_of(r.out_trade_no).value_or(0)));
  w.field("out_refund_no", r.out_refund_no).field("refund_id", r.refund_id);
  w.field("status", r.status);
  w.key("amount").begin_object().field("refund", r.refund).field("total", r.total);
  w.end_object().end_object();
  return w.take();
}

Result<ProviderRefund> provider_refund(const RefundRecord& r) {
  const auto state = refund_state_of(r.status);
  if (!state)
    return make_error(ErrorKind::unavailable, "bad_refund", "a refund status WeChat Pay has not");
  return ProviderRefund{.provider_ref = r.refund_id, .state = *state};
}

// What answers and notifications are verified with: platform certificates, the WeChat Pay
// public key (file and id together), or both.
Status check_verification(const Config& c) {
  const bool file = !c.wechatpay_public_key_file.empty();
  const bool id = !c.wechatpay_public_key_id.empty();
  if (file != id)
    return config_error(
        "the WeChat Pay public key needs both wechatpay_public_key_file and "
        "wechatpay_public_key_id",
        file ? "wechatpay_public_key_id" : "wechatpay_public_key_file");
  if (id && !is_public_key_id(c.wechatpay_public_key_id))
    return config_error("wechatpay_public_key_id is PUB_KEY_ID_ followed by digits",
                        "wechatpay_public_key_id");
  if (!file && !c.platform_certificates)
    return config_error(
        "nothing to verify WeChat Pay's signatures with: configure the WeChat Pay public key "
        "(wechatpay_public_key_file and wechatpay_public_key_id) or platform_certificates yes",
        "platform_certificates");
  return {};
}

// The WeChat Pay public key: a PEM RSA public key in a file no one else may change (who
// replaces it can forge every notification).
Result<RsaKey> load_public_key(const std::string& path) {
  auto refuse = [&](std::string why) {
    return config_error("the WeChat Pay public key " + path + " " + why,
                        "wechatpay_public_key_file");
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return refuse("cannot be read");
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return refuse("may be changed by others: chmod go-w it");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto key = RsaKey::from_public_pem(text.str());
  if (!key.ok()) return refuse("is not an RSA public key in PEM");
  return key;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  const auto last = s.find_last_not_of(" \t\r");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

}  // namespace

std::string out_trade_no(std::int64_t intent_id) {
  return std::string(kOutTradeNoPrefix) + std::to_string(intent_id);
}

std::optional<std::int64_t> intent_of(std::string_view no) {
  if (!no.starts_with(kOutTradeNoPrefix)) return std::nullopt;
  no.remove_prefix(kOutTradeNoPrefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(no.data(), no.data() + no.size(), id);
  if (ec != std::errc{} || end != no.data() + no.size() || id < 1) return std::nullopt;
  return id;
}

std::string out_refund_no(std::string_view refund_key) {
  std::string out(refund_key.substr(0, 64));
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return out;
}

std::optional<RefundState> refund_state_of(std::string_view status) {
  if (status == "SUCCESS") return RefundState::succeeded;
  if (status == "PROCESSING") return RefundState::processing;
  if (status == "ABNORMAL") return RefundState::abnormal;
  if (status == "CLOSED") return RefundState::closed;
  return std::nullopt;
}

std::optional<TradeType> trade_type_of(std::string_view name) {
  if (name == "native") return TradeType::native;
  if (name == "jsapi") return TradeType::jsapi;
  if (name == "h5") return TradeType::h5;
  return std::nullopt;
}

Result<Config> load_config(const std::string& path) {
  auto text = read_secret_file(path, "the WeChat Pay configuration " + path);
  if (!text.ok())
    return config_error(
        text.error().code == kBadKey && text.error().message.find("chmod 600") != std::string::npos
            ? "the WeChat Pay configuration " + path +
                  " may be read by others: chmod 600 it (it holds the APIv3 key)"
            : "cannot read the WeChat Pay configuration " + path,
        "wechatpay-config");
  std::istringstream in(*text);
  Config c;
  std::string line;
  const std::map<std::string, std::string*> fields = {
      {"mchid", &c.mchid},
      {"appid", &c.appid},
      {"private_key_file", &c.private_key_file},
      {"merchant_serial", &c.merchant_serial},
      {"apiv3_key", &c.apiv3_key},
      {"notify_url", &c.notify_url},
      {"api_base", &c.api_base},
      {"ca_file", &c.ca_file},
      {"trade_type", &c.trade_type},
      {"wechatpay_public_key_file", &c.wechatpay_public_key_file},
      {"wechatpay_public_key_id", &c.wechatpay_public_key_id}};
  std::map<std::string, std::string> yes_no = {{"sandbox", "no"}, {"platform_certificates", ""}};
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find_first_of(" \t");
    const std::string key = line.substr(0, space);
    if (yes_no.contains(key) && space != std::string::npos) {
      yes_no[key] = trim(line.substr(space));
      continue;
    }
    auto field = fields.find(key);
    if (field == fields.end() || space == std::string::npos) {
      // Named only when it is a setting's name: a line may be "apiv3_key=<the key>".
      const bool a_name = field != fields.end() || yes_no.contains(key);
      return config_error(a_name ? "the setting " + key + " in " + path + " has no value"
                                 : "a line of " + path + " is not a known `setting value`",
                          a_name ? key : "wechatpay-config");
    }
    *field->second = trim(line.substr(space));
  }
  for (const auto& [key, value] : fields)
    if (value->empty() && key != "ca_file" && !key.starts_with("wechatpay_public_key"))
      return config_error("the WeChat Pay configuration names no " + key, key);
  for (const auto& [key, value] : yes_no)
    if (value != "yes" && value != "no" && !(key == "platform_certificates" && value.empty()))
      return config_error(key + " is yes or no", key);
  c.sandbox = yes_no["sandbox"] == "yes";
  // Unsaid, certificates are what a merchant without a public key verifies with.
  c.platform_certificates = yes_no["platform_certificates"].empty()
                                ? c.wechatpay_public_key_file.empty()
                                : yes_no["platform_certificates"] == "yes";
  CUNHUO_CHECK(check_verification(c));
  if (c.apiv3_key.size() != kApiV3KeyBytes)
    return config_error("the APIv3 key is 32 bytes", "apiv3_key");
  if (!trade_type_of(c.trade_type))
    return config_error("trade_type is native, jsapi or h5", "trade_type");
  // TLS is not optional: requests carry the Authorization and buyers' data, answers the
  // platform certificates. ca_file is the only way to change whom TLS trusts.
  if (!c.api_base.starts_with("https://"))
    return config_error("api_base must be an https:// URL", "api_base");
  while (c.api_base.ends_with('/')) c.api_base.pop_back();
  return c;
}

Status write_config(const std::string& path, const Config& c) {
  std::ostringstream text;
  text << "# WeChat Pay merchant API v3 (read by cunhuo; keep it mode 0600)\n"
       << "mchid " << c.mchid << "\nappid " << c.appid << "\nprivate_key_file "
       << c.private_key_file << "\nmerchant_serial " << c.merchant_serial << "\napiv3_key "
       << c.apiv3_key << "\nnotify_url " << c.notify_url << "\napi_base " << c.api_base
       << "\ntrade_type " << c.trade_type << "\nsandbox " << (c.sandbox ? "yes" : "no") << "\n";
  if (!c.ca_file.empty()) text << "ca_file " << c.ca_file << "\n";
  if (!c.wechatpay_public_key_file.empty())
    text << "wechatpay_public_key_file " << c.wechatpay_public_key_file
         << "\nwechatpay_public_key_id " << c.wechatpay_public_key_id << "\n";
  text << "platform_certificates " << (c.platform_certificates ? "yes" : "no") << "\n";
  if (!write_secret_file(path, text.str()).ok()) return config_error("cannot write " + path);
  return {};
}

WechatPayProvider::WechatPayProvider(Config config, RsaKey key, const Clock& clock,
                                     AdapterOptions options)
    : config_(std::move(config)),
      key_(std::move(key)),
      clock_(clock),
      options_(std::move(options)),
      http_(net::HttpClientOptions{.timeout_ms = options_.timeout_ms,
                                   .max_response_body = net::kMaxHttpResponseBody,
                                   .ca_file = config_.ca_file}) {}

Result<std::unique_ptr<WechatPayProvider>> WechatPayProvider::open(Config config,
                                                                   const Clock& clock,
                                                                   AdapterOptions options) {
  CUNHUO_CHECK(check_verification(config));  // a Config built in code is checked here
  auto key = RsaKey::load_private_file(config.private_key_file);
  if (!key.ok()) return config_error(key.error().message, "private_key_file");
  std::optional<RsaKey> public_key;
  if (!config.wechatpay_public_key_file.empty())
    public_key = CUNHUO_TRY(load_public_key(config.wechatpay_public_key_file));
  std::unique_ptr<WechatPayProvider> p(
      new WechatPayProvider(std::move(config), std::move(*key), clock, std::move(options)));
  CUNHUO_CHECK(p->http_.trust());
  p->public_key_ = std::move(public_key);
  if (!p->config_.platform_certificates) return p;  // the public key only: nothing to fetch
  p->load_trusted();
  // WeChat Pay unreachable at boot does not stop the service: it starts on what it trusted.
  if (auto fetched = p->refresh_certificates(); !fetched.ok()) {
    if (!unreachable(fetched.error())) return fetched.error();  // a forgery is no outage
    spdlog::warn(
        "wechatpay: /v3/certificates not fetched at start ({}); {} certificate(s) "
        "trusted before",
        fetched.error().code, p->trusted_serials().size());
  }
  return p;
}

WechatPayProvider::~WechatPayProvider() {
  std::lock_guard lock(refresher_mu_);
  if (refresher_.joinable()) refresher_.join();
}

bool WechatPayProvider::ready() const {
  std::lock_guard lock(mu_);
  return public_key_.has_value() || !platform_.empty();
}

void WechatPayProvider::load_trusted() {
  if (options_.trusted_file.empty()) return;
  std::ifstream in(options_.trusted_file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const std::int64_t now_s = clock_.now_ms() / 1000;
  std::lock_guard lock(mu_);
  for (std::size_t from = 0, end; (end = all.find(kEnd, from)) != std::string::npos;
       from = end + kEnd.size()) {
    auto cert = Certificate::from_pem(all.substr(from, end + kEnd.size() - from));
    if (cert.ok() && valid_at(*cert, now_s)) platform_.emplace(cert->serial(), std::move(*cert));
  }
}

void WechatPayProvider::save_trusted() const {
  if (options_.trusted_file.empty()) return;
  std::string text;
  for (const auto& [serial, cert] : platform_) {
    auto pem = cert.pem();
    if (!pem.ok()) {
      spdlog::warn("wechatpay: cannot write out platform certificate {}", serial);
      return;
    }
    text += *pem;
  }
  if (!write_secret_file(options_.trusted_file, text).ok())
    spdlog::warn("wechatpay: cannot keep the trusted certificates in {}", options_.trusted_file);
}

void WechatPayProvider::wait(int attempt) {
  const std::int64_t ms = options_.backoff_ms << std::min(attempt, 10);
  if (options_.sleep)
    options_.sleep(ms);
  else
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Result<WechatPayProvider::Answer> WechatPayProvider::once(std::string_view method,
                                                          const std::string& path_query,
                                                          const std::string& body) {
  const std::string timestamp = std::to_string(clock_.now_ms() / 1000);
  const std::string nonce = random_token(kNonceChars);
  const std::string signature =
      CUNHUO_TRY(key_.sign(request_message(method, path_query, timestamp, nonce, body)));
  net::HttpRequest request{
      .method = std::string(method),
      .url = config_.api_base + path_query,
      .headers = {{"Authorization",
                   format_authorization(Authorization{.mchid = config_.mchid,
                                                      .nonce_str = nonce,
                                                      .signature = signature,
                                                      .timestamp = timestamp,
                                                      .serial_no = config_.merchant_serial})},
                  {"Accept", "application/json"},
                  {"User-Agent", "cunhuo-wechatpay/1"}},
      .body = body};
  // The public key's id tells WeChat Pay which key the merchant holds: a merchant migrating
  // from certificates is answered with the key (and a request that encrypts a field must
  // name it).
  if (public_key_) request.headers.emplace_back(kSerialHeader, config_.wechatpay_public_key_id);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  auto response = http_.send(request);
  if (!response.ok()) return response.error();
  // A bill's file is not signed (its hash, from a signed answer, vouches for it); a 5xx
  // (perhaps from a gateway in front) is only ever retried, its body never read.
  // /v3/certificates is verified by refresh_certificates once its certificates are
  // decrypted: its signer may be one of them (the first download, a rotation).
  const bool certificates = path_query.starts_with("/v3/certificates");
  if (!path_query.starts_with("/v3/billdownload/") && !certificates && response->status < 500)
    CUNHUO_CHECK(verify_answer(*response));
  return Answer{response->status, std::move(response->body), signed_headers(*response)};
}

Result<WechatPayProvider::Answer> WechatPayProvider::call(std::string_view method,
                                                          const std::string& path_query,
                                                          const std::string& body) {
  auto answer = once(method, path_query, body);
  if (!answer.ok())  // the message names the host, never the query or a key
    spdlog::warn("wechatpay: {} {} failed: {} ({})", method, path_query.substr(0, 60),
                 answer.error().code, answer.error().message);
  else if (answer->status >= 400)
    spdlog::warn("wechatpay: {} {} answered {}", method, path_query.substr(0, 60), answer->status);
  return answer;
}

Result<WechatPayProvider::Answer> WechatPayProvider::call_retrying(std::string_view method,
                                                                   const std::string& path_query,
                                                                   const std::string& body) {
  for (int attempt = 0;; ++attempt) {
    auto answer = call(method, path_query, body);
    const bool again = answer.ok() ? answer->status >= 500 : transient(answer.error());
    if (!again || attempt + 1 >= options_.attempts) return answer;
    wait(attempt);
  }
}

Status WechatPayProvider::verify_answer(const net::HttpResponse& r) {
  const SignedHeaders h = signed_headers(r);
  auto key = platform_key(h.serial, OnUnknown::refresh_now);
  if (!key)
    return make_error(ErrorKind::unavailable, std::string(kUnknownSerial),
                      "WeChat Pay answered with a certificate or public key not trusted here");
  auto checked = check_signed(h, r.body, *key, clock_.now_ms() / 1000);
  if (!checked.ok())
    return make_error(ErrorKind::unavailable, checked.error().code,
                      "WeChat Pay's answer: " + checked.error().message);
  return {};
}

bool WechatPayProvider::fetchable(const std::string& serial) const {
  return config_.platform_certificates && !serial.starts_with(kPublicKeyIdPrefix);
}

std::optional<RsaKey> WechatPayProvider::platform_key(const std::string& serial,
                                                      OnUnknown on_unknown) {
  // The public key answers only to its own id; a certificate's key never does.
  if (public_key_ && serial == config_.wechatpay_public_key_id) return public_key_;
  if (!fetchable(serial)) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    if (auto it = platform_.find(serial); it != platform_.end()) {
      if (valid_at(it->second, clock_.now_ms() / 1000)) return it->second.public_key();
      // Expired (or not yet valid): never trusted, whatever it signed.
      spdlog::warn("wechatpay: platform certificate {} is outside its validity", serial);
      platform_.erase(it);
      return std::nullopt;
    }
    // Unknown: perhaps the provider rotated. Asked at most once a minute, so forged serials
    // cannot make the platform hammer the provider.
    if (on_unknown == OnUnknown::refuse || clock_.now_ms() - refreshed_ms_ < kRefreshGapMs)
      return std::nullopt;
    if (on_unknown == OnUnknown::refresh_later) {
      // The notify thread answers at once; one refresh at a time, off that thread.
      if (refreshing_) return std::nullopt;
      refreshing_ = true;
      refreshed_ms_ = clock_.now_ms();
    }
  }
  if (on_unknown == OnUnknown::refresh_later) {
    refresh_in_background();
    return std::nullopt;
  }
  if (!refresh(false).ok()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (auto it = platform_.find(serial);
      it != platform_.end() && valid_at(it->second, clock_.now_ms() / 1000))
    return it->second.public_key();
  return std::nullopt;
}

void WechatPayProvider::refresh_in_background() {
  auto task = [this] {
    if (auto fetched = refresh(false); !fetched.ok())
      spdlog::warn("wechatpay: background refresh of the certificates failed: {}",
                   fetched.error().code);
    std::lock_guard lock(mu_);
    refreshing_ = false;
  };
  if (options_.in_background) {
    options_.in_background(std::move(task));
    return;
  }
  // The thread before has finished (refreshing_ was false): joining it does not wait on it.
  std::lock_guard lock(refresher_mu_);
  if (refresher_.joinable()) refresher_.join();
  refresher_ = std::thread(std::move(task));
}

Status WechatPayProvider::refresh(bool retrying) {
  {
    std::lock_guard lock(mu_);
    refreshed_ms_ = clock_.now_ms();
  }
  auto answer = CUNHUO_TRY(retrying ? call_retrying("GET", "/v3/certificates", "")
                                    : call("GET", "/v3/certificates", ""));
  if (answer.status != 200) return provider_error(answer.status, "/v3/certificates");
  auto doc = Json::parse(answer.body);
  const Json* data = doc.ok() ? doc->find("data") : nullptr;
  if (data == nullptr || data->type() != Json::Type::array)
    return make_error(ErrorKind::unavailable, "bad_certificates", "no certificate list");
  std::vector<Certificate> fresh;
  for (const Json& item : data->as_array()) {
    const Json* sealed = item.find("encrypt_certificate");
    auto field = [&](const char* name) {
      const Json* v = sealed != nullptr ? sealed->find(name) : nullptr;
      return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
    };
    if (field("algorithm") != kAeadAlgorithm || field("associated_data") != kCertificateResource)
      return make_error(ErrorKind::unavailable, "bad_certificates",
                        "a certificate not sealed as AEAD_AES_256_GCM 'certificate'");
    auto pem = aes_gcm_open(config_.apiv3_key, field("nonce"), field("associated_data"),
                            field("ciphertext"));
    if (!pem.ok()) return pem.error();
    fresh.push_back(CUNHUO_TRY(Certificate::from_pem(*pem)));
  }
  const std::int64_t now_s = clock_.now_ms() / 1000;
  std::lock_guard lock(mu_);
  CUNHUO_CHECK(check_certificates_answer(answer, fresh, now_s));
  for (auto it = platform_.begin(); it != platform_.end();)  // expired ones go
    it = !valid_at(it->second, now_s) ? platform_.erase(it) : std::next(it);
  for (auto& cert : fresh)
    if (valid_at(cert, now_s) && !platform_.contains(cert.serial())) {
      spdlog::info("wechatpay: trusting platform certificate {}", cert.serial());
      platform_.emplace(cert.serial(), std::move(cert));
    }
  save_trusted();
  return {};
}

// WeChat Pay's rule: the answer is signed by the certificate its Wechatpay-Serial names,
// one already trusted or (the first download, a rotation) one of those it carries, found
// by the serial of the decrypted certificate. No such certificate, or a signature that does
// not verify with it, and nothing of the answer is trusted. Called under mu_.
Status WechatPayProvider::check_certificates_answer(const Answer& answer,
                                                    const std::vector<Certificate>& fresh,
                                                    std::int64_t now_s) const {
  std::optional<RsaKey> signer;
  // A merchant migrating to the public key is answered with it (its request named the id).
  if (public_key_ && answer.headers.serial == config_.wechatpay_public_key_id) signer = public_key_;
  const Certificate* cert = nullptr;
  if (auto it = platform_.find(answer.headers.serial); it != platform_.end()) cert = &it->second;
  for (const auto& c : fresh)
    if (cert == nullptr && c.serial() == answer.headers.serial) cert = &c;
  if (!signer && cert != nullptr && valid_at(*cert, now_s)) signer = cert->public_key();
  if (!signer)
    return make_error(ErrorKind::unavailable, std::string(kUnknownSerial),
                      "the certificates' answer is signed by no certificate it carries");
  auto checked = check_signed(answer.headers, answer.body, *signer, now_s);
  if (!checked.ok())
    return make_error(ErrorKind::unavailable, checked.error().code,
                      "the certificates' answer: " + checked.error().message);
  return {};
}

void WechatPayProvider::set_notify_url(std::string url) {
  std::lock_guard lock(mu_);
  config_.notify_url = std::move(url);
}

std::string WechatPayProvider::notify_url() const {
  std::lock_guard lock(mu_);
  return config_.notify_url;
}

std::string WechatPayProvider::payer_origin() const {
  if (!config_.sandbox) return std::string(kH5CashierOrigin);
  std::string origin = config_.api_base;
  if (origin.starts_with("https://")) origin.replace(0, 8, "http://");
  return origin;
}

std::vector<std::string> WechatPayProvider::trusted_serials() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [serial, cert] : platform_) out.push_back(serial);
  return out;
}

Result<ProviderPayment> WechatPayProvider::create_payment(const PaymentRequest& request) {
  // load_config checks it; a Config built in code is not checked before it gets here.
  const auto type = trade_type_of(config_.trade_type);
  if (!type) return config_error("trade_type is native, jsapi or h5", "trade_type");
  return create_order(request, *type);
}

Result<ProviderPayment> WechatPayProvider::create_order(const PaymentRequest& request,
                                                        TradeType type) {
  const char* kind = type == TradeType::native  ? "native"
                     : type == TradeType::jsapi ? "jsapi"
                                                : "h5";
  JsonWriter w;
  w.begin_object().field("appid", config_.appid).field("mchid", config_.mchid);
  w.field("description", request.description.empty() ? std::string("村货订单")
                                                     : request.description.substr(0, 120));
  w.field("out_trade_no", out_trade_no(request.intent_id)).field("notify_url", notify_url());
  if (request.expires_at_ms > 0)  // WeChat Pay refuses payment after the platform's window
    w.field("time_expire", beijing_time(request.expires_at_ms / 1000));
  w.key("amount").begin_object().field("total", request.amount.fen());
  w.field("currency", request.currency).end_object();
  if (type == TradeType::jsapi)
    w.key("payer").begin_object().field("openid", "sandbox-openid").end_object();
  if (type == TradeType::h5)
    w.key("scene_info")
        .begin_object()
        .field("payer_client_ip", "127.0.0.1")
        .key("h5_info")
        .begin_object()
        .field("type", "Wap")
        .end_object()
        .end_object();
  w.end_object();
  const std::string body = w.take();
  const std::string path = std::string("/v3/pay/transactions/") + kind;
  const auto started = std::chrono::steady_clock::now();
  std::int64_t waited_ms = 0;  // the back-off's waits (instant in tests, yet counted)
  for (int attempt = 0;; ++attempt) {
    auto answer = call("POST", path, body);
    const bool failed = answer.ok() ? answer->status >= 500 : transient(answer.error());
    if (!failed) {
      if (!answer.ok()) return answer.error();
      if (answer->status != 200) return provider_error(answer->status, path);
      auto doc = Json::parse(answer->body);
      if (!doc.ok()) return provider_error(502, path);
      const char* field = type == TradeType::native  ? "code_url"
                          : type == TradeType::jsapi ? "prepay_id"
                                                     : "h5_url";
      const Json* link = doc->find(field);
      if (link == nullptr || link->type() != Json::Type::string) return provider_error(502, path);
      return ProviderPayment{out_trade_no(request.intent_id), link->as_string()};
    }
    const std::int64_t spent = waited_ms + (options_.backoff_ms << std::min(attempt, 10)) +
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count();
    if (attempt + 1 >= options_.attempts || spent > options_.create_deadline_ms)
      return answer.ok() ? provider_error(answer->status, path) : answer.error();
    waited_ms += options_.backoff_ms << std::min(attempt, 10);
    wait(attempt);
    // The order may have been made before the answer was lost: ask (once: the loop is the
    // retry) before making it again. out_trade_no is the intent's, so a second create
    // cannot make a second charge; a paid order is not opened again.
    auto known = query(request.intent_id, false);
    if (known.ok() && *known && (*known)->trade_state == kSuccess)
      return make_error(ErrorKind::conflict, "already_paid", "this order is already paid");
  }
}

Result<std::optional<Transaction>> WechatPayProvider::query(std::int64_t intent_id, bool retrying) {
  const std::string path = path_of_trade(intent_id) + "?mchid=" + config_.mchid;
  auto answer = CUNHUO_TRY(retrying ? call_retrying("GET", path, "") : call("GET", path, ""));
  if (answer.status == 404) return std::optional<Transaction>();
  if (answer.status != 200) return provider_error(answer.status, "the query");
  return std::optional<Transaction>(CUNHUO_TRY(decode_transaction(answer.body)));
}

Status WechatPayProvider::close(std::int64_t intent_id) {
  JsonWriter w;
  w.begin_object().field("mchid", config_.mchid).end_object();
  auto answer = CUNHUO_TRY(call_retrying("POST", path_of_trade(intent_id) + "/close", w.take()));
  if (answer.status != 204) return provider_error(answer.status, "the close");
  return {};
}

Result<CloseOutcome> WechatPayProvider::close_payment(std::int64_t intent_id) {
  JsonWriter w;
  w.begin_object().field("mchid", config_.mchid).end_object();
  auto answer = CUNHUO_TRY(call("POST", path_of_trade(intent_id) + "/close", w.take()));
  if (answer.status == 204) return CloseOutcome::closed;
  if (answer.status >= 500) return provider_error(answer.status, "the close");
  // Refused (ORDERPAID, ORDER_CLOSED, ORDER_NOT_EXIST...): what the order is decides.
  auto known = CUNHUO_TRY(query(intent_id, false));
  if (!known || known->trade_state == kClosed || known->trade_state == kRevoked)
    return CloseOutcome::closed;
  if (known->trade_state == kSuccess || known->trade_state == kRefund) return CloseOutcome::paid;
  return provider_error(answer.status, "the close");
}

Result<std::optional<ProviderPaid>> WechatPayProvider::query_paid(std::int64_t intent_id) {
  auto known = CUNHUO_TRY(query(intent_id, false));
  if (!known || (known->trade_state != kSuccess && known->trade_state != kRefund))
    return std::optional<ProviderPaid>();
  return std::optional<ProviderPaid>(ProviderPaid{.provider_ref = known->transaction_id,
                                                  .amount = Money::fen(known->total),
                                                  .currency = known->currency,
                                                  .paid_at_ms = epoch_ms_of(known->success_time)});
}

Result<ProviderRefund> WechatPayProvider::refund(std::int64_t intent_id, Money amount,
                                                 const std::string& refund_key) {
  // The refund names the order's total: the provider's, as it was paid.
  auto paid = CUNHUO_TRY(query(intent_id));
  if (!paid || paid->trade_state == kNotPay || paid->trade_state == kClosed)
    return make_error(ErrorKind::conflict, "not_paid", "WeChat Pay has no payment to refund");
  JsonWriter w;
  w.begin_object().field("out_trade_no", out_trade_no(intent_id));
  w.field("out_refund_no", out_refund_no(refund_key)).field("notify_url", notify_url());
  w.key("amount").begin_object().field("refund", amount.fen()).field("total", paid->total);
  w.field("currency", "CNY").end_object().end_object();
  auto answer = CUNHUO_TRY(call_retrying("POST", "/v3/refund/domestic/refunds", w.take()));
  if (answer.status != 200) return provider_error(answer.status, "the refund");
  return provider_refund(CUNHUO_TRY(decode_refund(answer.body)));
}

Result<ProviderRefund> WechatPayProvider::query_refund_state(const std::string& refund_key) {
  return provider_refund(CUNHUO_TRY(query_refund(refund_key)));
}

Result<RefundRecord> WechatPayProvider::query_refund(const std::string& refund_key) {
  auto answer = CUNHUO_TRY(
      call_retrying("GET", "/v3/refund/domestic/refunds/" + out_refund_no(refund_key), ""));
  if (answer.status != 200) return provider_error(answer.status, "the refund query");
  return decode_refund(answer.body);
}

Result<std::vector<BillLine>> WechatPayProvider::bill(const std::string& date) {
  if (!parse_date(date))
    return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  auto answer = CUNHUO_TRY(
      call_retrying("GET", "/v3/bill/tradebill?bill_date=" + date + "&bill_type=ALL", ""));
  if (answer.status != 200) return provider_error(answer.status, "the trade bill");
  auto doc = Json::parse(answer.body);
  auto text = [&](const char* key) {
    const Json* v = doc.ok() ? doc->find(key) : nullptr;
    return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
  };
  const std::string url = text("download_url"), hash = text("hash_value");
  if (text("hash_type") != "SHA1" || !url.starts_with(config_.api_base + "/"))
    return make_error(ErrorKind::unavailable, "bad_bill", "the bill's answer is not usable");
  auto file = CUNHUO_TRY(call_retrying("GET", url.substr(config_.api_base.size()), ""));
  if (file.status != 200) return provider_error(file.status, "the bill download");
  if (sha1_hex(file.body) != hash)
    return make_error(ErrorKind::unavailable, "bad_bill", "the bill's SHA1 does not match");
  return platform_bill(CUNHUO_TRY(parse_trade_bill(file.body)));
}

std::vector<BillLine> platform_bill(const std::vector<TradeBillLine>& lines) {
  std::vector<BillLine> out;
  for (const auto& l : lines) {
    const auto intent = intent_of(l.out_trade_no).value_or(0);
    if (l.trade_state == kRefund && l.refund_status == kSuccess)
      out.push_back(BillLine{"refund", l.refund_id, intent, l.refund});
    else if (l.trade_state == kSuccess)
      out.push_back(BillLine{"payment", l.transaction_id, intent, l.total});
  }
  return out;
}

Result<Notification> WechatPayProvider::open_notification(const Notification& received) {
  auto refuse = [](std::string_view code, std::string message) {
    spdlog::warn("wechatpay notification refused: {}", message);
    return make_error(ErrorKind::unauthorized, std::string(code), std::move(message),
                      "Wechatpay-Signature");
  };
  auto key = platform_key(received.serial, OnUnknown::refresh_later);
  if (!key)
    return refuse(kUnknownSerial, "no platform certificate or public key named '" +
                                      received.serial.substr(0, 40) + "'");
  const SignedHeaders h{received.serial, received.timestamp, received.nonce, received.signature};
  if (auto checked = check_signed(h, received.body, *key, clock_.now_ms() / 1000); !checked.ok())
    return refuse(checked.error().code, checked.error().message);
  auto envelope = decode_envelope(received.body);
  if (!envelope.ok()) return refuse(kBadNotification, envelope.error().message);
  const Resource& r = envelope->resource;
  // The resource must be of the kind its event names: a refund's sealed record is never
  // read as a transaction (or the other way) however the envelope relabels it.
  const auto kind = resource_kind_of(envelope->event_type);
  if (!kind || r.associated_data != *kind || r.original_type != *kind)
    return refuse(kBadNotification, "the resource is not of the kind its event names");
  auto plain = r.algorithm == kAeadAlgorithm
                   ? aes_gcm_open(config_.apiv3_key, r.nonce, r.associated_data, r.ciphertext)
                   : Result<std::string>(make_error(ErrorKind::unauthorized,
                                                    std::string(kUndecryptable), "algorithm"));
  if (!plain.ok()) return refuse(kUndecryptable, "the resource does not decrypt");
  Notification opened = received;
  if (envelope->event_type.starts_with("REFUND.")) {
    auto refund = decode_refund(*plain);
    if (!refund.ok()) return refuse(kBadNotification, refund.error().message);
    if (refund->mchid != config_.mchid)
      return refuse(kBadNotification, "another merchant's refund");
    const auto state = refund_state_of(refund->status);
    if (!state || *state == RefundState::processing ||
        envelope->event_type != "REFUND." + refund->status)
      return refuse(kBadNotification, "a refund notification names no outcome");
    opened.body = refund_notice(*envelope, *refund);
    return opened;
  }
  auto t = decode_transaction(*plain);
  if (!t.ok()) return refuse(kBadNotification, t.error().message);
  if (t->mchid != config_.mchid) return refuse(kBadNotification, "another merchant's transaction");
  if (t->appid != config_.appid) return refuse(kBadNotification, "another app's transaction");
  // Only SUCCESS pays and only CLOSED, PAYERROR, REVOKED fail; NOTPAY, USERPAYING (and
  // anything else) are no outcome: the intent stays open.
  if (t->trade_state != kSuccess && !failed_trade(t->trade_state))
    return refuse(kBadNotification, "the transaction has no outcome yet");
  opened.body = payment_notice(*envelope, *t);
  return opened;
}

}  // namespace cunhuo::payments::wechatpay
