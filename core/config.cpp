#include "core/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "core/cidr.hpp"

extern char** environ;

namespace cunhuo {
namespace {

constexpr std::size_t kMaxConfigFileLines = 10'000;
// Flags that are switches: given alone (`--demo`) they mean on.
const std::vector<std::string> kSwitches = {"demo", "secure-cookies"};

Error config_error(const std::string& key, const std::string& message) {
  return make_error(ErrorKind::invalid, "invalid_config", message, key);
}

Result<bool> on_off(const std::string& key, const std::string& value) {
  if (value != "on" && value != "off") return config_error(key, key + " is on or off");
  return value == "on";
}

std::string env_name(const std::string& key) {
  std::string name = "CUNHUO_";
  for (char c : key)
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

bool known_key(const std::string& key) {
  const auto& keys = config_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Result<std::int64_t> parse_int(const std::string& key, const std::string& text, std::int64_t lo,
                               std::int64_t hi) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi)
    return config_error(key, key + " must be a whole number from " + std::to_string(lo) + " to " +
                                 std::to_string(hi));
  return v;
}

// "a, b,,c" -> {"a", "b", "c"}; an empty text is an empty list.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (auto item = trim(text.substr(start, comma - start)); !item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

Status apply(Config& c, const std::string& key, const std::string& value) {
  if (key == "listen") {
    auto colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return config_error(key, "listen must be host:port");
    auto port = CUNHUO_TRY(parse_int(key, value.substr(colon + 1), 0, 65535));
    c.listen_host = value.substr(0, colon);
    c.listen_port = static_cast<std::uint16_t>(port);
  } else if (key == "db") {
    if (value.empty()) return config_error(key, "db must name a store");
    c.db_url = value;
  } else if (key == "seed") {
    c.seed = value;
  } else if (key == "log-level") {
    static const std::vector<std::string> levels = {"trace", "debug",    "info", "warn",
                                                    "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), value) == levels.end())
      return config_error(key, "unknown log level");
    c.log_level = value;
  } else if (key == "log-format") {
    if (value != "text" && value != "json") return config_error(key, "log-format is text or json");
    c.log_format = value;
  } else if (key == "data-dir") {
    c.data_dir = value;
  } else if (key == "threads") {
    c.threads = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, 256)));
  } else if (key == "max-json-body") {
    c.max_json_body = CUNHUO_TRY(parse_int(key, value, 1024, 64 << 20));
  } else if (key == "max-upload-body") {
    c.max_upload_body = CUNHUO_TRY(parse_int(key, value, 1024, 256 << 20));
  } else if (key == "header-timeout-ms") {
    c.header_timeout_ms = CUNHUO_TRY(parse_int(key, value, 100, 600'000));
  } else if (key == "body-timeout-ms") {
    c.body_timeout_ms = CUNHUO_TRY(parse_int(key, value, 100, 600'000));
  } else if (key == "shutdown-grace-ms") {
    c.shutdown_grace_ms = CUNHUO_TRY(parse_int(key, value, 0, 600'000));
  } else if (key == "payment-window-ms") {
    c.payment_window_ms = CUNHUO_TRY(parse_int(key, value, 1000, 7LL * 24 * 3600 * 1000));
  } else if (key == "auto-confirm-ms") {
    c.auto_confirm_ms = CUNHUO_TRY(parse_int(key, value, 1000, 90LL * 24 * 3600 * 1000));
  } else if (key == "payment-simulator") {
    c.payment_simulator = CUNHUO_TRY(on_off(key, value));
  } else if (key == "wechatpay-config") {
    c.wechatpay_config = std::string(value);
  } else if (key == "demo") {
    c.demo = CUNHUO_TRY(on_off(key, value));
  } else if (key == "secure-cookies") {
    c.secure_cookies = CUNHUO_TRY(on_off(key, value));
  } else if (key == "platform-fee-bps") {
    c.platform_fee_bps = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 0, 5000)));
  } else if (key == "cooperative-commission-bps") {
    c.cooperative_commission_bps = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 0, 5000)));
  } else if (key == "logistics-fee-fen") {
    c.logistics_fee_fen = CUNHUO_TRY(parse_int(key, value, 0, 100'000'00));
  } else if (key == "exit-notice-ms") {
    c.exit_notice_ms = CUNHUO_TRY(parse_int(key, value, 1000, 90LL * 24 * 3600 * 1000));
  } else if (key == "fund-idle-ms") {
    c.fund_idle_ms = CUNHUO_TRY(parse_int(key, value, 1000, 3650LL * 24 * 3600 * 1000));
  } else if (key == "outbox-poll-ms") {
    c.outbox_poll_ms = CUNHUO_TRY(parse_int(key, value, 1, 60'000));
  } else if (key == "demo-days") {
    c.demo_days = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, kMaxDemoDays)));
  } else if (key == "trusted-proxy") {
    c.trusted_proxies = split_list(value);
    for (const auto& range : c.trusted_proxies)
      if (auto parsed = parse_cidr(range); !parsed.ok())
        return config_error(key, "trusted-proxy: " + parsed.error().message);
  } else if (key == "metrics-allow") {
    c.metrics_allow = split_list(value);
  } else if (key == "max-connections") {
    c.max_connections = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, 1'000'000)));
  } else if (key == "max-connections-per-address") {
    c.max_connections_per_address =
        static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, 1'000'000)));
  } else if (key == "login-attempts-per-address") {
    c.login_attempts_per_address =
        static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, 1'000'000)));
  } else if (key == "sms") {
    if (value != "sandbox" && value != "gateway" && value != "off")
      return config_error(key, "sms is sandbox, gateway or off");
    c.sms = value;
  } else if (key == "sms-gateway-url") {
    c.sms_gateway_url = value;
  } else if (key == "sms-gateway-ca") {
    c.sms_gateway_ca = value;
  } else if (key == "sms-access-key-id") {
    c.sms_access_key_id = value;
  } else if (key == "sms-access-key-secret") {
    c.sms_access_key_secret = value;
  } else if (key == "sms-sign-name") {
    c.sms_sign_name = value;
  } else if (key == "code-requests-per-address") {
    c.code_requests_per_address = static_cast<int>(CUNHUO_TRY(parse_int(key, value, 1, 1'000'000)));
  } else {
    return config_error(key, "unknown setting " + key);
  }
  return {};
}

