// Certification of poverty-alleviation products, the way counties do it: the shop
// applies (stating the household-benefit mechanism), the township reviews, the county
// approves and issues a certificate (number, date, issuing office); the county can
// revoke it. Only produce that originates in a registered poor county qualifies.
#pragma once

#include <map>
#include <optional>
#include <vector>
#include <span>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "marketplace/catalog.hpp"

namespace cunhuo::marketplace {

using CertificationId = Id<struct CertificationTag>;

enum class CertificationStatus { applied, township_reviewed, approved, rejected, revoked };
std::string_view to_string(CertificationStatus s);

struct Certification {
  CertificationId id;
  ProductId product;
  CertificationStatus status = CertificationStatus::applied;
  std::string benefit_mechanism, certificate_no, issuing_office,
      issued_date;  // YYYY-MM-DD (Asia/Shanghai)
};

std::span<const db::Migration> certification_migrations();

Status register_poor_county(db::Session& tx, std::string_view county_code, std::string_view name);
Result<CertificationId> apply_for_certification(db::Session& tx, ProductId product,
                                                std::string_view benefit_mechanism,
                                                std::string_view actor, const Clock& clock);
// The township's review (approve or send back); only after an application.
Result<Certification> review_certification(db::Session& tx, CertificationId id, bool approve,
                                           std::string_view note, std::string_view actor,
                                           const Clock& clock);
// The county's approval; only after the township's review.
Result<Certification> approve_certification(db::Session& tx, CertificationId id,
                                            std::string_view certificate_no,
                                            std::string_view issuing_office, std::string_view actor,
                                            const Clock& clock);
// A certificate vouches for what the listing said when it was reviewed: when its title,
// category or origin changes, a reviewed or certified listing goes back to township review
// (status applied), and stops counting as certified until approved again.
Status review_again(db::Session& tx, ProductId product, std::string_view actor, const Clock& clock);
Result<Certification> revoke_certification(db::Session& tx, CertificationId id,
                                           std::string_view reason, std::string_view actor,
                                           const Clock& clock);
// A certification in an office's queue, with the listing it is for.
struct CertificationLine {
  std::int64_t id = 0, product_id = 0;
  std::string product_title, origin_code;
  CertificationStatus status = CertificationStatus::applied;
  std::int64_t updated_at_ms = 0;
};
Result<CertificationStatus> parse_certification_status(std::string_view text);  // invalid_status
// A page by id of the certifications in `statuses` whose listing comes from within `area`.
Result<std::vector<CertificationLine>> certifications_in(
    db::Session& s, std::string_view area, const std::vector<CertificationStatus>& statuses,
    std::int64_t after_id, std::int64_t limit);

Result<std::optional<Certification>> find_certification(db::Session& s, CertificationId id);
// The product's certificate in force, if any.
Result<std::optional<Certification>> certificate_of(db::Session& s, ProductId product);
// The certificates in force of several listings at once, by listing id.
Result<std::map<std::int64_t, Certification>> certificates_of(
    db::Session& s, const std::vector<ProductId>& products);

}  // namespace cunhuo::marketplace
