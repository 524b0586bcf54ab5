#include "marketplace/certification.hpp"

#include <array>

#include "core/enum_names.hpp"

#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 6, "poverty-alleviation product certification",
     "CREATE TABLE IF NOT EXISTS poor_counties (\n"
     "  code VARCHAR(6) NOT NULL PRIMARY KEY,\n"
     "  name VARCHAR(100) NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS certifications (\n"
     "  id {{ID}},\n"
     "  product_id BIGINT NOT NULL,\n"
     "  status VARCHAR(20) NOT NULL,\n"
     "  benefit_mechanism VARCHAR(1000) NOT NULL,\n"
     "  certificate_no VARCHAR(60) NOT NULL,\n"
     "  issuing_office VARCHAR(200) NOT NULL,\n"
     "  issued_date VARCHAR(10) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS certifications_product ON certifications (product_id, status);\n"
     "CREATE TABLE IF NOT EXISTS certification_events (\n"
     "  id {{ID}},\n"
     "  certification_id BIGINT NOT NULL,\n"
     "  to_status VARCHAR(20) NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  note VARCHAR(1000) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"},
    // The offices' review queues read certifications by status, in id order.
    {"marketplace", 19, "certifications by status",
     "CREATE INDEX IF NOT EXISTS certifications_status ON certifications (status, id);\n"},
};

constexpr std::array<std::pair<CertificationStatus, std::string_view>, 5> kNames = {{
    {CertificationStatus::applied, "applied"},
    {CertificationStatus::township_reviewed, "township_reviewed"},
    {CertificationStatus::approved, "approved"},
    {CertificationStatus::rejected, "rejected"},
    {CertificationStatus::revoked, "revoked"},
}};

CertificationStatus parse(std::string_view text) {
  auto status = value_of(kNames, text);
  assert(status && "the store holds only known statuses");
  return status.value_or(CertificationStatus::rejected);
}

Error out_of_order(CertificationStatus from, std::string_view step) {
  return make_error(ErrorKind::conflict, "out_of_order",
                    std::string("cannot ") + std::string(step) + " a certification that is " +
                        std::string(to_string(from)),
                    "status");
}

Status check_text(std::string_view text, std::string_view field, std::size_t max) {
  if (text.empty() || text.size() > max)
    return make_error(ErrorKind::invalid, "invalid_length",
                      "must be 1 to " + std::to_string(max) + " bytes", std::string(field));
  return {};
}

// Shanghai calendar date of a UTC instant.
std::string shanghai_date(std::int64_t ms) { return format_shanghai(ms).substr(0, 10); }

Result<Certification> move(db::Session& tx, CertificationId id, CertificationStatus from,
                           CertificationStatus to, std::string_view actor, std::string_view note,
                           std::int64_t now) {
  auto moved = CUNHUO_TRY(
      tx.exec("UPDATE certifications SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
              {to_string(to), now, id.value, to_string(from)}));
  if (moved.affected_rows != 1)
    return make_error(ErrorKind::conflict, "concurrent_update",
                      "the certification changed meanwhile");
  CUNHUO_TRY(
      tx.exec("INSERT INTO certification_events (certification_id, to_status, actor, note, at) "
              "VALUES (?, ?, ?, ?, ?)",
              {id.value, to_string(to), actor, note, now}));
  auto c = CUNHUO_TRY(find_certification(tx, id));
  return std::move(*c);
}

Result<Certification> existing(db::Session& tx, CertificationId id) {
  auto c = CUNHUO_TRY(find_certification(tx, id));
  if (!c) return make_error(ErrorKind::not_found, "not_found", "no such certification");
  return std::move(*c);
}

}  // namespace

std::string_view to_string(CertificationStatus s) { return name_of(kNames, s); }

std::span<const db::Migration> certification_migrations() { return kMigrations; }

Result<CertificationStatus> parse_certification_status(std::string_view text) {
  if (auto s = value_of(kNames, text)) return *s;
  return make_error(ErrorKind::invalid, "invalid_status",
                    "applied, township_reviewed, approved, rejected or revoked", "status");
}

Result<std::vector<CertificationLine>> certifications_in(
    db::Session& s, std::string_view area, const std::vector<CertificationStatus>& statuses,
    std::int64_t after_id, std::int64_t limit) {
  std::vector<CertificationLine> out;
  if (statuses.empty()) return out;
  std::vector<db::Value> params = {std::string(region_prefix(area)) + "%", after_id};
  std::string in;
  for (auto st : statuses) {
    in += in.empty() ? "?" : ", ?";
    params.emplace_back(to_string(st));
  }
  params.emplace_back(limit);
  for (const auto& r : CUNHUO_TRY(
           s.query_with("SELECT c.id, c.product_id, p.title, p.origin_code, c.status, c.updated_at "
                        "FROM certifications c JOIN products p ON p.id = c.product_id "
                        "WHERE p.origin_code LIKE ? AND c.id > ? AND c.status IN (" +
                            in + ") ORDER BY c.id LIMIT ?",
                        params)))
    out.push_back(CertificationLine{.id = r.i64(0),
                                    .product_id = r.i64(1),
                                    .product_title = r.str(2),
                                    .origin_code = r.str(3),
                                    .status = CUNHUO_TRY(parse_certification_status(r.str(4))),
                                    .updated_at_ms = r.i64(5)});
  return out;
}

Status register_poor_county(db::Session& tx, std::string_view code, std::string_view name) {
  if (CUNHUO_TRY(region_level(code, "code")) != RegionLevel::county)
    return make_error(ErrorKind::invalid, "invalid_region_code", "a county code has 6 digits",
                      "code");
  CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) + " INTO poor_counties (code, name) VALUES (?, ?)",
              {code, name}));
  return {};
}

