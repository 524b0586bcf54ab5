#include "payments/wechatpay/protocol.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/json.hpp"

namespace cunhuo::payments::wechatpay {
namespace {

Error bad(std::string what) {
  return make_error(ErrorKind::invalid, std::string(kBadNotification), std::move(what), "body");
}

std::string text_of(const Json& doc, std::string_view key) {
  const Json* v = doc.find(key);
  return v != nullptr && v->type() == Json::Type::string ? v->as_string() : std::string();
}

std::int64_t int_of(const Json* doc, std::string_view key) {
  const Json* v = doc != nullptr ? doc->find(key) : nullptr;
  return v != nullptr && v->type() == Json::Type::integer ? v->as_integer() : -1;
}

Result<Json> object_of(std::string_view json, const char* what) {
  auto doc = Json::parse(json);
  if (!doc.ok() || doc->type() != Json::Type::object) return bad(std::string(what) + " not JSON");
  return std::move(*doc);
}

// The bill's fields: each value written as `value, so a spreadsheet keeps it as text.
std::vector<std::string> bill_fields(std::string_view line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= line.size()) {
    std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) comma = line.size();
    std::string_view field = line.substr(start, comma - start);
    if (field.starts_with('`')) field.remove_prefix(1);
    out.emplace_back(field);
    start = comma + 1;
  }
  return out;
}

constexpr const char* kBillHeader =
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注";
constexpr const char* kBillSummaryHeader =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
    "申请退款总金额";

}  // namespace

std::string request_message(std::string_view method, std::string_view url,
                            std::string_view timestamp, std::string_view nonce,
                            std::string_view body) {
  std::string m;
  for (auto part : {method, url, timestamp, nonce, body}) (m += part) += '\n';
  return m;
}

std::string response_message(std::string_view timestamp, std::string_view nonce,
                             std::string_view body) {
  std::string m;
  for (auto part : {timestamp, nonce, body}) (m += part) += '\n';
  return m;
}

std::string format_authorization(const Authorization& a) {
  return std::string(kAuthScheme) + " mchid=\"" + a.mchid + "\",nonce_str=\"" + a.nonce_str +
         "\",signature=\"" + a.signature + "\",timestamp=\"" + a.timestamp + "\",serial_no=\"" +
         a.serial_no + "\"";
}

Result<Authorization> parse_authorization(std::string_view header) {
  auto refuse = [] {
    return make_error(ErrorKind::unauthorized, "SIGN_ERROR", "a malformed Authorization header");
  };
  if (!header.starts_with(kAuthScheme) || header.size() <= kAuthScheme.size() ||
      header[kAuthScheme.size()] != ' ')
    return refuse();
  header.remove_prefix(kAuthScheme.size() + 1);
  Authorization a;
  const std::pair<std::string_view, std::string*> fields[] = {{"mchid", &a.mchid},
                                                              {"nonce_str", &a.nonce_str},
                                                              {"signature", &a.signature},
                                                              {"timestamp", &a.timestamp},
                                                              {"serial_no", &a.serial_no}};
  bool seen[std::size(fields)] = {};
  while (!header.empty()) {
    const auto eq = header.find("=\"");
    if (eq == std::string_view::npos) return refuse();
    const auto end = header.find('"', eq + 2);
    if (end == std::string_view::npos) return refuse();
    const std::string_view key = header.substr(0, eq), value = header.substr(eq + 2, end - eq - 2);
    for (std::size_t i = 0; i < std::size(fields); ++i) {
      if (key != fields[i].first) continue;
      // Once each, never empty: a second value must not silently replace what was signed.
      if (seen[i] || value.empty()) return refuse();
      seen[i] = true;
      *fields[i].second = value;
    }
    header.remove_prefix(end + 1);
    if (header.starts_with(',')) header.remove_prefix(1);
  }
  for (bool s : seen)
    if (!s) return refuse();
  return a;
}