Result<std::map<std::string, std::string>> parse_flags(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) return config_error(arg, "unexpected argument " + arg);
    std::string key = arg.substr(2), value;
    auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (std::find(kSwitches.begin(), kSwitches.end(), key) != kSwitches.end()) {
      value = "on";
    } else {
      if (i + 1 >= args.size()) return config_error(key, "--" + key + " needs a value");
      value = args[++i];
    }
    if (key != "config" && !known_key(key)) return config_error(key, "unknown flag --" + key);
    out[key] = value;
  }
  return out;
}

Result<std::map<std::string, std::string>> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return config_error("config", "cannot read config file " + path);
  std::map<std::string, std::string> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (n > kMaxConfigFileLines) return config_error("config", "config file is too long");
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return config_error("config", path + ":" + std::to_string(n) + ": expected key = value");
    std::string key = trim(line.substr(0, eq));
    if (!known_key(key))
      return config_error(key, path + ":" + std::to_string(n) + ": unknown setting " + key);
    out[key] = trim(line.substr(eq + 1));
  }
  return out;
}

}  // namespace

const std::vector<std::string>& config_keys() {
  static const std::vector<std::string> keys = {"listen",
                                                "db",
                                                "seed",
                                                "log-level",
                                                "log-format",
                                                "data-dir",
                                                "threads",
                                                "max-json-body",
                                                "max-upload-body",
                                                "header-timeout-ms",
                                                "body-timeout-ms",
                                                "shutdown-grace-ms",
                                                "outbox-poll-ms",
                                                "payment-window-ms",
                                                "auto-confirm-ms",
                                                "payment-simulator",
                                                "wechatpay-config",
                                                "demo",
                                                "secure-cookies",
                                                "platform-fee-bps",
                                                "cooperative-commission-bps",
                                                "logistics-fee-fen",
                                                "exit-notice-ms",
                                                "fund-idle-ms",
                                                "demo-days",
                                                "trusted-proxy",
                                                "metrics-allow",
                                                "max-connections",
                                                "max-connections-per-address",
                                                "login-attempts-per-address",
                                                "sms",
                                                "sms-gateway-url",
                                                "sms-gateway-ca",
                                                "sms-access-key-id",
                                                "sms-access-key-secret",
                                                "sms-sign-name",
                                                "code-requests-per-address"};
  return keys;
}

Result<Config> load_config(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  auto flags = CUNHUO_TRY(parse_flags(args));
  std::string file;
  if (auto it = flags.find("config"); it != flags.end()) {
    file = it->second;
    flags.erase(it);
  } else if (auto e = env.find("CUNHUO_CONFIG"); e != env.end()) {
    file = e->second;
  }
  Config config;
  if (!file.empty()) {
    for (const auto& [key, value] : CUNHUO_TRY(read_file(file)))
      CUNHUO_CHECK(apply(config, key, value));
  }
  for (const auto& key : config_keys()) {
    if (auto e = env.find(env_name(key)); e != env.end())
      CUNHUO_CHECK(apply(config, key, e->second));
  }
  for (const auto& [key, value] : flags) CUNHUO_CHECK(apply(config, key, value));
  return config;
}

std::map<std::string, std::string> environment_map() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

}  // namespace cunhuo
