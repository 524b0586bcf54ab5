// Exit scores over real TCP: a household's score follows its card and its settled sales.
#include <set>

#include "core/json.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// Nothing that names or reaches a person of household 1: name, ID numbers, phones.
#define CHECK_PERSONAL_DATA_ABSENT(text)                                                       \
  for (const char* personal : {"王建国", "刘桂芳", "620621197803150013", "620621200805060016", \
                               "13800000001", "13600000001", "住院"})                          \
  CHECK((text).find(personal) == std::string::npos)

// Household 1's card from the seed, with its yearly income set.
std::string card_with_income(std::int64_t wages_fen) {
  return R"({"members":[{"name":"王建国","relationship":"head","birth_year":1978,"health":"healthy",)"
         R"("education":"junior","id_number":"620621197803150013","medical_insurance":true},)"
         R"({"name":"刘桂芳","relationship":"spouse","birth_year":1980,"health":"chronic_illness",)"
         R"("education":"primary","id_number":"620621198001230024","medical_insurance":true},)"
         R"({"name":"王小军","relationship":"child","birth_year":2008,"health":"healthy",)"
         R"("education":"in_school","id_number":"620621200805060016","medical_insurance":true},)"
         R"({"name":"王秀兰","relationship":"parent","birth_year":1950,"health":"serious_illness",)"
         R"("education":"none","id_number":"620621195002020025","medical_insurance":true}],)"
         R"("causes":["illness","water_shortage"],"land_mu_hundredths":1250,"housing":"safe",)"
         R"("drinking_water":"safe",)"
         R"("income":{"year":2025,"wages_fen":)" +
         std::to_string(wages_fen) +
         R"(,"own_business_fen":0,"property_fen":0,"transfers_fen":300000},"helper":{"name":"陈志刚",)"
         R"("phone":"13600000001"}})";
}

Json latest(HttpClient& c, const std::string& token) {
  auto r = c.request("GET", "/api/v1/households/1/evaluations", "", bearer(token));
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  REQUIRE(doc.ok());
  return *doc;
}

std::size_t count(const Json& evaluations) {
  return evaluations.find("evaluations")->as_array().size();
}
const Json& newest(const Json& evaluations) {
  return evaluations.find("evaluations")->as_array().front();
}

// A consumer buys two boxes at `price_fen` from household 1; delivered and confirmed, it
// settles. Returns the order.
std::int64_t sell_and_settle(TestServer& server, HttpClient& c, std::int64_t price_fen) {
  const std::string farmer = server.login(kFarmer), consumer = server.login(kConsumer),
                    centre = server.login(kCentre);
  std::string listing = kMelon;
  listing.replace(listing.find("\"price_fen\":3980"), 16,
                  "\"price_fen\":" + std::to_string(price_fen));
  const Bought b = buy_and_pay(server, c, consumer, listing);
  const std::string order = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order + "/status", R"({"status":"packed"})", bearer(farmer)).status == 200);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", order + "/confirm-receipt", "", bearer(consumer)).status == 200);
  return b.order;
}

void record_poor_year(HttpClient& c, const std::string& office) {
  auto changed = c.request("PATCH", "/api/v1/households/1",
                           R"({"card":)" + card_with_income(0) + R"(,"reason":"harvest failed"})",
                           bearer(office));
  REQUIRE(changed.status == 200);
}

}  // namespace

