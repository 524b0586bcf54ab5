// The farmer's income this month: the settlement lines the statement is made of, and the
// month's statement signed as GET /api/v1/households/:id/statements/:period signs it.
#include <cctype>
#include <cstdio>

#include <charconv>

#include "core/privacy.hpp"
#include "payments/settlement.hpp"
#include "payments/statement_keys.hpp"
#include "payments/statements.hpp"
#include "storefront/page_words.hpp"
#include "storefront/route_support.hpp"
#include "storefront/trace_pages.hpp"
#include "storefront/web/qr.hpp"

namespace cunhuo::storefront {
namespace {

namespace pay = cunhuo::payments;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

Error no_household() {
  return make_error(ErrorKind::not_found, "not_found", "this account has no household");
}

// A query value percent-encoded: base64 signatures carry '+', '/' and '='.
std::string query_value(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// The verification page of a seal, as a phone opens it from the printed QR code.
std::string verify_link(const IncomePageContext& ctx, const PageCall& call,
                        const pay::StatementSeal& seal) {
  return page_origin(call, ctx.https) + std::string(kVerifyPath) + "?sha256=" + seal.sha256 +
         "&period=" + query_value(seal.period) + "&net=" + std::to_string(seal.net_fen) +
         "&key=" + query_value(seal.key_serial) + "&sig=" + query_value(seal.signature);
}

View line_view(const pay::StatementLineView& l) {
  View v;
  v.set("date", l.date);
  v.set("order", std::to_string(l.order_id));
  v.set("product", l.product);
  v.set("quantity", std::to_string(l.quantity));
  v.set("share", std::to_string(l.share_bps / 100) + "%");
  v.set("gross", yuan(l.gross));
  v.set("fees", yuan(l.fees));
  v.set("net", yuan(l.net));
  return v;
}

Result<Page> income(const IncomePageContext& ctx, const PageCall& call) {
  const Account& farmer = call.caller();
  if (!farmer.household_id) return no_household();
  const auto period = CUNHUO_TRY(pay::parse_period(month_label(ctx.clock.now_ms())));
  auto statement = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<pay::SignedStatement> {
    auto h = CUNHUO_TRY(household_for(s, farmer, *farmer.household_id));
    if (!h) return no_household();
    const pay::StatementSubject subject{h->id.value, mask_name(h->head_name), h->village_code,
                                        std::max(1, h->member_count)};
    return pay::issue_statement(s, subject, period, ctx.statement_key, ctx.clock);
  }));
  const auto shown = CUNHUO_TRY(pay::statement_view(statement));
  View v;
  v.set("period", shown.period_label);
  ViewList lines;
  for (const auto& l : shown.lines) lines.push_back(line_view(l));
  v.set("has_lines", !lines.empty());
  v.set("lines", lines);
  v.set("gross", yuan(shown.gross));
  v.set("fees", yuan(shown.fees));
  v.set("net", yuan(shown.net));
  v.set("per_member", yuan(shown.net_per_member));
  v.set("sha256", shown.sha256);
  v.set("signature", shown.signature);
  v.set("key_serial", shown.key_serial);
  const auto link = verify_link(ctx, call, pay::seal_statement(shown, ctx.statement_key));
  v.set("verify_link", link);
  v.set("qr", CUNHUO_TRY(web::qr_svg(link, kStatementQrPx)));
  return Page::show("income", "title_income", std::move(v));
}

// --- /statements/verify: what a bank or a township sees when it scans a statement ----------

Result<pay::StatementSeal> seal_in_query(const PageCall& call) {
  const auto& req = call.request;
  pay::StatementSeal seal{.sha256 = req.query_param("sha256").value_or(""),
                          .period = req.query_param("period").value_or(""),
                          .key_serial = req.query_param("key").value_or(""),
                          .signature = req.query_param("sig").value_or("")};
  const std::string net = req.query_param("net").value_or("");
  auto [end, ec] = std::from_chars(net.data(), net.data() + net.size(), seal.net_fen);
  if (seal.sha256.empty() || seal.period.empty() || seal.key_serial.empty() ||
      seal.signature.empty() || ec != std::errc() || end != net.data() + net.size())
    return make_error(ErrorKind::not_found, "not_found", "not a statement's verification link");
  return seal;
}

Result<Page> verify(const IncomePageContext& ctx, const PageCall& call) {
  const auto seal = CUNHUO_TRY(seal_in_query(call));
  const auto key = CUNHUO_TRY(
      ctx.db.read([&](db::Session& s) { return pay::statement_key(s, seal.key_serial); }));
  View v;
  v.set("genuine", key.has_value() && pay::seal_genuine(seal, key->public_key));
  v.set("sha256", seal.sha256);
  v.set("period", seal.period);
  v.set("net", yuan(Money::fen(seal.net_fen)));
  v.set("key_serial", seal.key_serial);
  return Page::show("statement_verify", "title_statement_verify", std::move(v));
}

}  // namespace

void add_income_pages(web::PageTable& pages, const IncomePageContext& ctx) {
  pages.add({.pattern = "/farm/income",
             .access = only({Role::farmer}),
             .summary = "The farmer's income this month, line by line, with its signed statement",
             .handler = [ctx](const PageCall& call) { return income(ctx, call); }});
  pages.add({.pattern = std::string(kVerifyPath),
             .access = anyone(),
             .summary = "Whether a printed income statement is genuine, from its QR code: "
                        "its sha256, period and net income, nothing personal",
             .handler = [ctx](const PageCall& call) { return verify(ctx, call); }});
}

}  // namespace cunhuo::storefront