Result<SignedHeaders> sign_body(const RsaKey& key, std::string_view serial, std::int64_t now_s,
                                std::string_view body) {
  SignedHeaders h{.serial = std::string(serial),
                  .timestamp = std::to_string(now_s),
                  .nonce = random_token(kNonceChars),
                  .signature = {}};
  h.signature = CUNHUO_TRY(key.sign(response_message(h.timestamp, h.nonce, body)));
  return h;
}

Status check_signed(const SignedHeaders& h, std::string_view body, const RsaKey& public_key,
                    std::int64_t now_s) {
  if (!public_key.verifies(response_message(h.timestamp, h.nonce, body), h.signature))
    return make_error(ErrorKind::unauthorized, std::string(kBadSignature),
                      "the signature does not verify", "Wechatpay-Signature");
  if (!fresh_timestamp(h.timestamp, now_s))
    return make_error(ErrorKind::unauthorized, std::string(kStale),
                      "the timestamp is 5 minutes or more from now", "Wechatpay-Timestamp");
  return {};
}

bool is_public_key_id(std::string_view text) {
  if (!text.starts_with(kPublicKeyIdPrefix)) return false;
  const std::string_view digits = text.substr(kPublicKeyIdPrefix.size());
  if (digits.empty() || digits.size() > kMaxPublicKeyIdDigits) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;  // 4'000'000'000 has 10 digits
  std::int64_t at = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no space, no "123abc"
    at = at * 10 + (c - '0');
  }
  if (at > kMaxTimestampSeconds) return std::nullopt;
  return at;
}

bool fresh_timestamp(std::string_view text, std::int64_t now_s) {
  const auto at = parse_timestamp(text);
  if (!at || now_s < 0 || now_s > kMaxTimestampSeconds) return false;
  // Both bounded to [0, kMaxTimestampSeconds]: the difference cannot overflow.
  const std::int64_t apart = *at > now_s ? *at - now_s : now_s - *at;
  return apart < kMaxSkewSeconds;
}

NonceWindow::Verdict NonceWindow::take(const std::string& nonce, std::int64_t at_s,
                                       std::int64_t now_s) {
  // Forget those whose request would be stale by now: a replay of them is refused as stale.
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now_s) {
    expiry_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  if (expiry_.contains(nonce)) return Verdict::replayed;
  if (expiry_.size() >= kMaxRememberedNonces) return Verdict::full;
  const std::int64_t forget_after = at_s + kMaxSkewSeconds;
  expiry_.emplace(nonce, forget_after);
  by_expiry_.emplace(forget_after, nonce);
  return Verdict::first;
}

std::optional<std::string_view> resource_kind_of(std::string_view event_type) {
  if (event_type.starts_with("TRANSACTION.")) return kTransactionResource;
  if (event_type.starts_with("REFUND.")) return kRefundResource;
  return std::nullopt;
}

std::string encode(const Transaction& t) {
  JsonWriter w;
  w.begin_object().field("appid", t.appid).field("mchid", t.mchid);
  w.field("out_trade_no", t.out_trade_no).field("trade_type", t.trade_type);
  w.field("trade_state", t.trade_state).field("trade_state_desc", t.trade_state);
  if (!t.transaction_id.empty()) w.field("transaction_id", t.transaction_id);
  if (!t.success_time.empty()) w.field("success_time", t.success_time);
  w.key("amount").begin_object().field("total", t.total).field("currency", t.currency);
  if (t.trade_state == kSuccess) w.field("payer_total", t.total).field("payer_currency", "CNY");
  w.end_object().end_object();
  return w.take();
}

Result<Transaction> decode_transaction(std::string_view json) {
  const Json doc = CUNHUO_TRY(object_of(json, "the transaction is"));
  Transaction t{.appid = text_of(doc, "appid"),
                .mchid = text_of(doc, "mchid"),
                .out_trade_no = text_of(doc, "out_trade_no"),
                .transaction_id = text_of(doc, "transaction_id"),
                .trade_type = text_of(doc, "trade_type"),
                .trade_state = text_of(doc, "trade_state"),
                .success_time = text_of(doc, "success_time"),
                .total = int_of(doc.find("amount"), "total"),
                .currency = "CNY"};
  if (const Json* amount = doc.find("amount")) t.currency = text_of(*amount, "currency");
  if (t.out_trade_no.empty() || t.trade_state.empty() || t.total < 0)
    return bad("a transaction names out_trade_no, trade_state and amount.total");
  return t;
}

