#include "payments/statements.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::payments {
namespace {

constexpr const char* kFormat = "cunhuo-income-statement/1";

Error bad_period() {
  return make_error(ErrorKind::invalid, "invalid_period", "a period is YYYY-MM, YYYY-Qn or YYYY",
                    "period");
}

LocalDate first_of(int year, unsigned month) { return LocalDate{year, month, 1}; }

LocalDate day_before(LocalDate next_first) {
  return shanghai_date(shanghai_midnight_ms(next_first) - 1);
}

Status write_canonical(JsonWriter& w, const Json& v, int depth) {
  if (depth > 32) return make_error(ErrorKind::invalid, "too_deep", "nested too deeply");
  switch (v.type()) {
    case Json::Type::object: {
      std::vector<const std::pair<std::string, Json>*> fields;
      for (const auto& f : v.as_object()) fields.push_back(&f);
      std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->first < b->first; });
      w.begin_object();
      for (auto* f : fields) {
        w.key(f->first);
        CUNHUO_CHECK(write_canonical(w, f->second, depth + 1));
      }
      w.end_object();
      return {};
    }
    case Json::Type::array:
      w.begin_array();
      for (const auto& item : v.as_array()) CUNHUO_CHECK(write_canonical(w, item, depth + 1));
      w.end_array();
      return {};
    case Json::Type::number:
      return make_error(ErrorKind::invalid, "not_canonical",
                        "evidence holds no floating-point numbers");
    default: w.value(v); return {};
  }
}

Result<Json> statement_of(const SignedStatement& s) { return Json::parse(s.canonical); }

std::int64_t int_at(const Json& o, std::string_view key) {
  const Json* v = o.find(key);
  return v && v->type() == Json::Type::integer ? v->as_integer() : 0;
}

std::string str_at(const Json& o, std::string_view key) {
  const Json* v = o.find(key);
  return v && v->type() == Json::Type::string ? v->as_string() : std::string();
}

std::string seal_message(const StatementSeal& seal) {
  return "cunhuo-statement-seal/1\n" + seal.sha256 + "\n" + seal.period + "\n" +
         std::to_string(seal.net_fen);
}

}  // namespace

StatementSeal seal_statement(const StatementView& statement, const SigningKey& key) {
  StatementSeal seal{.sha256 = statement.sha256,
                     .period = statement.period_label,
                     .net_fen = statement.net.fen(),
                     .key_serial = key.serial()};
  seal.signature = key.sign(seal_message(seal));
  return seal;
}

bool seal_genuine(const StatementSeal& seal, std::string_view public_key) {
  return seal.key_serial == key_serial(public_key) &&
         signature_valid(public_key, seal_message(seal), seal.signature);
}

Result<std::string> canonical_json(const Json& value) {
  JsonWriter w;
  CUNHUO_CHECK(write_canonical(w, value, 0));
  return w.take();
}

Result<Period> parse_period(std::string_view text) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (text.size() < 4 || !digits(text.substr(0, 4))) return bad_period();
  const int year = std::stoi(std::string(text.substr(0, 4)));
  if (year < 2000 || year > 2999) return bad_period();
  Period p;
  p.label = std::string(text);
  if (text.size() == 4) {
    p.first = first_of(year, 1);
    p.last = day_before(first_of(year + 1, 1));
  } else if (text.size() == 7 && text[4] == '-' && text[5] == 'Q' && text[6] >= '1' &&
             text[6] <= '4') {
    const unsigned q = static_cast<unsigned>(text[6] - '0');
    p.first = first_of(year, 3 * q - 2);
    p.last = day_before(q == 4 ? first_of(year + 1, 1) : first_of(year, 3 * q + 1));
  } else if (text.size() == 7 && text[4] == '-' && digits(text.substr(5))) {
    const unsigned m = static_cast<unsigned>(std::stoi(std::string(text.substr(5))));
    if (m < 1 || m > 12) return bad_period();
    p.first = first_of(year, m);
    p.last = day_before(m == 12 ? first_of(year + 1, 1) : first_of(year, m + 1));
  } else {
    return bad_period();
  }
  p.from_ms = shanghai_midnight_ms(p.first);
  p.to_ms = shanghai_midnight_ms(p.last) + 86'400'000;
  return p;
}

std::string SignedStatement::document() const {
  return "{\"statement\":" + canonical + ",\"sha256\":\"" + sha256 + "\",\"signature\":\"" +
         signature + "\",\"key_serial\":\"" + key_serial + "\"}\n";
}