STORE_TEST("a household's score rises with its settled sales until it may exit, and says why",
           "[http][alleviation]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice), farmer = server.login(kFarmer),
                    consumer = server.login(kConsumer), centre = server.login(kCentre);
  // The office records a poor year: 3,000 yuan for four people.
  record_poor_year(c, office);
  REQUIRE(eventually([&] { return count(latest(c, office)) == 1; }));
  const Json before = latest(c, office);
  CHECK(newest(before).find("score")->as_integer() ==
        60);  // no income above the line, no stable source
  CHECK(newest(before).find("failed_veto")->as_string() == "income");
  CHECK_FALSE(newest(before).find("exit_eligible")->as_bool());

  // Two boxes at 10,000 yuan, delivered and settled.
  const std::int64_t order = sell_and_settle(server, c, 1000000);
  REQUIRE(eventually([&] { return count(latest(c, office)) == 2; }));
  const Json after = latest(c, farmer);  // the farmer sees their own household's result and why
  const Json& e = newest(after);
  CHECK(e.find("score")->as_integer() == 100);
  CHECK(e.find("exit_eligible")->as_bool());
  CHECK(e.find("band")->as_string() == "lifted_out");
  const std::int64_t net =
      2 * 1000000 - 2 * 30000 - 600;  // less 3% platform fee and the logistics fee
  CHECK(e.find("inputs")->find("platform_net_income_fen")->as_integer() == net);
  CHECK(e.find("per_capita_income_fen")->as_integer() == (300000 + net) / 4);
  // The platform income is traced to the order that earned it.
  const Json& evidence = *e.find("income_evidence");
  REQUIRE(evidence.find("orders")->as_array().size() == 1);
  CHECK(evidence.find("orders")->as_array().front().find("order_id")->as_integer() == order);
  CHECK(evidence.find("orders")->as_array().front().find("net_fen")->as_integer() == net);
  // Others do not see it.
  CHECK(c.request("GET", "/api/v1/households/1/evaluations", "", bearer(server.login(kOtherFarmer)))
            .status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/evaluations", "", bearer(consumer)).status == 404);
}

STORE_TEST("the office versions the model; a model whose weights do not add up to 100 is refused",
           "[http][alleviation][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice);
  auto current = c.request("GET", "/api/v1/evaluation-models/current", "", bearer(office));
  REQUIRE(current.status == 200);
  CHECK(json_int(current.body, "version") == 1);
  const std::string bad =
      R"({"name":"x","poverty_line_fen":450000,"indicators":[{"indicator":"income","weight":60,)"
      R"("veto":true},{"indicator":"housing","weight":30,"veto":true}]})";
  CHECK(error_code(post_json(c, "/api/v1/evaluation-models", bad, bearer(office))) ==
        "weights_not_100");
  const std::string unknown =
      R"({"name":"x","poverty_line_fen":450000,"indicators":[{"indicator":"luck","weight":100}]})";
  CHECK(error_code(post_json(c, "/api/v1/evaluation-models", unknown, bearer(office))) ==
        "unknown_indicator");
  const std::string good =
      R"({"name":"2027 line","poverty_line_fen":450000,"indicators":[{"indicator":"income",)"
      R"("weight":60,"veto":true},{"indicator":"housing","weight":40,"veto":true}]})";
  CHECK(post_json(c, "/api/v1/evaluation-models", good, bearer(server.login(kFarmer))).status ==
        403);
  auto added = post_json(c, "/api/v1/evaluation-models", good, bearer(office));
  REQUIRE(added.status == 201);
  CHECK(json_int(added.body, "version") == 2);
  auto rescored = post_json(c, "/api/v1/evaluations/rescore", "{}", bearer(office));
  REQUIRE(rescored.status == 200);
  CHECK(json_int(rescored.body, "rescored") >= 2);
  auto evaluations = c.request("GET", "/api/v1/households/1/evaluations", "", bearer(office));
  CHECK(evaluations.body.find("\"model_version\":2") != std::string::npos);
  CHECK(post_json(c, "/api/v1/evaluations/rescore", R"({"region_code":"110101"})", bearer(office))
            .status == 403);
}

STORE_TEST(
    "an exit goes village, township, county, then a public notice; an objection is heard before "
    "the household exits",
    "[http][alleviation][exit]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  record_poor_year(c, county);
  sell_and_settle(server, c, 1000000);
  // The clock stands still: the re-score that follows the settlement, in its millisecond,
  // does not count it yet (the year ends before "now"). A minute later the office records
  // a small wage on the card, and that re-score counts the sale.
  REQUIRE(eventually([&] { return count(latest(c, county)) == 2; }));
  server.advance(std::chrono::minutes(1));
  auto wage =
      c.request("PATCH", "/api/v1/households/1",
                R"({"card":)" + card_with_income(100) + R"(,"reason":"odd jobs"})", bearer(county));
  REQUIRE(wage.status == 200);
  std::int64_t proposal = 0;
  REQUIRE(eventually([&] {
    auto r = c.request("GET", "/api/v1/households/1/exit-proposals", "", bearer(county));
    auto doc = Json::parse(r.body);
    if (!doc.ok() || doc->find("proposals")->as_array().empty()) return false;
    proposal = doc->find("proposals")->as_array().front().find("id")->as_integer();
    return true;
  }));
  const std::string path = "/api/v1/exit-proposals/" + std::to_string(proposal);
  // Out of order: the county before the township, the township before the village.
  CHECK(error_code(post_json(c, path + "/decision", R"({"approve":true,"reason":"ok"})",
                             bearer(county))) == "out_of_order");
  CHECK(error_code(post_json(c, path + "/review",
                             R"({"level":"township","approve":true,"reason":"ok"})",
                             bearer(township))) == "out_of_order");
  CHECK(post_json(c, path + "/review", R"({"level":"village","approve":true})", bearer(township))
            .status == 400);  // no reason
  CHECK(post_json(c, path + "/review", R"({"level":"village","approve":true,"reason":"x"})",
                  bearer(county))
            .status == 403);
  REQUIRE(post_json(c, path + "/review",
                    R"({"level":"village","approve":true,"reason":"村民代表会议评议通过"})",
                    bearer(township))
              .status == 200);
  REQUIRE(post_json(c, path + "/review",
                    R"({"level":"township","approve":true,"reason":"乡镇审核通过"})",
                    bearer(township))
              .status == 200);
  REQUIRE(post_json(c, path + "/decision", R"({"approve":true,"reason":"县级审定，公示"})",
                    bearer(county))
              .status == 200);
  // The notice is public, with the name masked.
  auto notices = c.request("GET", "/api/v1/public/notices?region=620621");
  REQUIRE(notices.status == 200);
  CHECK(notices.body.find("王*国") != std::string::npos);
  CHECK(notices.body.find("王建国") == std::string::npos);
  CHECK(notices.body.find("\"members\":4") != std::string::npos);
  // The village's open statistics show the notice and the counts, and nothing personal.
  for (const char* table : {"areas", "months", "notices"}) {
    auto csv = c.request(
        "GET",
        std::string("/api/v1/public/statistics?region=620621104201&format=csv&table=") + table);
    REQUIRE(csv.status == 200);
    CHECK_PERSONAL_DATA_ABSENT(csv.body);
    if (std::string(table) == "notices")
      CHECK(csv.body.find("620621104201,\"王*国\",4,exited,") != std::string::npos);
    if (std::string(table) == "areas")
      CHECK(csv.body.find("620621104201,2,2,0,1,0,0\n") != std::string::npos);
    // One household sold this month: the sum is withheld rather than showing its income.
    if (std::string(table) == "months") CHECK(csv.body.find(",1,,\n") != std::string::npos);
  }
  auto page = c.request("GET", "/public/statistics?region=620621104");
  REQUIRE(page.status == 200);
  CHECK(page.body.find("王*国") != std::string::npos);
  CHECK_PERSONAL_DATA_ABSENT(page.body);
  auto objection = post_json(c, path + "/objections", R"({"text":"他家还有外债未还"})", {});
  REQUIRE(objection.status == 201);
  CHECK(error_code(post_json(c, path + "/exit", R"({"reason":"公示期满"})", bearer(county))) ==
        "notice_running");
  REQUIRE(post_json(c,
                    "/api/v1/objections/" + std::to_string(json_int(objection.body, "id")) +
                        "/resolution",
                    R"({"upheld":false,"reason":"核实：债务已结清"})", bearer(county))
              .status == 200);
  server.advance(std::chrono::milliseconds(Config{}.exit_notice_ms) - std::chrono::seconds(1));
  CHECK(error_code(post_json(c, path + "/exit", R"({"reason":"公示期满"})", bearer(county))) ==
        "notice_running");
  server.advance(std::chrono::seconds(2));  // the notice has run its seven days
  CHECK(error_code(post_json(c, path + "/objections", R"({"text":"too late"})", {})) ==
        "notice_closed");
  auto exited = post_json(c, path + "/exit", R"({"reason":"公示期满无异议"})", bearer(county));
  REQUIRE(exited.status == 200);
  CHECK(str_field(exited.body, "status") == "exited");
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(county))
            .body.find("\"status\":\"exited\"") != std::string::npos);
  // Every step is kept with who and why.
  auto steps = c.request("GET", "/api/v1/households/1/exit-proposals", "", bearer(county)).body;
  for (const char* step : {"propose", "village_review", "township_review", "county_approval",
                           "objection_resolution", "exit"})
    CHECK(steps.find(std::string("\"step\":\"") + step + "\"") != std::string::npos);
}

