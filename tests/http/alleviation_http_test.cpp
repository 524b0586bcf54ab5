// Exit scores over real TCP: a household's score follows its card and its settled sales.
#include <thread>

#include "core/json.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// Household 1's card from the seed, with its yearly income set.
std::string card_with_income(std::int64_t wages_fen) {
  return R"({"members":[{"name":"王建国","relationship":"head","birth_year":1978,"health":"healthy","education":"junior","id_number":"620621197803150012","medical_insurance":true},)"
         R"({"name":"刘桂芳","relationship":"spouse","birth_year":1980,"health":"chronic_illness","education":"primary","id_number":"620621198001230025","medical_insurance":true},)"
         R"({"name":"王小军","relationship":"child","birth_year":2008,"health":"healthy","education":"in_school","id_number":"620621200805060013","medical_insurance":true},)"
         R"({"name":"王秀兰","relationship":"parent","birth_year":1950,"health":"serious_illness","education":"none","id_number":"620621195002020028","medical_insurance":true}],)"
         R"("causes":["illness","water_shortage"],"land_mu_hundredths":1250,"housing":"safe","drinking_water":"safe",)"
         R"("income":{"year":2025,"wages_fen":)" + std::to_string(wages_fen) +
         R"(,"own_business_fen":0,"property_fen":0,"transfers_fen":300000},"helper":{"name":"陈志刚","phone":"13600000001"}})";
}

Json latest(HttpClient& c, const std::string& token) {
  auto r = c.request("GET", "/api/v1/households/1/evaluations", "", bearer(token));
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  REQUIRE(doc.ok());
  return *doc;
}

std::size_t count(const Json& evaluations) { return evaluations.find("evaluations")->as_array().size(); }
const Json& newest(const Json& evaluations) { return evaluations.find("evaluations")->as_array().front(); }

// A consumer buys two boxes at `price_fen` from household 1; delivered and confirmed, it settles.
void sell_and_settle(TestServer& server, HttpClient& c, std::int64_t price_fen) {
  const std::string farmer = server.login(kFarmer), consumer = server.login(kConsumer), centre = server.login(kCentre);
  std::string listing = kMelon;
  listing.replace(listing.find("\"price_fen\":3980"), 16, "\"price_fen\":" + std::to_string(price_fen));
  const Bought b = buy_and_pay(server, c, consumer, listing);
  const std::string order = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order + "/status", R"({"status":"packed"})", bearer(farmer)).status == 200);
  REQUIRE(post_json(c, order + "/status", R"({"status":"shipped"})", bearer(centre)).status == 200);
  REQUIRE(post_json(c, order + "/status", R"({"status":"delivered"})", bearer(centre)).status == 200);
  REQUIRE(c.request("POST", order + "/confirm-receipt", "", bearer(consumer)).status == 200);
}

void record_poor_year(HttpClient& c, const std::string& office) {
  auto changed = c.request("PATCH", "/api/v1/households/1", R"({"card":)" + card_with_income(0) + R"(,"reason":"harvest failed"})", bearer(office));
  REQUIRE(changed.status == 200);
}

}  // namespace