Result<SignedStatement> issue_statement(db::Session& s, const StatementSubject& subject,
                                        const Period& period, const SigningKey& key,
                                        const Clock& clock) {
  const auto lines =
      CUNHUO_TRY(settlement_lines(s, subject.household_id, period.from_ms, period.to_ms));
  std::int64_t gross = 0, fees = 0, net = 0;
  JsonWriter w;
  w.begin_object().field("format", kFormat).field("household_id", subject.household_id);
  w.field("household_name", subject.household_name)
      .field("village_code", subject.village_code)
      .field("members", subject.members);
  w.key("period")
      .begin_object()
      .field("label", period.label)
      .field("from", format_date(period.first))
      .field("to", format_date(period.last))
      .end_object();
  w.field("issued_at", format_shanghai(clock.now_ms()));
  w.key("lines").begin_array();
  for (const auto& l : lines) {
    gross += l.gross.fen();
    fees += l.fees.fen();
    net += l.net.fen();
    w.begin_object()
        .field("date", format_date(shanghai_date(l.settled_at_ms)))
        .field("order_id", l.order_id);
    w.field("line_no", l.line_no)
        .field("product_id", l.product_id)
        .field("product", l.title)
        .field("quantity", l.quantity);
    w.field("share_bps", l.share_bps)
        .field("gross_fen", l.gross.fen())
        .field("fees_fen", l.fees.fen())
        .field("net_fen", l.net.fen());
    w.key("campaign_id");
    if (l.campaign_id)
      w.value(*l.campaign_id);
    else
      w.null();
    w.field("campaign_kind", l.campaign_kind).end_object();
  }
  w.end_array();
  w.key("totals")
      .begin_object()
      .field("lines", static_cast<std::int64_t>(lines.size()))
      .field("gross_fen", gross);
  w.field("fees_fen", fees).field("net_fen", net).end_object();
  w.field("net_per_member_fen", net / std::max(1, subject.members));
  w.end_object();
  auto doc = CUNHUO_TRY(Json::parse(w.take()));
  SignedStatement out;
  out.canonical = CUNHUO_TRY(canonical_json(doc));
  out.sha256 = sha256_hex(out.canonical);
  out.signature = key.sign(out.canonical);
  out.key_serial = key.serial();
  return out;
}

Verdict verify_statement(std::string_view document, std::string_view public_key) {
  auto doc = Json::parse(document);
  if (!doc.ok() || doc->type() != Json::Type::object) return {false, "not a JSON statement"};
  const Json* statement = doc->find("statement");
  const std::string sha = str_at(*doc, "sha256"), signature = str_at(*doc, "signature"),
                    serial = str_at(*doc, "key_serial");
  if (statement == nullptr || statement->type() != Json::Type::object || sha.empty() ||
      signature.empty())
    return {false, "the statement, its sha256 or its signature is missing"};
  if (str_at(*statement, "format") != kFormat) return {false, "not a Cunhuo income statement"};
  if (serial != key_serial(public_key))
    return {false,
            "signed with a key this platform does not know (serial " + serial.substr(0, 20) + ")"};
  auto canonical = canonical_json(*statement);
  if (!canonical.ok()) return {false, canonical.error().message};
  if (sha256_hex(*canonical) != sha)
    return {false, "the contents do not match the sha256: the statement was altered"};
  if (!signature_valid(public_key, *canonical, signature))
    return {false, "the signature does not verify: the statement was altered or forged"};
  return {true, ""};
}

Result<StatementView> statement_view(const SignedStatement& statement) {
  const Json doc = CUNHUO_TRY(statement_of(statement));
  const Json& period = *doc.find("period");
  const Json& t = *doc.find("totals");
  StatementView v{.household_id = int_at(doc, "household_id"),
                  .household_name = str_at(doc, "household_name"),
                  .village_code = str_at(doc, "village_code"),
                  .period_label = str_at(period, "label"),
                  .period_from = str_at(period, "from"),
                  .period_to = str_at(period, "to"),
                  .issued_at = str_at(doc, "issued_at"),
                  .members = int_at(doc, "members"),
                  .lines = {},
                  .gross = Money::fen(int_at(t, "gross_fen")),
                  .fees = Money::fen(int_at(t, "fees_fen")),
                  .net = Money::fen(int_at(t, "net_fen")),
                  .net_per_member = Money::fen(int_at(doc, "net_per_member_fen")),
                  .sha256 = statement.sha256,
                  .signature = statement.signature,
                  .key_serial = statement.key_serial};
  for (const auto& l : doc.find("lines")->as_array())
    v.lines.push_back(StatementLineView{.date = str_at(l, "date"),
                                        .product = str_at(l, "product"),
                                        .campaign_kind = str_at(l, "campaign_kind"),
                                        .order_id = int_at(l, "order_id"),
                                        .quantity = int_at(l, "quantity"),
                                        .share_bps = static_cast<int>(int_at(l, "share_bps")),
                                        .gross = Money::fen(int_at(l, "gross_fen")),
                                        .fees = Money::fen(int_at(l, "fees_fen")),
                                        .net = Money::fen(int_at(l, "net_fen"))});
  return v;
}

Result<std::string> statement_csv(const SignedStatement& statement) {
  const StatementView v = CUNHUO_TRY(statement_view(statement));
  std::string csv =
      "date,order_id,product,quantity,share_bps,gross_yuan,fees_yuan,net_yuan,campaign_kind\n";
  for (const auto& l : v.lines)
    csv += l.date + "," + std::to_string(l.order_id) + "," + csv_field(l.product) + "," +
           std::to_string(l.quantity) + "," + std::to_string(l.share_bps) + "," +
           l.gross.to_yuan() + "," + l.fees.to_yuan() + "," + l.net.to_yuan() + "," +
           csv_field(l.campaign_kind) + "\n";
  csv += "total,,,,," + v.gross.to_yuan() + "," + v.fees.to_yuan() + "," + v.net.to_yuan() + ",\n";
  csv += "net_per_member,,,,,,," + v.net_per_member.to_yuan() + ",\n";
  csv += "sha256," + statement.sha256 + ",,,,,,,\n";
  return csv;
}

}  // namespace cunhuo::payments