STORE_TEST(
    "a large medical expense on an at-risk household raises an alert the township works to a close",
    "[http][alleviation][monitoring]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  auto at_risk = c.request("PATCH", "/api/v1/households/1",
                           R"({"card":)" + card_with_income(1200000) +
                               R"(,"status":"at_risk","reason":"illness in the family"})",
                           bearer(county));
  REQUIRE(at_risk.status == 200);
  CHECK(error_field(post_json(c, "/api/v1/households/1/expenses",
                              R"({"kind":"lottery","amount_fen":3000000})", bearer(county))) ==
        "kind");
  CHECK(post_json(c, "/api/v1/households/1/expenses", R"({"kind":"medical","amount_fen":3000000})",
                  bearer(server.login(kConsumer)))
            .status == 403);
  auto expense =
      post_json(c, "/api/v1/households/1/expenses",
                R"({"kind":"medical","amount_fen":3000000,"note":"住院手术"})", bearer(county));
  REQUIRE(expense.status == 201);
  auto alerts = c.request("GET", "/api/v1/alerts", "", bearer(township));
  REQUIRE(alerts.status == 200);
  CHECK(alerts.body.find("\"rule\":\"large_expense\"") != std::string::npos);
  // The household's helper (帮扶责任人) has it too, and sees the household masked; not others'.
  const std::string helper = server.login("13600000001");
  auto helped = c.request("GET", "/api/v1/alerts", "", bearer(helper));
  REQUIRE(helped.status == 200);
  CHECK(helped.body.find("\"rule\":\"large_expense\"") != std::string::npos);
  auto card = c.request("GET", "/api/v1/households/1", "", bearer(helper));
  REQUIRE(card.status == 200);
  CHECK(card.body.find("620621197803150013") == std::string::npos);
  CHECK(c.request("GET", "/api/v1/households/3", "", bearer(helper)).status == 404);
  // Only a helper's account can be named as a card's helper.
  std::string farmer_as_helper = card_with_income(1200000);
  farmer_as_helper.replace(farmer_as_helper.find(R"("phone":"13600000001"})"), 22,
                           R"("phone":"13600000001","account_id":1})");
  auto refused = c.request("PATCH", "/api/v1/households/1",
                           R"({"card":)" + farmer_as_helper + R"(,"reason":"x"})", bearer(county));
  CHECK(error_code(refused) == "not_a_helper");
  CHECK(c.request("GET", "/api/v1/alerts", "", bearer(server.login(kOtherFarmer))).status == 403);
  CHECK(alerts.body.find("30000.00") != std::string::npos);
  auto doc = Json::parse(alerts.body);
  std::int64_t alert = 0;
  for (const auto& a : doc->find("alerts")->as_array())
    if (a.find("rule")->as_string() == "large_expense") alert = a.find("id")->as_integer();
  REQUIRE(alert > 0);
  const std::string close = "/api/v1/alerts/" + std::to_string(alert) + "/close";
  CHECK(
      post_json(c, close, R"({"outcome":"help_given","note":"x"})", bearer(server.login(kConsumer)))
          .status == 404);
  CHECK(post_json(c, close, R"({"outcome":"forgot","note":"x"})", bearer(township)).status == 400);
  auto closed =
      post_json(c, close, R"({"outcome":"status_changed","note":"医疗支出致贫，重新纳入"})",
                bearer(township));
  REQUIRE(closed.status == 200);
  CHECK(closed.body.find("closed: status_changed") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(county))
            .body.find("\"status\":\"returned_to_poverty\"") != std::string::npos);
  CHECK(
      post_json(c, close, R"({"outcome":"false_alarm","note":"again"})", bearer(township)).status ==
      409);
}