Result<CertificationId> apply_for_certification(db::Session& tx, ProductId product,
                                                std::string_view benefit, std::string_view actor,
                                                const Clock& clock) {
  CUNHUO_CHECK(check_text(benefit, "benefit_mechanism", 1000));
  auto p = CUNHUO_TRY(find_product(tx, product));
  if (!p) return make_error(ErrorKind::not_found, "not_found", "no such product");
  auto poor = CUNHUO_TRY(
      tx.query_one("SELECT 1 FROM poor_counties WHERE code = ?", {county_of(p->origin_code)}));
  if (!poor)
    return make_error(ErrorKind::unprocessable, "not_from_poor_county",
                      "only produce from a registered poor county can be certified", "origin_code");
  auto open =
      CUNHUO_TRY(tx.query_one("SELECT id FROM certifications WHERE product_id = ? AND status IN "
                              "('applied', 'township_reviewed', 'approved')",
                              {product.value}));
  if (open)
    return make_error(ErrorKind::conflict, "already_certifying",
                      "this listing has an application or certificate already");
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO certifications (product_id, status, benefit_mechanism, certificate_no, "
              "issuing_office, "
              "issued_date, created_at, updated_at) VALUES (?, 'applied', ?, '', '', '', ?, ?)",
              {product.value, benefit, now, now}));
  const CertificationId id{CUNHUO_TRY(tx.last_insert_id())};
  CUNHUO_TRY(
      tx.exec("INSERT INTO certification_events (certification_id, to_status, actor, note, at) "
              "VALUES (?, 'applied', ?, ?, ?)",
              {id.value, actor, benefit, now}));
  return id;
}

Result<Certification> review_certification(db::Session& tx, CertificationId id, bool approve,
                                           std::string_view note, std::string_view actor,
                                           const Clock& clock) {
  CUNHUO_CHECK(check_text(note, "note", 1000));
  auto c = CUNHUO_TRY(existing(tx, id));
  if (c.status != CertificationStatus::applied) return out_of_order(c.status, "review");
  return move(tx, id, c.status,
              approve ? CertificationStatus::township_reviewed : CertificationStatus::rejected,
              actor, note, clock.now_ms());
}

Result<Certification> approve_certification(db::Session& tx, CertificationId id,
                                            std::string_view certificate_no,
                                            std::string_view issuing_office, std::string_view actor,
                                            const Clock& clock) {
  CUNHUO_CHECK(check_text(certificate_no, "certificate_no", 60));
  CUNHUO_CHECK(check_text(issuing_office, "issuing_office", 200));
  auto c = CUNHUO_TRY(existing(tx, id));
  if (c.status != CertificationStatus::township_reviewed) return out_of_order(c.status, "approve");
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("UPDATE certifications SET certificate_no = ?, issuing_office = ?, issued_date = ? "
              "WHERE id = ?",
              {certificate_no, issuing_office, shanghai_date(now), id.value}));
  return move(tx, id, c.status, CertificationStatus::approved, actor, certificate_no, now);
}

Result<Certification> revoke_certification(db::Session& tx, CertificationId id,
                                           std::string_view reason, std::string_view actor,
                                           const Clock& clock) {
  CUNHUO_CHECK(check_text(reason, "reason", 1000));
  auto c = CUNHUO_TRY(existing(tx, id));
  if (c.status != CertificationStatus::approved) return out_of_order(c.status, "revoke");
  return move(tx, id, c.status, CertificationStatus::revoked, actor, reason, clock.now_ms());
}

Status review_again(db::Session& tx, ProductId product, std::string_view actor,
                    const Clock& clock) {
  auto row =
      CUNHUO_TRY(tx.query_one("SELECT id, status FROM certifications WHERE product_id = ? "
                              "AND status IN ('township_reviewed', 'approved')",
                              {product.value}));
  if (!row) return {};
  const CertificationId id{row->i64(0)};
  CUNHUO_TRY(move(tx, id, parse(row->str(1)), CertificationStatus::applied, actor,
                  "the listing's title, category or origin changed: reviewed again",
                  clock.now_ms()));
  return {};
}

Result<std::optional<Certification>> find_certification(db::Session& s, CertificationId id) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT id, product_id, status, benefit_mechanism, certificate_no, "
                             "issuing_office, issued_date "
                             "FROM certifications WHERE id = ?",
                             {id.value}));
  if (!r) return std::optional<Certification>();
  return std::optional<Certification>(Certification{CertificationId{r->i64(0)},
                                                    ProductId{r->i64(1)}, parse(r->str(2)),
                                                    r->str(3), r->str(4), r->str(5), r->str(6)});
}

Result<std::map<std::int64_t, Certification>> certificates_of(
    db::Session& s, const std::vector<ProductId>& products) {
  std::map<std::int64_t, Certification> out;
  if (products.empty()) return out;
  for (const auto& r :
       CUNHUO_TRY(s.query_with("SELECT id, product_id, status, benefit_mechanism, certificate_no, "
                               "issuing_office, issued_date FROM certifications "
                               "WHERE status = 'approved' AND product_id IN (" +
                                   db::placeholders(products.size()) + ")",
                               db::id_values(products))))
    out.emplace(r.i64(1), Certification{CertificationId{r.i64(0)}, ProductId{r.i64(1)},
                                        parse(r.str(2)), r.str(3), r.str(4), r.str(5), r.str(6)});
  return out;
}

Result<std::optional<Certification>> certificate_of(db::Session& s, ProductId product) {
  auto r = CUNHUO_TRY(
      s.query_one("SELECT id FROM certifications WHERE product_id = ? AND status = 'approved'",
                  {product.value}));
  if (!r) return std::optional<Certification>();
  return find_certification(s, CertificationId{r->i64(0)});
}

}  // namespace cunhuo::marketplace