STORE_TEST("a household's score rises with its settled sales until it may exit, and says why", "[http][alleviation]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice), farmer = server.login(kFarmer), consumer = server.login(kConsumer),
                    centre = server.login(kCentre);
  // The office records a poor year: 3,000 yuan for four people.
  record_poor_year(c, office);
  REQUIRE(eventually([&] { return count(latest(c, office)) == 1; }));
  const Json before = latest(c, office);
  CHECK(newest(before).find("score")->as_integer() == 60);  // no income above the line, no stable source
  CHECK(newest(before).find("failed_veto")->as_string() == "income");
  CHECK_FALSE(newest(before).find("exit_eligible")->as_bool());

  // Two boxes at 10,000 yuan, delivered and settled.
  sell_and_settle(server, c, 1000000);
  REQUIRE(eventually([&] { return count(latest(c, office)) == 2; }));
  const Json after = latest(c, farmer);  // the farmer sees their own household's result and why
  const Json& e = newest(after);
  CHECK(e.find("score")->as_integer() == 100);
  CHECK(e.find("exit_eligible")->as_bool());
  CHECK(e.find("band")->as_string() == "lifted_out");
  const std::int64_t net = 2 * 1000000 - 2 * 30000 - 600;  // less 3% platform fee and the logistics fee
  CHECK(e.find("inputs")->find("platform_net_income_fen")->as_integer() == net);
  CHECK(e.find("per_capita_income_fen")->as_integer() == (300000 + net) / 4);
  // Others do not see it.
  CHECK(c.request("GET", "/api/v1/households/1/evaluations", "", bearer(server.login(kOtherFarmer))).status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/evaluations", "", bearer(consumer)).status == 404);
}

STORE_TEST("the office versions the model; a model whose weights do not add up to 100 is refused", "[http][alleviation][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice);
  auto current = c.request("GET", "/api/v1/evaluation-models/current", "", bearer(office));
  REQUIRE(current.status == 200);
  CHECK(json_int(current.body, "version") == 1);
  const std::string bad = R"({"name":"x","poverty_line_fen":450000,"indicators":[{"indicator":"income","weight":60,"veto":true},{"indicator":"housing","weight":30,"veto":true}]})";
  CHECK(error_code(post_json(c, "/api/v1/evaluation-models", bad, bearer(office))) == "weights_not_100");
  const std::string unknown = R"({"name":"x","poverty_line_fen":450000,"indicators":[{"indicator":"luck","weight":100}]})";
  CHECK(error_code(post_json(c, "/api/v1/evaluation-models", unknown, bearer(office))) == "unknown_indicator");
  const std::string good = R"({"name":"2027 line","poverty_line_fen":450000,"indicators":[{"indicator":"income","weight":60,"veto":true},{"indicator":"housing","weight":40,"veto":true}]})";
  CHECK(post_json(c, "/api/v1/evaluation-models", good, bearer(server.login(kFarmer))).status == 403);
  auto added = post_json(c, "/api/v1/evaluation-models", good, bearer(office));
  REQUIRE(added.status == 201);
  CHECK(json_int(added.body, "version") == 2);
  auto rescored = post_json(c, "/api/v1/evaluations/rescore", "{}", bearer(office));
  REQUIRE(rescored.status == 200);
  CHECK(json_int(rescored.body, "rescored") >= 2);
  auto evaluations = c.request("GET", "/api/v1/households/1/evaluations", "", bearer(office));
  CHECK(evaluations.body.find("\"model_version\":2") != std::string::npos);
  CHECK(post_json(c, "/api/v1/evaluations/rescore", R"({"region_code":"110101"})", bearer(office)).status == 403);
}

STORE_TEST("an exit goes village, township, county, then a public notice; an objection is heard before the household exits", "[http][alleviation][exit]") {
  TestServer server(store_kind, "minqin", [](Config& cfg) { cfg.exit_notice_ms = 1500; });
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  record_poor_year(c, county);
  sell_and_settle(server, c, 1000000);
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
  CHECK(error_code(post_json(c, path + "/decision", R"({"approve":true,"reason":"ok"})", bearer(county))) == "out_of_order");
  CHECK(error_code(post_json(c, path + "/review", R"({"level":"township","approve":true,"reason":"ok"})", bearer(township))) == "out_of_order");
  CHECK(post_json(c, path + "/review", R"({"level":"village","approve":true})", bearer(township)).status == 400);  // no reason
  CHECK(post_json(c, path + "/review", R"({"level":"village","approve":true,"reason":"x"})", bearer(county)).status == 403);
  REQUIRE(post_json(c, path + "/review", R"({"level":"village","approve":true,"reason":"村民代表会议评议通过"})", bearer(township)).status == 200);
  REQUIRE(post_json(c, path + "/review", R"({"level":"township","approve":true,"reason":"乡镇审核通过"})", bearer(township)).status == 200);
  REQUIRE(post_json(c, path + "/decision", R"({"approve":true,"reason":"县级审定，公示"})", bearer(county)).status == 200);
  // The notice is public, with the name masked.
  auto notices = c.request("GET", "/api/v1/public/notices?region=620621");
  REQUIRE(notices.status == 200);
  CHECK(notices.body.find("王*国") != std::string::npos);
  CHECK(notices.body.find("王建国") == std::string::npos);
  auto objection = post_json(c, path + "/objections", R"({"text":"他家还有外债未还"})", {});
  REQUIRE(objection.status == 201);
  CHECK(error_code(post_json(c, path + "/exit", R"({"reason":"公示期满"})", bearer(county))) == "notice_running");
  REQUIRE(post_json(c, "/api/v1/objections/" + std::to_string(json_int(objection.body, "id")) + "/resolution",
                    R"({"upheld":false,"reason":"核实：债务已结清"})", bearer(county)).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  CHECK(error_code(post_json(c, path + "/objections", R"({"text":"too late"})", {})) == "notice_closed");
  auto exited = post_json(c, path + "/exit", R"({"reason":"公示期满无异议"})", bearer(county));
  REQUIRE(exited.status == 200);
  CHECK(str_field(exited.body, "status") == "exited");
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(county)).body.find("\"status\":\"exited\"") != std::string::npos);
  // Every step is kept with who and why.
  auto steps = c.request("GET", "/api/v1/households/1/exit-proposals", "", bearer(county)).body;
  for (const char* step : {"propose", "village_review", "township_review", "county_approval", "objection_resolution", "exit"})
    CHECK(steps.find(std::string("\"step\":\"") + step + "\"") != std::string::npos);
}

