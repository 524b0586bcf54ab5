// The helper's (帮扶责任人) workbench, /helper: the households whose card names them as
// helper, each with its current band, and the alerts assigned to them, each closed from
// the page with its outcome and a note through the same move as the API.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

struct HelperPageContext {
  db::Database& db;
  const Clock& clock;
};

void add_helper_pages(web::PageTable& pages, const HelperPageContext& ctx);

}  // namespace cunhuo::storefront