STORE_TEST(
    "the daily monitoring pass, run on demand, raises an alert for an at-risk household whose "
    "income is too low",
    "[http][alleviation][monitoring]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice);
  // Household 3 (张明德, at risk): 29,000 yuan a year for five people is 5,800 a person, below 1.5
  // times the 4,000 line.
  CHECK(post_json(c, "/api/v1/monitoring/runs", R"({"region_code":"110101"})", bearer(county))
            .status == 403);
  CHECK(post_json(c, "/api/v1/monitoring/runs", R"({"region_code":"62062"})", bearer(county))
            .status == 400);
  CHECK(post_json(c, "/api/v1/monitoring/runs", "{}", bearer(server.login(kFarmer))).status == 403);
  auto run = post_json(c, "/api/v1/monitoring/runs", "{}", bearer(county));
  REQUIRE(run.status == 200);
  CHECK(json_int(run.body, "alerts_opened") >= 1);
  auto again = post_json(c, "/api/v1/monitoring/runs", "{}", bearer(county));
  CHECK(json_int(again.body, "alerts_opened") == 0);  // an open alert is not raised twice
  CHECK(c.request("GET", "/api/v1/alerts", "", bearer(county))
            .body.find("\"rule\":\"income_projection\"") != std::string::npos);
}