STORE_TEST("a large medical expense on an at-risk household raises an alert the township works to a close", "[http][alleviation][monitoring]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login("13900000010");
  auto at_risk = c.request("PATCH", "/api/v1/households/1",
                           R"({"card":)" + card_with_income(1200000) + R"(,"status":"at_risk","reason":"illness in the family"})", bearer(county));
  REQUIRE(at_risk.status == 200);
  CHECK(error_field(post_json(c, "/api/v1/households/1/expenses", R"({"kind":"lottery","amount_fen":3000000})", bearer(county))) == "kind");
  CHECK(post_json(c, "/api/v1/households/1/expenses", R"({"kind":"medical","amount_fen":3000000})", bearer(server.login(kConsumer))).status == 403);
  auto expense = post_json(c, "/api/v1/households/1/expenses", R"({"kind":"medical","amount_fen":3000000,"note":"住院手术"})", bearer(county));
  REQUIRE(expense.status == 201);
  auto alerts = c.request("GET", "/api/v1/alerts", "", bearer(township));
  REQUIRE(alerts.status == 200);
  CHECK(alerts.body.find("\"rule\":\"large_expense\"") != std::string::npos);
  CHECK(alerts.body.find("30000.00") != std::string::npos);
  auto doc = Json::parse(alerts.body);
  std::int64_t alert = 0;
  for (const auto& a : doc->find("alerts")->as_array())
    if (a.find("rule")->as_string() == "large_expense") alert = a.find("id")->as_integer();
  REQUIRE(alert > 0);
  const std::string close = "/api/v1/alerts/" + std::to_string(alert) + "/close";
  CHECK(post_json(c, close, R"({"outcome":"help_given","note":"x"})", bearer(server.login(kConsumer))).status == 404);
  CHECK(post_json(c, close, R"({"outcome":"forgot","note":"x"})", bearer(township)).status == 400);
  auto closed = post_json(c, close, R"({"outcome":"status_changed","note":"医疗支出致贫，重新纳入"})", bearer(township));
  REQUIRE(closed.status == 200);
  CHECK(closed.body.find("closed: status_changed") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(county)).body.find("\"status\":\"returned_to_poverty\"") != std::string::npos);
  CHECK(post_json(c, close, R"({"outcome":"false_alarm","note":"again"})", bearer(township)).status == 409);
}
