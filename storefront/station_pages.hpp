// The township station operator's pages (/station), for a phone or a counter PC: a scan
// box that records a parcel's move in one tap (typed, a USB scanner's keystrokes, the
// camera, or a photo of the label read on the server), what is arriving, in store and to
// dispatch; the day's pickup runs and their printed route sheet; and the handover of a
// parcel to its recipient against the pickup code sent to them. An operator works on their
// own station only; admin may open any station's pages by naming it (?node=CODE).
#pragma once

#include <cstdint>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/planner.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr std::int64_t kStationListRows = 30;  // per list on /station
inline constexpr int kRouteSheetQrPx = 96;
inline constexpr int kDefaultRunCrates = 40;  // a van's load when the form names none
inline constexpr int kMaxRunCrates = 1000;

struct StationPageContext {
  db::Database& db;
  const Clock& clock;
  logistics::Planner& planner;
  outbox::Dispatcher& dispatcher;    // woken after a scan: its events go out now
  std::int64_t max_upload_body = 0;  // a label's photo
  bool https = false;                // the route sheet's QR codes say https
};

void add_station_pages(web::PageTable& pages, const StationPageContext& ctx);

}  // namespace cunhuo::storefront