STORE_TEST(
    "funds are allocated and disbursed under Idempotency-Keys and traced to the household, with "
    "the office's flags",
    "[http][alleviation][funds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010"),
                    farmer = server.login(kFarmer);
  auto project =
      post_json(c, "/api/v1/fund-projects",
                R"({"name":"2026年产业扶持（示例）","kind":"industry","budget_fen":10000000})",
                bearer(county, {{"Idempotency-Key", "p-1"}}));
  REQUIRE(project.status == 201);
  const std::string allocations =
      "/api/v1/fund-projects/" + std::to_string(json_int(project.body, "id")) + "/allocations";
  const std::string allocation_body =
      R"({"document_number":"民财扶〔2026〕7号","amount_fen":1000000})";
  CHECK(error_code(post_json(c, allocations, allocation_body, bearer(county))) ==
        "missing_idempotency_key");
  CHECK(post_json(c, allocations, allocation_body, bearer(township, {{"Idempotency-Key", "a-1"}}))
            .status == 403);
  auto allocated =
      post_json(c, allocations, allocation_body, bearer(county, {{"Idempotency-Key", "a-1"}}));
  REQUIRE(allocated.status == 201);
  auto replayed =
      post_json(c, allocations, allocation_body, bearer(county, {{"Idempotency-Key", "a-1"}}));
  CHECK(replayed.status == 201);
  CHECK(replayed.body == allocated.body);
  CHECK(post_json(c, allocations, R"({"document_number":"x","amount_fen":1})",
                  bearer(county, {{"Idempotency-Key", "a-1"}}))
            .status == 422);

  const std::string disburse = "/api/v1/fund-allocations/" +
                               std::to_string(json_int(allocated.body, "id")) + "/disbursements";
  auto pay = [&](const std::string& body, const std::string& key) {
    return post_json(c, disburse, body, bearer(county, {{"Idempotency-Key", key}}));
  };
  CHECK(pay(R"({"document_number":"D-1","amount_fen":1000,"household_id":999})", "d-0").status ==
        404);
  CHECK(error_code(pay(R"({"document_number":"D-1","amount_fen":1000001,"household_id":1})",
                       "d-1")) == "above_remaining");
  CHECK(error_field(pay(R"({"document_number":"D-1","amount_fen":"many","household_id":1})",
                        "d-2")) == "amount_fen");
  CHECK(error_code(pay(R"({"document_number":"D-1","amount_fen":100})", "d-3")) == "missing_field");
  CHECK(server.count("SELECT COUNT(*) FROM fund_disbursements") == 0);
  auto paid = pay(R"({"document_number":"D-1","amount_fen":300000,"household_id":1})", "d-4");
  REQUIRE(paid.status == 201);
  CHECK(paid.body.find("620621197803150013") ==
        std::string::npos);  // the recipient's ID number, masked
  REQUIRE(pay(R"({"document_number":"D-2","amount_fen":200000,"household_id":5})", "d-5").status ==
          201);  // 马有福, exited

  // The farmer traces their money up to the allocation; another farmer sees nothing.
  auto funds = c.request("GET", "/api/v1/households/1/funds", "", bearer(farmer));
  REQUIRE(funds.status == 200);
  CHECK(funds.body.find("民财扶〔2026〕7号") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/households/1/funds", "", bearer(server.login(kOtherFarmer)))
            .status == 404);
  // The office traces the allocation down and sees the exited recipient flagged.
  auto down =
      c.request("GET", "/api/v1/fund-allocations/" + std::to_string(json_int(allocated.body, "id")),
                "", bearer(township));
  REQUIRE(down.status == 200);
  CHECK(down.body.find("\"remaining_fen\":500000") != std::string::npos);
  auto flags = c.request("GET", "/api/v1/fund-flags", "", bearer(county));
  REQUIRE(flags.status == 200);
  CHECK(flags.body.find("\"kind\":\"exited_recipient\"") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/fund-flags?county=110101", "", bearer(county)).status == 403);
  CHECK(c.request("GET", "/api/v1/fund-flags", "", bearer(farmer)).status == 403);
}