std::string encode(const RefundRecord& r) {
  JsonWriter w;
  w.begin_object();
  if (!r.mchid.empty()) w.field("mchid", r.mchid);
  w.field("refund_id", r.refund_id).field("out_refund_no", r.out_refund_no);
  w.field("transaction_id", r.transaction_id).field("out_trade_no", r.out_trade_no);
  w.field("channel", "ORIGINAL").field("status", r.status).field("refund_status", r.status);
  if (!r.success_time.empty()) w.field("success_time", r.success_time);
  w.key("amount").begin_object().field("refund", r.refund).field("total", r.total);
  w.field("payer_refund", r.refund).field("currency", "CNY").end_object().end_object();
  return w.take();
}

Result<RefundRecord> decode_refund(std::string_view json) {
  const Json doc = CUNHUO_TRY(object_of(json, "the refund is"));
  RefundRecord r{.mchid = text_of(doc, "mchid"),
                 .refund_id = text_of(doc, "refund_id"),
                 .out_refund_no = text_of(doc, "out_refund_no"),
                 .transaction_id = text_of(doc, "transaction_id"),
                 .out_trade_no = text_of(doc, "out_trade_no"),
                 .status = text_of(doc, "status"),
                 .success_time = text_of(doc, "success_time"),
                 .refund = int_of(doc.find("amount"), "refund"),
                 .total = int_of(doc.find("amount"), "total")};
  if (r.status.empty()) r.status = text_of(doc, "refund_status");  // as notifications name it
  if (r.out_refund_no.empty() || r.status.empty() || r.refund < 0)
    return bad("a refund names out_refund_no, its status and amount.refund");
  return r;
}

std::string encode(const Envelope& e) {
  JsonWriter w;
  w.begin_object().field("id", e.id).field("create_time", e.create_time);
  w.field("event_type", e.event_type).field("resource_type", e.resource_type);
  w.key("resource").begin_object().field("algorithm", e.resource.algorithm);
  w.field("original_type", e.resource.original_type).field("ciphertext", e.resource.ciphertext);
  w.field("associated_data", e.resource.associated_data).field("nonce", e.resource.nonce);
  w.end_object().field("summary", e.summary).end_object();
  return w.take();
}

Result<Envelope> decode_envelope(std::string_view json) {
  const Json doc = CUNHUO_TRY(object_of(json, "the notification is"));
  const Json* resource = doc.find("resource");
  if (resource == nullptr || resource->type() != Json::Type::object)
    return bad("the notification has no resource");
  Envelope e{.id = text_of(doc, "id"),
             .create_time = text_of(doc, "create_time"),
             .event_type = text_of(doc, "event_type"),
             .resource_type = text_of(doc, "resource_type"),
             .summary = text_of(doc, "summary"),
             .resource = Resource{.algorithm = text_of(*resource, "algorithm"),
                                  .original_type = text_of(*resource, "original_type"),
                                  .ciphertext = text_of(*resource, "ciphertext"),
                                  .associated_data = text_of(*resource, "associated_data"),
                                  .nonce = text_of(*resource, "nonce")}};
  if (e.event_type.empty() || e.resource.ciphertext.empty())
    return bad("the notification names no event_type or ciphertext");
  return e;
}

std::string yuan(std::int64_t fen) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", fen < 0 ? "-" : "",
                static_cast<long long>(std::llabs(fen) / 100),
                static_cast<long long>(std::llabs(fen) % 100));
  return buf;
}

std::optional<std::int64_t> fen_of_yuan(std::string_view text) {
  const auto dot = text.find('.');
  std::int64_t whole = 0, cents = 0;
  const std::string_view w = text.substr(0, dot);
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), whole);
  if (ec != std::errc{} || end != w.data() + w.size() || whole < 0) return std::nullopt;
  if (dot != std::string_view::npos) {
    const std::string_view c = text.substr(dot + 1);
    if (c.size() != 2) return std::nullopt;
    auto [cend, cec] = std::from_chars(c.data(), c.data() + 2, cents);
    if (cec != std::errc{} || cend != c.data() + 2) return std::nullopt;
  }
  return whole * 100 + cents;
}

