// Organisation buyers: enterprises and public units buying in bulk for the villages they
// are paired with. Each has a budget that its orders draw on (atomically: an order over
// the budget is refused), and a public unit has a required share of its produce
// purchasing that must go to certified poverty-alleviation products.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "core/money.hpp"

namespace cunhuo::marketplace {

using OrganisationId = Id<struct OrganisationTag>;

enum class OrganisationKind { enterprise, public_unit };

struct NewOrganisation {
  std::string name;
  OrganisationKind kind = OrganisationKind::enterprise;
  std::string region_code;
  Money budget;
  int required_share_bps = 0;  // public units: share of purchases that must be certified
  std::vector<std::string> paired_villages;  // 12-digit village codes
  std::vector<std::int64_t> buyer_accounts;  // accounts that order for it
};

struct OrganisationReport {
  OrganisationId id;
  std::string name;
  OrganisationKind kind = OrganisationKind::enterprise;
  Money budget, spent, remaining;
  Money certified_spent;  // on certified poverty-alleviation products
  int required_share_bps = 0, achieved_share_bps = 0;
  Money certified_needed;  // more certified buying that would reach the share, with no other buying
  std::vector<std::string> paired_villages;
};

std::span<const db::Migration> organisation_migrations();

Result<OrganisationId> create_organisation(db::Session& tx, const NewOrganisation& org,
                                           const Clock& clock);
Result<std::optional<OrganisationId>> organisation_of_buyer(db::Session& s, std::int64_t account);
// Charges an order to the organisation's budget; a 409 when it would go over.
Status charge_order(db::Session& tx, OrganisationId org, std::int64_t order_id, Money amount,
                    Money certified_amount);
// Gives an order's charge back (the order was cancelled); nothing when it was not charged.
Status release_order_charge(db::Session& tx, std::int64_t order_id);
Result<std::optional<OrganisationReport>> organisation_report(db::Session& s, OrganisationId id);

// An organisation's progress by what its buyers have actually paid for: the budget, what
// its orders hold of it (committed: unpaid orders too, as the budget check counts them),
// what paid orders spent (paid and on, not cancelled nor refunded), what is left, and the
// certified share of the paid spending in basis points against the required one.
struct OrganisationProgress {
  OrganisationId id;
  Money budget, committed, spent, remaining, certified_spent;
  int certified_share_bps = 0, required_share_bps = 0;
  std::int64_t paid_orders = 0, unpaid_orders = 0;
};
Result<std::optional<OrganisationProgress>> organisation_progress(db::Session& s,
                                                                  OrganisationId id);

// What an order charged to its organisation's budget: its amount, and how much of it was
// certified produce when it was placed.
struct OrderCharge {
  std::int64_t organisation = 0;
  Money amount, certified;
};
// The standing charges of `orders` (at most 1000), by order id; an order not charged
// (a consumer's, or cancelled) is left out.
Result<std::map<std::int64_t, OrderCharge>> order_charges(db::Session& s,
                                                          const std::vector<std::int64_t>& orders);

// An organisation's paid spending with one seller (shop) over a period: what its finance
// office reconciles against the sellers' invoices.
struct SellerSpending {
  std::int64_t shop = 0;
  std::int64_t orders = 0;
  Money amount, certified;
};
// Paid orders (paid and on, not cancelled nor refunded) placed in [from_ms, to_ms), by shop.
Result<std::vector<SellerSpending>> paid_spending_by_shop(db::Session& s, OrganisationId id,
                                                          std::int64_t from_ms, std::int64_t to_ms);

}  // namespace cunhuo::marketplace