TEST_CASE("open statistics refuse a bad region, format, table or month count",
          "[http][alleviation][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  CHECK(error_field(c.request("GET", "/api/v1/public/statistics")) == "region");
  CHECK(error_field(c.request("GET", "/api/v1/public/statistics?region=abc")) == "region");
  CHECK(error_field(c.request("GET", "/api/v1/public/statistics?region=620621&format=xml")) ==
        "format");
  CHECK(error_field(c.request(
            "GET", "/api/v1/public/statistics?region=620621&format=csv&table=people")) == "table");
  CHECK(error_field(c.request("GET", "/api/v1/public/statistics?region=620621&months=0")) ==
        "months");
  CHECK(error_field(c.request("GET", "/public/statistics?region=6206211")) == "region");
  auto ok = c.request("GET", "/api/v1/public/statistics?region=620621&months=2");
  REQUIRE(ok.status == 200);
  auto doc = Json::parse(ok.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("total")->find("registered")->as_integer() == 6);
  CHECK(doc->find("months")->as_array().size() == 2);
}

TEST_CASE(
    "the open statistics page, rendered in headless Chromium, counts down a running notice and "
    "names no one",
    "[http][alleviation][browser]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  record_poor_year(c, county);
  sell_and_settle(server, c, 1000000);
  std::string proposal;
  REQUIRE(eventually([&] {
    auto doc = Json::parse(
        c.request("GET", "/api/v1/households/1/exit-proposals", "", bearer(county)).body);
    if (!doc.ok() || doc->find("proposals")->as_array().empty()) return false;
    proposal = "/api/v1/exit-proposals/" +
               std::to_string(doc->find("proposals")->as_array().front().find("id")->as_integer());
    return true;
  }));
  REQUIRE(post_json(c, proposal + "/review",
                    R"({"level":"village","approve":true,"reason":"评议通过"})", bearer(township))
              .status == 200);
  REQUIRE(post_json(c, proposal + "/review",
                    R"({"level":"township","approve":true,"reason":"审核通过"})", bearer(township))
              .status == 200);
  REQUIRE(
      post_json(c, proposal + "/decision", R"({"approve":true,"reason":"公示"})", bearer(county))
          .status == 200);

  auto dom = rendered_dom("http://127.0.0.1:" + std::to_string(server.port()) +
                          "/public/statistics?region=620621104");
  REQUIRE(dom.ok());
  CHECK(dom->find("王*国") != std::string::npos);
  CHECK(dom->find("剩 6 天") !=
        std::string::npos);  // the script ran: a seven-day notice just begun
  CHECK(dom->find("/api/v1/public/statistics?region=620621104&amp;format=csv&amp;table=notices") !=
        std::string::npos);
  CHECK_PERSONAL_DATA_ABSENT(*dom);
}

