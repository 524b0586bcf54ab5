// Service configuration. Precedence: command-line flags > environment (CUNHUO_*) >
// config file (--config or CUNHUO_CONFIG, lines of `key = value`) > defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace cunhuo {

// The demo county's full order history, in days (seeds/demo.hpp).
inline constexpr int kMaxDemoDays = 90;

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string db_url = "sqlite:var/cunhuo.db";
  std::string seed = "minqin";  // seed data set to load at start, or "none"
  // Days of order history the demo county "minqin" generates (fewer: a quicker load, for
  // tests; the same days are the same whatever the count).
  int demo_days = kMaxDemoDays;
  std::string log_level = "info";
  std::string log_format = "text";         // text, or json (one object per line) for a collector
  std::string data_dir = "var";            // uploads and other files
  int threads = 4;                         // HTTP worker threads
  std::int64_t max_json_body = 1 << 20;    // bytes
  std::int64_t max_upload_body = 8 << 20;  // bytes, upload routes only
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t body_timeout_ms = 30'000;
  std::int64_t shutdown_grace_ms = 10'000;
  std::int64_t outbox_poll_ms = 200;
  std::int64_t payment_window_ms =
      15 * 60 * 1000;  // an unpaid order gives its stock back after this
  std::int64_t auto_confirm_ms =
      7LL * 24 * 3600 * 1000;  // a delivered order completes by itself after this
  // The in-process payment sandbox (paysandbox/, a loopback listener the WeChat Pay adapter
  // talks to) when no wechatpay-config is given. Unset: on only for a demonstration (demo)
  // or a sample store (the fixture or demo seed), so a deployment that forgets to say
  // "off" has no sandbox (storefront/app.cpp payment_simulator_on).
  std::optional<bool> payment_simulator;
  // The WeChat Pay merchant configuration file (payments/wechatpay/provider.hpp), mode 0600:
  // a real merchant, or a sandbox started as a process of its own (deploy/run.sh).
  std::string wechatpay_config;
  // Pages are served over TLS (directly or behind a TLS proxy): their session cookies are
  // marked Secure and their links to themselves (QR codes) use https.
  bool secure_cookies = false;
  bool demo = false;           // a demonstration: the sandbox may then listen beyond loopback
  int platform_fee_bps = 300;  // outside poverty-alleviation campaigns
  int cooperative_commission_bps = 500;
  std::int64_t logistics_fee_fen = 600;                  // per order
  std::int64_t exit_notice_ms = 7LL * 24 * 3600 * 1000;  // how long an exit's public notice runs
  std::int64_t fund_idle_ms =
      90LL * 24 * 3600 * 1000;  // an allocation not disbursed after this is flagged
  // Who may read /metrics without an admin session: exact client addresses.
  std::vector<std::string> metrics_allow = {"127.0.0.1", "::1"};
  // Reverse proxies (CIDR ranges) whose X-Forwarded-For / X-Real-IP name the client: only
  // for a TCP peer inside one of these is the client address taken from those headers.
  // Validated CIDRs (core/cidr.hpp); empty: the peer is always the client.
  std::vector<std::string> trusted_proxies;
  int max_connections = 4096;             // open at once, over all clients
  int max_connections_per_address = 256;  // open at once from one client address
  int login_attempts_per_address = 60;    // per minute, from one client address
  // Text messages: "sandbox" keeps them for GET /sim/sms, "gateway" sends them through
  // Alibaba Cloud SMS, "off" sends none (codes are refused, notices stay queued). Unset: the
  // sandbox only for a demonstration or a sample store, as the payment sandbox
  // (storefront/app.cpp sms_mode); the sandbox shows anyone's codes, so it refuses to start
  // when the service is reached from outside, unless demo.
  std::optional<std::string> sms;
  std::string sms_gateway_url = "https://dysmsapi.aliyuncs.com/";  // http:// on loopback only
  std::string sms_gateway_ca;  // PEM CAs to trust for the gateway; empty: the system's
  std::string sms_access_key_id, sms_access_key_secret;
  std::string sms_sign_name = "村货";
  int code_requests_per_address = 20;  // per hour, from one client address
  // Check every JSON success answer against its published schema (tests; not a flag).
  bool check_response_schemas = false;
};

// Every key a flag, variable or file line may set, e.g. "listen", "db", "threads".
const std::vector<std::string>& config_keys();

// `args` are the flags after the program name and subcommand, e.g. {"--db", "mysql://..."}
// or {"--db=mysql://..."}. `env` holds the process environment (name -> value).
Result<Config> load_config(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env);

std::map<std::string, std::string> environment_map();

}  // namespace cunhuo
