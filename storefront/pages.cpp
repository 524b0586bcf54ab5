#include "storefront/pages.hpp"

#include "core/clock.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
using web::View;
using web::ViewList;

// The code (for links) and what the page shows for it: "名称（代码）".
void set_place(View& v, const std::string& code, const PlaceNames& names, web::Lang lang) {
  v.set("code", code);
  v.set("place", place_text(code, names, lang));
}

View counts_view(const al::AreaCounts& c, bool link, const PlaceNames& names, web::Lang lang) {
  View v;
  set_place(v, c.code, names, lang);
  v.set("link", link);
  ViewList counts;
  for (auto n : {c.registered, c.poor, c.at_risk, c.proposed, c.exited, c.returned}) {
    View count;
    count.set("n", std::to_string(n));
    counts.push_back(count);
  }
  v.set("counts", counts);
  return v;
}

std::string csv_link(const al::AreaStatistics& s, const char* table) {
  return "/api/v1/public/statistics?region=" + s.region_code + "&format=csv&table=" + table;
}

View statement_line(const payments::StatementLineView& l) {
  View v;
  v.set("date", l.date);
  v.set("order", std::to_string(l.order_id));
  v.set("product", l.product);
  v.set("quantity", std::to_string(l.quantity));
  v.set("share", std::to_string(l.share_bps / 100) + "%");
  v.set("gross", l.gross.to_yuan());
  v.set("fees", l.fees.to_yuan());
  v.set("net", l.net.to_yuan());
  v.set("campaign", l.campaign_kind);
  return v;
}

}  // namespace

std::string statement_html(const payments::StatementView& s, const PlaceNames& names,
                           web::Chrome chrome) {
  const web::Lang lang = chrome.lang;
  View v;
  v.set("household_name", s.household_name);
  v.set("household_id", std::to_string(s.household_id));
  v.set("village_place", place_text(s.village_code, names, lang));  // "village": a template
  v.set("members", std::to_string(s.members));
  v.set("period", s.period_label);
  v.set("from", s.period_from);
  v.set("to", s.period_to);
  v.set("issued_at", s.issued_at);
  ViewList lines;
  for (const auto& l : s.lines) lines.push_back(statement_line(l));
  v.set("lines", lines);
  v.set("gross", s.gross.to_yuan());
  v.set("fees", s.fees.to_yuan());
  v.set("net", s.net.to_yuan());
  v.set("per_member", s.net_per_member.to_yuan());
  v.set("sha256", s.sha256);
  v.set("key_serial", s.key_serial);
  v.set("signature", s.signature);
  chrome.title = std::string(web::text("statement_title", lang)) + " " + s.period_label;
  return web::Templates::builtin().page("statement", std::move(v), chrome);
}

std::string statistics_html(const al::AreaStatistics& s, const PlaceNames& names,
                            web::Chrome chrome) {
  const web::Lang lang = chrome.lang;
  View v;
  set_place(v, s.region_code, names, lang);
  v.set("as_of", page_time(s.generated_at_ms));
  ViewList areas;
  areas.push_back(counts_view(s.total, false, names, lang));
  for (const auto& p : s.parts) areas.push_back(counts_view(p, true, names, lang));
  v.set("areas", areas);
  ViewList months;
  for (const auto& m : s.months) {
    View row;
    row.set("month", m.month);
    row.set("households", std::to_string(m.selling_households));
    row.set("sales", al::shown_yuan(m.sales, false));
    row.set("income", al::shown_yuan(m.income_to_registered, false));
    months.push_back(row);
  }
  v.set("months", months);
  ViewList notices;
  for (const auto& n : s.notices) {
    View row;
    set_place(row, n.village_code, names, lang);
    row.set("household", n.masked_name);
    row.set("members", std::to_string(n.members));
    row.set("ends", page_time(n.ends_ms));
    row.set("ends_ms", std::to_string(n.ends_ms));
    notices.push_back(row);
  }
  v.set("has_notices", !notices.empty());
  v.set("notices", notices);
  v.set("min_households", std::to_string(al::kMinHouseholdsPerFigure));
  v.set("csv_areas", csv_link(s, "areas"));
  v.set("csv_months", csv_link(s, "months"));
  v.set("csv_notices", csv_link(s, "notices"));
  chrome.title = std::string(web::text("statistics_title", lang)) + " " +
                 place_text(s.region_code, names, lang);
  return web::Templates::builtin().page("statistics", std::move(v), chrome);
}

}  // namespace cunhuo::storefront
