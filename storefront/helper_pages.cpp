#include "storefront/helper_pages.hpp"

#include <string>
#include <vector>

#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "core/privacy.hpp"
#include "marketplace/archive.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/office_views.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace mk = cunhuo::marketplace;
using web::Page, web::PageCall, web::View, web::ViewList, web::Lang;

constexpr std::string_view kHelperPath = "/helper";
constexpr std::string_view kHelperAlerts = "/helper/alerts/";

// A refused close, shown again: which form, the note typed, and why.
struct Refused {
  std::string action, note, outcome, why;
};

Result<ViewList> household_views(db::Session& s, const Account& a, Lang lang) {
  const auto households = CUNHUO_TRY(mk::households_helped_by(s, a.id, mk::kMaxHelpedHouseholds));
  std::vector<std::int64_t> ids;
  for (const auto& h : households) ids.push_back(h.id.value);
  const auto standings = CUNHUO_TRY(al::latest_standings(s, ids));
  const auto risky = CUNHUO_TRY(al::households_at_risk(s, ids));
  const auto names = CUNHUO_TRY(mk::place_names(s, [&] {
    std::vector<std::string> codes;
    for (const auto& h : households) codes.push_back(h.village_code);
    return codes;
  }()));
  ViewList out;
  for (const auto& h : households) {
    View v;
    v.set("id", std::to_string(h.id.value));
    // A helper sees the card masked (policy.hpp): the name, not the ID number.
    v.set("name", mask_name(h.head_name));
    v.set("village", place_text(h.village_code, names, lang));
    v.set("status",
          word("poverty_" + std::string(mk::to_string(h.status)), mk::to_string(h.status), lang));
    if (auto st = standings.find(h.id.value); st != standings.end()) {
      v.set("score", std::to_string(st->second.score));
      const std::string band(al::to_string(st->second.band));
      v.set("band", word("band_" + band, band, lang));
    } else {
      v.set("band", text_of("helper_not_scored", lang));
    }
    v.set("at_risk", risky.contains(h.id.value));
    out.push_back(v);
  }
  return out;
}

Result<Page> helper_home(const HelperPageContext& ctx, const PageCall& call,
                         const Refused* refused) {
  const Account& a = call.caller();
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    View out;
    out.set("households", CUNHUO_TRY(household_views(s, a, call.lang)));
    ViewList alerts;
    for (const char* status : {"open", "proposed"})
      for (const auto& alert : CUNHUO_TRY(al::alerts_for(s, "", a.id, status)))
        alerts.push_back(alert_view(alert, call.lang, std::string(kHelperAlerts),
                                    refused ? refused->action : "", refused ? refused->note : "",
                                    refused ? refused->why : "", refused ? refused->outcome : ""));
    out.set("alerts", alerts);
    out.set("no_alerts", alerts.empty());
    return out;
  }));
  if (call.request.query_param("done")) v.set("done", true);
  if (refused) v.set("page_error", refused->why);
  return Page::show("helper_home", "title_helper", std::move(v));
}

// Closes an alert assigned to the helper with its outcome and note (a helper's
// status_changed only proposes the return to poverty; the office decides).
Result<Page> close(const HelperPageContext& ctx, const PageCall& call) {
  const std::string note = trimmed(call.field("reason"));
  if (note.empty())
    return make_error(ErrorKind::invalid, "reason_required", "say what was done", "reason");
  const std::int64_t id = CUNHUO_TRY(call.path_id("alert"));
  CUNHUO_TRY(ctx.db.write([&](db::Session& tx) {
    return close_alert_as(tx, call.caller(), id, call.field("outcome"), note, ctx.clock);
  }));
  return Page::see_other(std::string(kHelperPath) + "?done=1");
}

}  // namespace

void add_helper_pages(web::PageTable& pages, const HelperPageContext& ctx) {
  const Access helpers = only({Role::helper});
  pages.add({.pattern = std::string(kHelperPath),
             .access = helpers,
             .summary = "The helper's households with their band, and their alerts to close",
             .handler = [ctx](const PageCall& call) { return helper_home(ctx, call, nullptr); }});
  pages.add({.method = "POST",
             .pattern = std::string(kHelperAlerts) + ":id/close",
             .access = helpers,
             .summary = "Close an assigned alert with its outcome and a note",
             .handler = [ctx](const PageCall& call) { return close(ctx, call); },
             .reshow = [ctx](const PageCall& call, const Error& why) -> Result<Page> {
               if (why.kind == ErrorKind::not_found) return not_found_page(call, why);
               const Refused refused{.action = call.request.path,
                                     .note = call.field("reason"),
                                     .outcome = call.field("outcome"),
                                     .why = web::refusal_message(why, call.lang)};
               return helper_home(ctx, call, &refused);
             }});
}

}  // namespace cunhuo::storefront