namespace {

// The county office's project of 100,000 yuan with 10,000 allocated to it; returns the
// allocation's path.
std::string project_with_allocation(HttpClient& c, const std::string& county) {
  auto project =
      post_json(c, "/api/v1/fund-projects",
                R"({"name":"2026年产业扶持（示例）","kind":"industry","budget_fen":10000000})",
                bearer(county, {{"Idempotency-Key", "p-1"}}));
  REQUIRE(project.status == 201);
  const std::string allocations =
      "/api/v1/fund-projects/" + std::to_string(json_int(project.body, "id")) + "/allocations";
  auto allocated =
      post_json(c, allocations, R"({"document_number":"民财扶〔2026〕7号","amount_fen":1000000})",
                bearer(county, {{"Idempotency-Key", "a-1"}}));
  REQUIRE(allocated.status == 201);
  return "/api/v1/fund-allocations/" + std::to_string(json_int(allocated.body, "id"));
}

}  // namespace

STORE_TEST(
    "the county's projects list what was allocated and disbursed, and a project reads with "
    "its allocations",
    "[http][alleviation][funds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  const std::string allocation = project_with_allocation(c, county);
  REQUIRE(post_json(c, allocation + "/disbursements",
                    R"({"document_number":"D-1","amount_fen":300000,"household_id":1})",
                    bearer(county, {{"Idempotency-Key", "d-1"}}))
              .status == 201);

  // Any poverty office of the county reads its funds.
  auto listed = c.request("GET", "/api/v1/fund-projects", "", bearer(township));
  REQUIRE(listed.status == 200);
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  const auto& projects = doc->find("projects")->as_array();
  REQUIRE(projects.size() == 1);
  CHECK(projects.front().find("budget_fen")->as_integer() == 10000000);
  CHECK(projects.front().find("allocated_fen")->as_integer() == 1000000);
  CHECK(projects.front().find("disbursed_fen")->as_integer() == 300000);

  const std::string path =
      "/api/v1/fund-projects/" + std::to_string(projects.front().find("id")->as_integer());
  auto read = c.request("GET", path, "", bearer(township));
  REQUIRE(read.status == 200);
  auto project = Json::parse(read.body);
  REQUIRE(project.ok());
  CHECK(project->find("project")->find("kind")->as_string() == "industry");
  const auto& allocations = project->find("allocations")->as_array();
  REQUIRE(allocations.size() == 1);
  CHECK(allocations.front().find("remaining_fen")->as_integer() == 700000);
  CHECK(c.request("GET", path, "", bearer(server.login(kFarmer))).status == 403);
}

STORE_TEST("a disbursement to a village names no household and no person",
           "[http][alleviation][funds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice);
  const std::string allocation = project_with_allocation(c, county);
  const std::string to_village =
      R"({"document_number":"V-1","amount_fen":50000,"village_code":"620621104201"})";
  auto paid = post_json(c, allocation + "/disbursements", to_village,
                        bearer(county, {{"Idempotency-Key", "v-1"}}));
  REQUIRE(paid.status == 201);
  auto doc = Json::parse(paid.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("household_id")->is_null());
  CHECK(doc->find("id_number")->as_string().empty());
  CHECK(doc->find("household_status_then")->as_string() == "village");
  CHECK(doc->find("village_code")->as_string() == "620621104201");
}

