// The public page a lot's QR code opens (/t/<lot code>): where the produce came from, its
// certificate, its cold chain parcel by parcel (time in the chain, time out of range, any
// excursion and how the county centre decided it), and how much of each sale reached the
// households that grew it. No personal data: no names of heads, phones or ID numbers, no
// buyers; a shop and a village by name, as on their own public pages.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "payments/signing.hpp"
#include "payments/statements.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kTraceQrPx = 120;
inline constexpr std::string_view kTracePath = "/t/";

struct TracePageContext {
  db::Database& db;
  const Clock& clock;
};

void add_trace_pages(web::PageTable& pages, const TracePageContext& ctx);
// Where this site is, as the visitor reached it ("https://cunhuo.example"): for the links
// QR codes carry, which a phone opens on its own.
std::string page_origin(const web::PageCall& call, bool https);

// The farmer's income this month, line by line, with the month's signed statement; its
// printable page carries a QR code of the statement's public verification page.
inline constexpr int kStatementQrPx = 140;
inline constexpr std::string_view kVerifyPath = "/statements/verify";
struct IncomePageContext {
  db::Database& db;
  const Clock& clock;
  const payments::SigningKey& statement_key;
  bool https = false;  // served over TLS: the QR code's link says https
};
void add_income_pages(web::PageTable& pages, const IncomePageContext& ctx);

}  // namespace cunhuo::storefront
