// The queue's counts over real TCP: each group is counted within the caller's area by the
// same conditions as its items, however many wait elsewhere or in the area itself.
#include <functional>

#include "core/json.hpp"
#include "storefront/area_copies.hpp"
#include "storefront/notification_routes.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kTownshipOffice = "13900000010";  // 西渠镇, 620621104
const std::string kMyVillage = "620621104201";      // in 西渠镇 and the county
const std::string kOtherTownship = "620621101201";  // in the county, not in 西渠镇
const std::string kOtherCounty = "620622100201";

struct Shown {
  std::int64_t count = -1;  // -1: the group is not in the queue
  std::size_t items = 0;
};

Shown queue_group(HttpClient& c, const std::string& token, const std::string& kind) {
  auto reply = c.request("GET", "/api/v1/queue", "", bearer(token));
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  for (const auto& g : doc->find("groups")->as_array())
    if (g.find("kind")->as_string() == kind)
      return Shown{g.find("count")->as_integer(), g.find("items")->as_array().size()};
  return Shown{};
}

// Adds `n` waiting rows of a group at a place (a village, or a node's code).
using Fill = std::function<Status(db::Session&, const std::string& place, int n)>;

Status claims(db::Session& tx, const std::string& village, int n) {
  for (int i = 0; i < n; ++i)
    CUNHUO_TRY(
        tx.exec("INSERT INTO refund_claims (order_id, buyer_id, amount_fen, reason, status, "
                "bearer, created_at, region_code) VALUES (?, 3, 100, '瓜裂了', "
                "'requested', 'none', 0, ?)",
                {900000 + i, village}));
  return {};
}

Status alerts(db::Session& tx, const std::string& village, int n) {
  for (int i = 0; i < n; ++i)
    CUNHUO_TRY(
        tx.exec("INSERT INTO monitoring_alerts (household_id, village_code, helper_account, "
                "rule, figures, status, outcome, raised_at) VALUES (1, ?, NULL, "
                "'income_drop', '{}', 'open', '', 0)",
                {village}));
  return {};
}

Status proposals_at(db::Session& tx, const std::string& status, const std::string& village, int n) {
  for (int i = 0; i < n; ++i)
    CUNHUO_TRY(
        tx.exec("INSERT INTO exit_proposals (household_id, evaluation_id, status, "
                "village_code, created_at, updated_at) VALUES (1, 1, ?, ?, 0, 0)",
                {status, village}));
  return {};
}

Status objections(db::Session& tx, const std::string& village, int n) {
  for (int i = 0; i < n; ++i) {
    CUNHUO_CHECK(proposals_at(tx, "in_notice", village, 1));
    const std::int64_t proposal = CUNHUO_TRY(tx.last_insert_id());
    CUNHUO_TRY(
        tx.exec("INSERT INTO exit_objections (proposal_id, text, status, resolution, "
                "lodged_at) VALUES (?, '收入不实', 'open', '', 0)",
                {proposal}));
  }
  return {};
}

Status excursions(db::Session& tx, const std::string& node, int n) {
  auto id = CUNHUO_TRY(tx.query_one("SELECT id FROM network_nodes WHERE code = ?", {node}));
  REQUIRE(id);
  for (int i = 0; i < n; ++i)
    CUNHUO_TRY(
        tx.exec("INSERT INTO excursions (node_id, sensor_id, kind, status, detail, "
                "shipments, started_at, detected_at) VALUES (?, 1, 'continuous', 'open', "
                "'', '[]', 0, 0)",
                {id->i64(0)}));
  return {};
}

struct GroupCase {
  const char* group;
  std::string reader;           // the phone whose queue holds it
  std::string mine, elsewhere;  // places inside and outside the reader's area
  int old_bound;                // rows the queue used to read before filtering
  Fill fill;
};

std::vector<GroupCase> group_cases() {
  return {
      {"refund_claims_to_decide", kCentre, kMyVillage, kOtherCounty, 200, claims},
      {"open_excursions", kCentre, "MQ-CS-01", "LZ-HUB-01", 200, excursions},
      {"open_alerts", kOffice, kMyVillage, kOtherCounty, 500, alerts},
      {"exit_proposals_to_review", kOffice, kMyVillage, kOtherCounty, 500,
       [](db::Session& tx, const std::string& v, int n) {
         return proposals_at(tx, "township_reviewed", v, n);
       }},
      {"objections_to_resolve", kOffice, kMyVillage, kOtherCounty, 500, objections},
      {"exit_proposals_to_review", kTownshipOffice, kMyVillage, kOtherTownship, 500,
       [](db::Session& tx, const std::string& v, int n) {
         return proposals_at(tx, "proposed", v, n);
       }},
  };
}

void fill(TestServer& server, const GroupCase& g, const std::string& place, int n) {
  REQUIRE(server.app().db().write([&](db::Session& tx) { return g.fill(tx, place, n); }).ok());
}

}  // namespace

STORE_TEST("a queue count stays exact when other areas hold many more",
           "[http][queue][queue-counts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  for (const auto& g : group_cases()) {
    INFO(g.group << " for " << g.reader);
    const std::string token = server.login(g.reader);
    const Shown before = queue_group(c, token, g.group);
    REQUIRE(before.count >= 0);
    fill(server, g, g.elsewhere, g.old_bound + 100);
    fill(server, g, g.mine, 3);
    const Shown after = queue_group(c, token, g.group);
    CHECK(after.count == before.count + 3);
    CHECK(after.items == std::min<std::size_t>(static_cast<std::size_t>(after.count),
                                               storefront::kQueueItemsPerGroup));
  }
}

STORE_TEST("a queue count stays exact when the area holds more than a page would read",
           "[http][queue][queue-counts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  for (const auto& g : group_cases()) {
    INFO(g.group << " for " << g.reader);
    const std::string token = server.login(g.reader);
    const Shown before = queue_group(c, token, g.group);
    REQUIRE(before.count >= 0);
    fill(server, g, g.mine, g.old_bound + 10);
    const Shown after = queue_group(c, token, g.group);
    CHECK(after.count == before.count + g.old_bound + 10);
    CHECK(after.items == static_cast<std::size_t>(storefront::kQueueItemsPerGroup));
  }
}

STORE_TEST("a refund claim stored before its area was copied is counted once it is filled in",
           "[http][queue][queue-counts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought paid = buy_and_pay(server, c, consumer);
  REQUIRE(post_json(c, "/api/v1/orders/" + std::to_string(paid.order) + "/refund-claims",
                    R"({"amount_fen":100,"reason":"瓜裂了"})",
                    bearer(consumer, {{"Idempotency-Key", "claim-1"}}))
              .status == 201);
  const Shown claimed = queue_group(c, centre, "refund_claims_to_decide");
  CHECK(claimed.count == 1);
  // As the rows stood before payments migration 15.
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("UPDATE payment_orders SET region_code = ''"));
                CUNHUO_TRY(tx.exec("UPDATE refund_claims SET region_code = ''"));
                return {};
              })
              .ok());
  CHECK(queue_group(c, centre, "refund_claims_to_decide").count == 0);
  REQUIRE(storefront::fill_area_copies(server.app().db()).ok());
  CHECK(queue_group(c, centre, "refund_claims_to_decide").count == 1);
  CHECK(server.count("SELECT COUNT(*) FROM payment_orders WHERE region_code = '620621104201'") ==
        1);
}