namespace {

// Flags in two townships: money to an exited household in 东坝 (620621102201), one benefit
// twice to one person in 西渠 (620621104201), and a project allocated beyond its budget.
void flag_funds(TestServer& server, HttpClient& c) {
  const std::string county = server.login(kOffice);
  auto post = [&](const std::string& path, const std::string& body, const std::string& key) {
    auto reply = post_json(c, path, body, bearer(county, {{"Idempotency-Key", key}}));
    REQUIRE(reply.status == 201);
    return json_int(reply.body, "id");
  };
  const auto project = post("/api/v1/fund-projects",
                            R"({"name":"教育补助","kind":"education","budget_fen":100000})", "p");
  const auto allocation =
      post("/api/v1/fund-projects/" + std::to_string(project) + "/allocations",
           R"({"document_number":"民财扶〔2026〕9号","amount_fen":200000})", "a");
  const std::string disburse =
      "/api/v1/fund-allocations/" + std::to_string(allocation) + "/disbursements";
  post(disburse, R"({"document_number":"D-1","amount_fen":1000,"household_id":5})", "d1");
  for (const char* doc : {"D-2", "D-3"})
    post(disburse,
         std::string(R"({"document_number":")") + doc +
             R"(","amount_fen":1000,"household_id":1,"id_number":"620621200805060016"})",
         doc);
}

std::multiset<std::string> flag_kinds(const Json& page) {
  std::multiset<std::string> out;
  for (const auto& f : page.find("flags")->as_array()) out.insert(f.find("kind")->as_string());
  return out;
}

}  // namespace

STORE_TEST("a poverty office sees the fund flags of its own area only", "[http][funds][scope]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  flag_funds(server, c);
  using Kinds = std::multiset<std::string>;
  const Kinds county_flags = {"exited_recipient", "duplicate_benefit", "duplicate_benefit",
                              "over_budget"};
  struct Case {
    std::string who, query;
    int status;
    std::string area;
    Kinds kinds;
  };
  const std::vector<Case> table = {
      {kFarmer, "", 403, "", {}},
      {kOffice, "?county=620622", 403, "", {}},
      {kOffice, "", 200, "620621", county_flags},
      {"13900000010", "", 200, "620621104", {"duplicate_benefit", "duplicate_benefit"}},
      {"13900000010",
       "?county=620621",
       200,
       "620621104",
       {"duplicate_benefit", "duplicate_benefit"}},      // naming the county does not widen it
      {"13900000008", "", 200, "620621", county_flags},  // admin
      {"13900000008", "?county=620622", 200, "620622", {}},
  };
  for (const auto& k : table) {
    CAPTURE(k.who, k.query);
    auto reply = c.request("GET", "/api/v1/fund-flags" + k.query, "", bearer(server.login(k.who)));
    REQUIRE(reply.status == k.status);
    if (k.status != 200) continue;
    auto doc = Json::parse(reply.body);
    CHECK(doc->find("area")->as_string() == k.area);
    CHECK(flag_kinds(*doc) == k.kinds);
  }
}

STORE_TEST("fund flags are read a page at a time, and a tampered cursor is refused",
           "[http][funds][paging]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  flag_funds(server, c);
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  auto flags = [&](const std::string& token, const std::string& query) {
    return c.request("GET", "/api/v1/fund-flags" + query, "", bearer(token));
  };
  auto whole = Json::parse(flags(county, "?limit=100").body);
  const auto& all = whole->find("flags")->as_array();
  REQUIRE(all.size() == 4);
  CHECK(whole->find("next_cursor")->is_null());
  std::vector<std::string> paged;
  std::string cursor, first_cursor;
  for (int page = 0; page < 10; ++page) {
    auto reply = flags(county, "?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(reply.status == 200);
    auto doc = Json::parse(reply.body);
    for (const auto& f : doc->find("flags")->as_array())
      paged.push_back(f.find("detail")->as_string());
    if (doc->find("next_cursor")->is_null()) break;
    cursor = doc->find("next_cursor")->as_string();
    if (first_cursor.empty()) first_cursor = cursor;
  }
  std::vector<std::string> expected;
  for (const auto& f : all) expected.push_back(f.find("detail")->as_string());
  CHECK(paged == expected);
  REQUIRE(!first_cursor.empty());
  std::string tampered = first_cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  struct Refusal {
    std::string token, query;
  };
  const std::vector<Refusal> refused = {
      {county, "?limit=1&cursor=" + tampered},
      {township, "?limit=1&cursor=" + first_cursor},  // another caller's list
  };
  for (const auto& r : refused) {
    CAPTURE(r.query);
    auto reply = flags(r.token, r.query);
    CHECK(reply.status == 400);
    CHECK(error_code(reply) == "invalid_cursor");
  }
}