std::string beijing_time(std::int64_t epoch_s) {
  const time_t t = static_cast<time_t>(epoch_s + 8 * 3600);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
  return buf;
}

std::string format_trade_bill(std::string_view appid, std::string_view mchid,
                              const std::vector<TradeBillLine>& lines) {
  std::string csv = std::string(kBillHeader) + "\r\n";
  std::int64_t paid = 0, refunded = 0;
  for (const auto& l : lines) {
    const bool refund = l.trade_state == kRefund;
    const std::string refund_status = !refund                   ? ""
                                      : l.refund_status.empty() ? std::string(kSuccess)
                                                                : l.refund_status;
    const std::vector<std::string> fields = {l.trade_time,
                                             std::string(appid),
                                             std::string(mchid),
                                             "0",
                                             "",
                                             l.transaction_id,
                                             l.out_trade_no,
                                             "sandbox-payer",
                                             "MWEB",
                                             l.trade_state,
                                             "OTHERS",
                                             "CNY",
                                             yuan(refund ? 0 : l.total),
                                             "0.00",
                                             l.refund_id,
                                             l.out_refund_no,
                                             yuan(refund ? l.refund : 0),
                                             "0.00",
                                             refund ? "ORIGINAL" : "",
                                             refund_status,
                                             "村货订单",
                                             "",
                                             "0.00000",
                                             "0.60%",
                                             yuan(l.total),
                                             yuan(refund ? l.refund : 0),
                                             ""};
    for (std::size_t i = 0; i < fields.size(); ++i) (csv += i ? ",`" : "`") += fields[i];
    csv += "\r\n";
    (refund ? refunded : paid) += refund ? l.refund : l.total;
  }
  csv += std::string(kBillSummaryHeader) + "\r\n";
  csv += "`" + std::to_string(lines.size()) + ",`" + yuan(paid) + ",`" + yuan(refunded) +
         ",`0.00,`0.00000,`" + yuan(paid) + ",`" + yuan(refunded) + "\r\n";
  return csv;
}

Result<std::vector<TradeBillLine>> parse_trade_bill(std::string_view csv) {
  auto refuse = [](std::string what) {
    return make_error(ErrorKind::unavailable, "bad_bill", "the trade bill " + std::move(what));
  };
  std::vector<std::string> header;
  std::vector<TradeBillLine> out;
  std::size_t start = 0;
  auto column = [&](std::string_view name) -> std::size_t {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    return header.size();
  };
  while (start < csv.size()) {
    std::size_t end = csv.find('\n', start);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view line = csv.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    start = end + 1;
    if (line.empty()) continue;
    if (header.empty()) {
      header = bill_fields(line);
      continue;
    }
    if (!line.starts_with('`')) break;  // the summary's heading: the lines are done
    const auto f = bill_fields(line);
    if (f.size() != header.size()) return refuse("has a line of another width");
    auto at = [&](std::string_view name) { return f[std::min(column(name), f.size() - 1)]; };
    TradeBillLine l{.trade_time = at("交易时间"),
                    .transaction_id = at("微信订单号"),
                    .out_trade_no = at("商户订单号"),
                    .trade_state = at("交易状态"),
                    .refund_id = at("微信退款单号"),
                    .out_refund_no = at("商户退款单号"),
                    .total = fen_of_yuan(at("应结订单金额")).value_or(-1),
                    .refund = fen_of_yuan(at("退款金额")).value_or(-1),
                    .refund_status = column("退款状态") < f.size() ? f[column("退款状态")] : ""};
    if (column("商户订单号") == header.size() || l.total < 0 || l.refund < 0)
      return refuse("has a line that does not parse");
    out.push_back(std::move(l));
  }
  if (header.empty()) return refuse("is empty");
  return out;
}

}  // namespace cunhuo::payments::wechatpay
