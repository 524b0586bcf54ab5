// What the office's and the helper's pages share: texts, an alert as a page shows it (with
// the form that closes it), and the page of something not found.
#pragma once

#include <string>
#include <string_view>

#include "alleviation/monitoring.hpp"
#include "storefront/office_pages.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

std::string text_of(const char* key, web::Lang lang);
std::string trimmed(std::string_view s);
// The outcomes an alert closes with, `chosen` selected.
web::ViewList alert_outcomes(web::Lang lang, const std::string& chosen);
// An alert: rule, figures, status, history; while open, a form to close it at
// `action_base`/<id>/close (the note and outcome kept from a refused try when `failed_action` is
// its path).
web::View alert_view(const alleviation::Alert& a, web::Lang lang, const std::string& action_base,
                     const std::string& failed_action = "", const std::string& kept_note = "",
                     const std::string& why = "", const std::string& kept_outcome = "");
// The page of something this caller may not see or that does not exist (404).
web::Page not_found_page(const web::PageCall& call, const Error& why);

// /office/households/:id, /office/funds, /office/statistics.
void add_office_record_pages(web::PageTable& pages, const OfficePageContext& ctx);

}  // namespace cunhuo::storefront
