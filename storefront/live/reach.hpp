// Who may receive a live event: the access policy (storefront/policy.hpp) applied to the
// outbox. An event is placed once, when it is read (reach_of: one entry per topic), and
// every connected account is then checked against that place (may_receive: one rule per
// role). To feed a new topic to the live screens, add its entry to reach_of; a topic
// without an entry reaches admins only, so nothing is shown that the policy has not been
// asked about.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront::live {

// What an event is about, by id and region only.
struct Reach {
  std::vector<std::int64_t> buyers;      // accounts whose own orders it is about
  std::vector<std::int64_t> shops;       // their shops (shop managers)
  std::vector<std::int64_t> households;  // households it is about, or whose shop it is
  std::vector<std::string> areas;        // region codes: offices and the centre over them
  std::vector<std::int64_t> nodes;       // the stations it passes (station operators)
};

// Places an event; an event whose objects are gone reaches admins only.
Result<Reach> reach_of(db::Session& s, const outbox::Event& event);

// Whether `account` may see an event placed at `reach`:
//   consumer, org buyer   their own orders
//   farmer                their household and its household shop's orders
//   shop manager          their shop's orders
//   station operator      parcels (and their orders) planned through their node
//   county centre,        anything in their region
//   poverty office
//   helper                nothing yet
//   admin                 everything
bool may_receive(const Account& account, const Reach& reach);

}  // namespace cunhuo::storefront::live
