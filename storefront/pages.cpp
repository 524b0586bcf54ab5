#include "storefront/pages.hpp"

#include "core/clock.hpp"
#include "core/text.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;

std::string counts_row_html(const al::AreaCounts& c, bool link) {
  std::string h = "<tr><td>";
  h += link ? "<a href=\"/public/statistics?region=" + c.code + "\">" + c.code + "</a>" : c.code;
  h += "</td>";
  for (auto n : {c.registered, c.poor, c.at_risk, c.proposed, c.exited, c.returned})
    h += "<td class=n>" + std::to_string(n) + "</td>";
  return h + "</tr>";
}

constexpr const char* kCountHeads =
    "<th>建档立卡户 Registered</th><th>未脱贫 Poor</th><th>监测户 At risk</th><th>拟退出 "
    "Proposed</th><th>已脱贫 Exited</th><th>返贫 Returned</th>";

std::string csv_link(const al::AreaStatistics& s, const char* table, const char* label) {
  return "<a href=\"/api/v1/public/statistics?region=" + s.region_code +
         "&amp;format=csv&amp;table=" + table + "\" download>" + label + "</a>";
}

}  // namespace

std::string statement_html(const payments::StatementView& v) {
  std::string h =
      "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
      "<meta name=viewport content=\"width=device-width\"><title>收入证明 " +
      html_escape(v.period_label) +
      "</title><style>body{font-family:sans-serif;margin:2em}"
      "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:4px 6px}"
      "td.n{text-align:right}.sig{font-family:monospace;word-break:break-all;font-size:.8em}"
      "@media print{.hint{display:none}}</style></head><body>";
  h += "<h1>农户销售收入证明 Household income statement</h1>";
  h += "<p>户 Household: " + html_escape(v.household_name) + " (No. " +
       std::to_string(v.household_id) + ") · 村 Village: " + html_escape(v.village_code) +
       " · 人口 Members: " + std::to_string(v.members) + "</p>";
  h += "<p>期间 Period: " + html_escape(v.period_label) + " (" + html_escape(v.period_from) +
       " – " + html_escape(v.period_to) + ") · 开具 Issued: " + html_escape(v.issued_at) + "</p>";
  h += "<table><thead><tr><th>日期 Date</th><th>订单 Order</th><th>商品 Product</th><th>数量 "
       "Qty</th><th>份额 Share</th>"
       "<th>销售额 Gross ¥</th><th>费用 Fees ¥</th><th>净收入 Net ¥</th><th>活动 "
       "Campaign</th></tr></thead><tbody>";
  for (const auto& l : v.lines)
    h += "<tr><td>" + html_escape(l.date) + "</td><td class=n>" + std::to_string(l.order_id) +
         "</td><td>" + html_escape(l.product) + "</td><td class=n>" + std::to_string(l.quantity) +
         "</td><td class=n>" + std::to_string(l.share_bps / 100) + "%</td><td class=n>" +
         l.gross.to_yuan() + "</td><td class=n>" + l.fees.to_yuan() + "</td><td class=n>" +
         l.net.to_yuan() + "</td><td>" + html_escape(l.campaign_kind) + "</td></tr>";
  h += "</tbody><tfoot><tr><th colspan=5>合计 Total</th><td class=n>" + v.gross.to_yuan() +
       "</td><td class=n>" + v.fees.to_yuan() + "</td><td class=n>" + v.net.to_yuan() +
       "</td><td></td></tr></tfoot></table>";
  h += "<p>人均净收入 Net income per member: ¥" + v.net_per_member.to_yuan() + "</p>";
  h += "<p class=sig>SHA-256: " + html_escape(v.sha256) + "<br>Ed25519 key " +
       html_escape(v.key_serial) + " signature: " + html_escape(v.signature) +
       "</p><button id=print class=hint>打印 Print</button>"
       "<script src=\"/assets/print.js\" defer></script></body></html>";
  return h;
}

std::string statistics_html(const al::AreaStatistics& s) {
  std::string h =
      "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=viewport "
      "content=\"width=device-width\">"
      "<title>扶贫信息公开 Open statistics " +
      s.region_code +
      "</title><style>body{font-family:sans-serif;margin:1em}"
      "table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px "
      "6px}td.n{text-align:right}</style></head><body>";
  h += "<h1>扶贫信息公开 Open statistics</h1><p>地区 Area: <b id=area>" + s.region_code +
       "</b> · 更新 As of " + format_shanghai(s.generated_at_ms) + "</p>";
  h += "<h2>农户 Households</h2><table id=areas><thead><tr><th>地区 Area</th>" +
       std::string(kCountHeads) + "</tr></thead><tbody>";
  h += counts_row_html(s.total, false);
  for (const auto& p : s.parts) h += counts_row_html(p, true);
  h += "</tbody></table><p>" + csv_link(s, "areas", "下载 CSV download") + "</p>";
  h += "<h2>平台销售 Platform sales by month</h2><table id=months><thead><tr><th>月份 "
       "Month</th><th>销售农户 Selling households</th>"
       "<th>销售额 Sales ¥</th><th>建档立卡户收入 Income to registered households "
       "¥</th></tr></thead><tbody>";
  for (const auto& m : s.months)
    h += "<tr><td>" + m.month + "</td><td class=n>" + std::to_string(m.selling_households) +
         "</td><td class=n>" + al::shown_yuan(m.sales, false) + "</td><td class=n>" +
         al::shown_yuan(m.income_to_registered, false) + "</td></tr>";
  h += "</tbody></table><p>“—”：有村销售农户少于 " + std::to_string(al::kMinHouseholdsPerFigure) +
       " 户，不公开金额 (a village with fewer than " + std::to_string(al::kMinHouseholdsPerFigure) +
       " selling households: not shown). " + csv_link(s, "months", "下载 CSV download") + "</p>";
  h += "<h2>退出公示 Exit notices</h2><table id=notices><thead><tr><th>村 Village</th><th>户主 "
       "Household</th><th>人口 Members</th>"
       "<th>拟退出 Proposed</th><th>异议截止 Objections until</th><th>剩余 "
       "Left</th></tr></thead><tbody>";
  for (const auto& n : s.notices)
    h += "<tr><td>" + n.village_code + "</td><td>" + html_escape(n.masked_name) +
         "</td><td class=n>" + std::to_string(n.members) + "</td><td>脱贫 exit</td><td>" +
         format_shanghai(n.ends_ms) + "</td><td class=left data-ends=\"" +
         std::to_string(n.ends_ms) + "\"></td></tr>";
  if (s.notices.empty()) h += "<tr><td colspan=6>暂无 None</td></tr>";
  h += "</tbody></table><p>" + csv_link(s, "notices", "下载 CSV download") +
       " · 异议请联系乡镇扶贫工作站 To object, see the township office or POST "
       "/api/v1/exit-proposals/{id}/objections.</p>";
  // The time left, counted on the reader's own clock by a served script (no inline script,
  // so the page's CSP need not allow one); the deadline itself is printed above.
  h += "<script src=\"/assets/exit-countdown.js\" defer></script></body></html>";
  return h;
}

}  // namespace cunhuo::storefront
