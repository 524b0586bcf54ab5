// The operations lists over real TCP: what a station and the county centre see of the
// parcels, the poverty office's queues within its area, and orders whose shipped and
// delivered states follow their parcels' scans.
#include "alleviation/exits.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kPlatformAdmin = "13900000008", kTownshipOffice = "13900000010";

// The tracking numbers a list answers, in order; REQUIREs a 200.
std::vector<std::string> listed(HttpClient& c, const std::string& token, const std::string& query,
                                const char* key = "shipments",
                                const char* field = "tracking_number") {
  auto r = c.request("GET", query, "", bearer(token));
  INFO(query << " → " << r.body);
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  REQUIRE(doc.ok());
  std::vector<std::string> out;
  for (const auto& item : doc->find(key)->as_array()) {
    const Json* v = item.find(field);
    out.push_back(v->type() == Json::Type::string ? v->as_string()
                                                  : std::to_string(v->as_integer()));
  }
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The one item of a shipments list with this number.
Json item_of(HttpClient& c, const std::string& token, const std::string& query,
             const std::string& number) {
  auto r = c.request("GET", query, "", bearer(token));
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  for (const auto& item : doc->find("shipments")->as_array())
    if (item.find("tracking_number")->as_string() == number) return item;
  FAIL("no " << number << " in " << r.body);
  return Json();
}

std::vector<std::string> flags_of(const Json& item) {
  std::vector<std::string> out;
  for (const auto& f : item.find("flags")->as_array()) out.push_back(f.as_string());
  return out;
}

std::string readings(const std::string& sensor, std::int64_t from_ms, int count, int step_min,
                     int centi) {
  std::string body = R"({"readings":[)";
  for (int i = 0; i < count; ++i)
    body += (i ? "," : "") + std::string(R"({"sensor":")") + sensor + R"(","at_ms":)" +
            std::to_string(from_ms + i * step_min * 60'000LL) + R"(,"centi":)" +
            std::to_string(centi) + "}";
  return body + "]}";
}

HttpReply set_status(HttpClient& c, const std::string& token, std::int64_t order,
                     const std::string& body) {
  return post_json(c, "/api/v1/orders/" + std::to_string(order) + "/status", body, bearer(token));
}

}  // namespace

STORE_TEST("a station sees a paid order's parcel coming, standing in its store, then gone",
           "[http][ops-lists]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    station = server.login(kStation);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_numbers(c, centre, b.order).front();
  const std::string arriving = "/api/v1/shipments?view=arriving",
                    in_store = "/api/v1/shipments?view=in_store",
                    to_dispatch = "/api/v1/shipments?view=to_dispatch";
  // Waiting at its village point, bound for the township station first.
  auto coming = item_of(c, station, arriving, number);
  CHECK(coming.find("order_id")->as_integer() == b.order);
  CHECK(coming.find("status")->as_string() == "planned");
  CHECK(coming.find("current_node")->as_string() == "MQ-VP-XQ01");
  CHECK(coming.find("next_node")->as_string() == "MQ-TS-XQ");
  CHECK(coming.find("temperature_class")->as_string() == "chilled");
  CHECK(flags_of(coming).empty());
  CHECK_FALSE(has(listed(c, station, in_store), number));
  // The village point sees it in store; the centre reads any node of its county.
  CHECK(has(listed(c, centre, in_store + "&node=MQ-VP-XQ01"), number));

  // Today's pickup runs, as planned, are kept for the station to read again.
  const std::string today = format_date(shanghai_date(server.clock().now_ms()));
  auto planned = post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs",
                           R"({"date":")" + today + R"("})", bearer(station));
  REQUIRE(planned.status == 201);
  auto runs = c.request("GET", "/api/v1/stations/MQ-TS-XQ/pickup-runs", "", bearer(station));
  REQUIRE(runs.status == 200);
  CHECK(runs.body.find(R"("id":)" + std::to_string(json_int(planned.body, "id"))) !=
        std::string::npos);
  CHECK(runs.body.find("MQ-VP-XQ01") != std::string::npos);
  CHECK(
      c.request("GET", "/api/v1/stations/MQ-TS-XQ/pickup-runs?date=2026-02-30", "", bearer(station))
          .status == 400);
  CHECK(c.request("GET", "/api/v1/stations/MQ-TS-SL/pickup-runs", "", bearer(station)).status ==
        404);

  REQUIRE(scan_parcel(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  CHECK(has(listed(c, station, arriving), number));  // on its way
  REQUIRE(scan_parcel(c, station, number, "MQ-TS-XQ", "arriving").status == 201);
  CHECK_FALSE(has(listed(c, station, arriving), number));
  auto standing = item_of(c, station, in_store, number);
  CHECK(standing.find("current_node")->as_string() == "MQ-TS-XQ");
  // To dispatch today when its planned departure falls before the day ends in Shanghai.
  const Json* departure = standing.find("planned_departure");
  REQUIRE(departure->type() == Json::Type::string);
  CHECK(has(listed(c, station, to_dispatch), number) ==
        (departure->as_string().substr(0, 10) == today));

  REQUIRE(scan_parcel(c, station, number, "MQ-TS-XQ", "departing").status == 201);
  CHECK_FALSE(has(listed(c, station, in_store), number));
  CHECK_FALSE(has(listed(c, station, to_dispatch), number));
}

STORE_TEST("the centre sees a parcel held by an excursion until the excursion is decided",
           "[http][ops-lists]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_numbers(c, centre, b.order).front();
  REQUIRE(scan_parcel(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(scan_parcel(c, centre, number, "MQ-TS-XQ", "arriving").status == 201);
  REQUIRE(scan_parcel(c, centre, number, "MQ-CS-XQ", "storing", "in_progress").status == 201);
  CHECK_FALSE(has(listed(c, centre, "/api/v1/shipments?view=held"), number));

  // The cold store warms to 12 °C for 40 minutes: longer than chilled goods may bear.
  const std::int64_t now = server.clock().now_ms();
  REQUIRE(post_json(c, "/api/v1/telemetry", readings("MQ-CS-XQ-T1", now - 45 * 60'000, 1, 1, 300),
                    bearer(centre))
              .status == 200);
  REQUIRE(post_json(c, "/api/v1/telemetry", readings("MQ-CS-XQ-T1", now - 40 * 60'000, 9, 5, 1200),
                    bearer(centre))
              .status == 200);
  const auto flags = flags_of(item_of(c, centre, "/api/v1/shipments?view=held", number));
  CHECK(has(flags, "held"));
  CHECK(has(flags, "excursion"));
  CHECK(has(listed(c, centre, "/api/v1/shipments?view=excursion"), number));
  CHECK(listed(c, centre, "/api/v1/shipments?view=unroutable").empty());
  // Admin names the county; another county has none of it.
  CHECK(has(listed(c, server.login(kPlatformAdmin), "/api/v1/shipments?view=held&county=620621"),
            number));
  CHECK(
      listed(c, server.login(kPlatformAdmin), "/api/v1/shipments?view=held&county=620102").empty());

  auto open = c.request("GET", "/api/v1/excursions", "", bearer(centre));
  auto doc = Json::parse(open.body);
  const auto excursion = doc->find("excursions")->as_array().front().find("id")->as_integer();
  REQUIRE(post_json(c, "/api/v1/excursions/" + std::to_string(excursion) + "/decision",
                    R"({"spoiled":false})", bearer(centre))
              .status == 200);
  CHECK_FALSE(has(listed(c, centre, "/api/v1/shipments?view=excursion"), number));
  CHECK_FALSE(has(listed(c, centre, "/api/v1/shipments?view=held"), number));
}

STORE_TEST("a parcel whose planned arrival has passed unscanned is late for the centre",
           "[http][ops-lists]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_numbers(c, centre, b.order).front();
  CHECK_FALSE(has(listed(c, centre, "/api/v1/shipments?view=late"), number));
  server.advance(std::chrono::hours(72));
  auto late = item_of(c, centre, "/api/v1/shipments?view=late", number);
  CHECK(flags_of(late) == std::vector<std::string>{"late"});
  // The station sees the flag on what it expects.
  CHECK(flags_of(item_of(c, server.login(kStation), "/api/v1/shipments?view=arriving", number)) ==
        std::vector<std::string>{"late"});
}

STORE_TEST("the shipment lists page with sealed cursors", "[http][ops-lists]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), station = server.login(kStation);
  const Bought first = buy_and_pay(server, c, consumer);
  const Bought second = buy_and_pay(server, c, consumer);
  const std::string centre = server.login(kCentre);
  const std::string one = tracking_numbers(c, centre, first.order).front(),
                    two = tracking_numbers(c, centre, second.order).front();
  auto page = c.request("GET", "/api/v1/shipments?view=arriving&limit=1", "", bearer(station));
  REQUIRE(page.status == 200);
  const std::string cursor = str_field(page.body, "next_cursor");
  CHECK(page.body.find(one) != std::string::npos);
  auto next = c.request("GET", "/api/v1/shipments?view=arriving&limit=1&cursor=" + cursor, "",
                        bearer(station));
  REQUIRE(next.status == 200);
  CHECK(next.body.find(two) != std::string::npos);
  CHECK(next.body.find("\"next_cursor\":null") != std::string::npos);
  // A cursor of another view is refused, as is one changed by a character.
  CHECK(error_code(c.request("GET", "/api/v1/shipments?view=in_store&cursor=" + cursor, "",
                             bearer(station))) == "invalid_cursor");
  std::string changed = cursor;
  changed[changed.size() / 2] = changed[changed.size() / 2] == 'A' ? 'B' : 'A';
  CHECK(error_code(c.request("GET", "/api/v1/shipments?view=arriving&cursor=" + changed, "",
                             bearer(station))) == "invalid_cursor");
}

STORE_TEST("the shipment lists refuse what they cannot answer", "[http][ops-lists][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string station = server.login(kStation), centre = server.login(kCentre),
                    admin = server.login(kPlatformAdmin), consumer = server.login(kConsumer);
  struct Case {
    std::string who, query;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {consumer, "view=arriving", 403, "role_not_allowed"},
      {station, "", 400, ""},
      {station, "view=everything", 400, "invalid_view"},
      {station, "view=late", 403, "view_not_for_your_role"},
      {station, "view=arriving&node=MQ-TS-SL", 403, "outside_your_area"},
      {station, "view=arriving&county=620621", 400, "not_for_this_view"},
      {centre, "view=held&node=MQ-TS-XQ", 400, "not_for_this_view"},
      {centre, "view=held&county=620102", 403, "outside_your_area"},
      {centre, "view=held&county=62062", 400, "invalid_region_code"},
      {centre, "view=arriving", 400, "missing_node"},
      {centre, "view=arriving&node=NOWHERE", 400, "unknown_node"},
      {centre, "view=arriving&node=LZ-HUB-01", 403, "outside_your_area"},
      {admin, "view=held", 400, "missing_county"},
      {station, "view=arriving&limit=0", 400, "invalid_limit"},
      {station, "view=arriving&cursor=not-a-cursor", 400, "invalid_cursor"},
  };
  for (const auto& k : cases) {
    auto r = c.request("GET", "/api/v1/shipments?" + k.query, "", bearer(k.who));
    INFO(k.query << " → " << r.body);
    CHECK(r.status == k.status);
    if (!k.code.empty()) CHECK(error_code(r) == k.code);
  }
}

STORE_TEST("an order is shipped and delivered as its parcel is scanned, not by staff's word",
           "[http][ops-lists][orders]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    farmer = server.login(kFarmer);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_numbers(c, centre, b.order).front();
  REQUIRE(set_status(c, farmer, b.order, R"({"status":"packed"})").status == 200);
  // The parcel still sits at the village point: the centre cannot call it delivered.
  auto early = set_status(c, centre, b.order, R"({"status":"delivered"})");
  CHECK(early.status == 409);
  CHECK(error_code(early) == "follows_shipments");
  CHECK(order_status(c, consumer, b.order) == "packed");

  REQUIRE(scan_parcel(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "shipped"; }));
  REQUIRE(
      scan_parcel(c, server.login(kPlatformAdmin), number, "LZ-HUB-01", "delivering", "delivered")
          .status == 201);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "delivered"; }));
  auto audit =
      c.request("GET", "/api/v1/orders/" + std::to_string(b.order) + "/audit", "", bearer(centre));
  REQUIRE(audit.status == 200);
  CHECK(audit.body.find(R"("to":"delivered","actor":"logistics")") != std::string::npos);
  CHECK(audit.body.find(R"("correction":true)") == std::string::npos);
}

STORE_TEST("the centre corrects an order's status with a reason, and the correction is audited",
           "[http][ops-lists][orders]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  auto corrected = set_status(
      c, centre, b.order, R"({"status":"delivered","correction_reason":"扫码枪故障，已人工交付"})");
  REQUIRE(corrected.status == 200);
  CHECK(str_field(corrected.body, "status") == "delivered");
  auto audit =
      c.request("GET", "/api/v1/orders/" + std::to_string(b.order) + "/audit", "", bearer(centre));
  REQUIRE(audit.status == 200);
  auto doc = Json::parse(audit.body);
  std::vector<std::string> corrections;
  for (const auto& e : doc->find("events")->as_array())
    if (e.find("correction")->as_bool()) {
      CHECK(e.find("reason")->as_string() == "扫码枪故障，已人工交付");
      CHECK(e.find("actor")->as_string().starts_with("account:"));
      corrections.push_back(e.find("from")->as_string() + ">" + e.find("to")->as_string());
    }
  CHECK(corrections ==
        std::vector<std::string>{"paid>packed", "packed>shipped", "shipped>delivered"});
}

STORE_TEST("a status correction is refused without a reason, or from those who do not correct",
           "[http][ops-lists][orders][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    station = server.login(kStation), farmer = server.login(kFarmer);
  const Bought b = buy_and_pay(server, c, consumer);
  struct Case {
    std::string who, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {farmer, R"({"status":"shipped","correction_reason":"x"})", 403, "forbidden"},
      // A station does not see the orders whose parcels it handles.
      {station, R"({"status":"shipped","correction_reason":"x"})", 404, "not_found"},
      {centre, R"({"status":"shipped"})", 409, "follows_shipments"},
      {centre, R"({"status":"shipped","correction_reason":""})", 400, ""},
      {centre, R"({"status":"shipped","correction_reason":"   "})", 400,
       "invalid_correction_reason"},
      {farmer, R"({"status":"packed","correction_reason":"why not"})", 400,
       "invalid_correction_reason"},
      {centre, R"({"status":"completed","correction_reason":"x"})", 400, "invalid_status"},
  };
  for (const auto& k : cases) {
    auto r = set_status(c, k.who, b.order, k.body);
    INFO(k.body << " → " << r.body);
    CHECK(r.status == k.status);
    if (!k.code.empty()) CHECK(error_code(r) == k.code);
  }
  CHECK(order_status(c, consumer, b.order) == "paid");
  const std::string audit = "/api/v1/orders/" + std::to_string(b.order) + "/audit";
  CHECK(c.request("GET", audit, "", bearer(consumer)).status == 403);
  CHECK(c.request("GET", audit, "", bearer(station)).status == 403);
}

namespace {

const std::string kCard =
    R"({"members":[{"name":"周大山","relationship":"head","birth_year":1970,)"
    R"("health":"chronic_illness",)"
    R"("education":"primary","id_number":"620621197001010019","medical_insurance":true}],)"
    R"("causes":["illness"],"land_mu_hundredths":600,"housing":"safe","drinking_water":"safe",)"
    R"("income":{"year":2025,"wages_fen":300000,"own_business_fen":0,"property_fen":0,)"
    R"("transfers_fen":200000},)"
    R"("helper":{"name":"陈志刚","phone":"13600000001"}})";

// The county office registers a household in 三雷镇, outside 西渠镇; returns its id.
std::string register_in_sanlei(HttpClient& c, const std::string& county) {
  auto made = post_json(c, "/api/v1/households",
                        R"({"village_code":"620621101201","phone":"13800000099",)"
                        R"("status":"registered_poor","card":)" +
                            kCard + "}",
                        bearer(county));
  REQUIRE(made.status == 201);
  return std::to_string(json_int(made.body, "id"));
}

}  // namespace

STORE_TEST("an office lists its own area's households; a township office not another township's",
           "[http][ops-lists][office]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login(kTownshipOffice);
  const std::string sanlei = register_in_sanlei(c, county);
  const auto all = listed(c, county, "/api/v1/households", "households", "id");
  CHECK(has(all, "1"));
  CHECK(has(all, sanlei));
  const auto own = listed(c, township, "/api/v1/households", "households", "id");
  CHECK(has(own, "1"));
  CHECK_FALSE(has(own, sanlei));
  const auto sanlei_village =
      listed(c, county, "/api/v1/households?village=620621101201", "households", "id");
  CHECK(has(sanlei_village, sanlei));
  CHECK_FALSE(has(sanlei_village, "1"));
  CHECK_FALSE(
      has(listed(c, county, "/api/v1/households?status=exited", "households", "id"), sanlei));
  // The office sees names whole; the centre, masked.
  auto whole = c.request("GET", "/api/v1/households?village=620621101201", "", bearer(county));
  CHECK(whole.body.find("13800000099") != std::string::npos);
  auto masked = c.request("GET", "/api/v1/households?village=620621101201", "",
                          bearer(server.login(kCentre)));
  REQUIRE(masked.status == 200);
  CHECK(masked.body.find("13800000099") == std::string::npos);
  // Paged one at a time, every household comes once.
  std::vector<std::string> paged;
  std::string query = "/api/v1/households?limit=1";
  for (int guard = 0; guard < 50; ++guard) {
    auto r = c.request("GET", query, "", bearer(county));
    REQUIRE(r.status == 200);
    auto doc = Json::parse(r.body);
    for (const auto& h : doc->find("households")->as_array())
      paged.push_back(std::to_string(h.find("id")->as_integer()));
    const Json* next = doc->find("next_cursor");
    if (next->type() == Json::Type::null) break;
    query = "/api/v1/households?limit=1&cursor=" + next->as_string();
  }
  CHECK(paged == all);
}

STORE_TEST("the households queue refuses filters it does not know and areas not the caller's",
           "[http][ops-lists][office][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login(kTownshipOffice);
  struct Case {
    std::string who, query;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {server.login(kConsumer), "", 403, "role_not_allowed"},
      {county, "status=poorish", 400, "invalid_status"},
      {county, "village=62062110", 400, "invalid_region_code"},
      {county, "village=abcdefghijkl", 400, "invalid_region_code"},
      {township, "village=620621101201", 403, "outside_your_area"},
      {county, "village=620102001001", 403, "outside_your_area"},
      {county, "band=rich", 400, "invalid_band"},
      {county, "risk=maybe", 400, ""},
      {county, "cursor=AAAA", 400, "invalid_cursor"},
  };
  for (const auto& k : cases) {
    auto r = c.request("GET", "/api/v1/households?" + k.query, "", bearer(k.who));
    INFO(k.query << " → " << r.body);
    CHECK(r.status == k.status);
    if (!k.code.empty()) CHECK(error_code(r) == k.code);
  }
  // A cursor of another filter is not this list's.
  auto page = c.request("GET", "/api/v1/households?limit=1", "", bearer(county));
  const std::string cursor = str_field(page.body, "next_cursor");
  CHECK(error_code(c.request("GET", "/api/v1/households?status=registered_poor&cursor=" + cursor,
                             "", bearer(county))) == "invalid_cursor");
}

STORE_TEST("a listing's certification waits in the township office's queue, then the county's",
           "[http][ops-lists][office]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer), county = server.login(kOffice),
                    township = server.login(kTownshipOffice);
  auto product = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(product.status == 201);
  auto applied = post_json(
      c, "/api/v1/products/" + std::to_string(json_int(product.body, "id")) + "/certification",
      R"({"benefit_mechanism":"收益全部归王建国户，合作社按保护价收购"})", bearer(farmer));
  REQUIRE(applied.status == 201);
  const std::string id = std::to_string(json_int(applied.body, "id"));
  CHECK(listed(c, township, "/api/v1/certifications", "certifications", "id") ==
        std::vector<std::string>{id});
  CHECK(listed(c, county, "/api/v1/certifications", "certifications", "id").empty());
  CHECK(listed(c, county, "/api/v1/certifications?status=applied", "certifications", "id") ==
        std::vector<std::string>{id});
  REQUIRE(post_json(c, "/api/v1/certifications/" + id + "/review",
                    R"({"approve":true,"note":"乡镇审核通过"})", bearer(township))
              .status == 200);
  CHECK(listed(c, township, "/api/v1/certifications", "certifications", "id").empty());
  CHECK(listed(c, county, "/api/v1/certifications", "certifications", "id") ==
        std::vector<std::string>{id});
  CHECK(error_code(c.request("GET", "/api/v1/certifications?status=waiting", "", bearer(county))) ==
        "invalid_status");
}

STORE_TEST("exit proposals and objections are listed by stage within the office's area",
           "[http][ops-lists][office]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice), township = server.login(kTownshipOffice);
  const std::string sanlei = register_in_sanlei(c, county);
  // Proposals for household 1 (西渠镇) and the one in 三雷镇, as scoring would make them.
  REQUIRE(server.store()
              .db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(alleviation::propose_exit(tx, 1, 0, server.clock()));
                CUNHUO_TRY(alleviation::propose_exit(tx, std::stoll(sanlei), 0, server.clock()));
                return {};
              })
              .ok());
  const std::string queue = "/api/v1/exit-proposals?stage=village_review";
  const auto counties = listed(c, county, queue, "proposals", "household_id");
  CHECK(has(counties, "1"));
  CHECK(has(counties, sanlei));
  const auto townships = listed(c, township, queue, "proposals", "household_id");
  CHECK(has(townships, "1"));
  CHECK_FALSE(has(townships, sanlei));
  CHECK(listed(c, county, "/api/v1/objections", "objections", "id").empty());
  struct Case {
    std::string query;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/api/v1/exit-proposals", 400, ""},
      {"/api/v1/exit-proposals?stage=limbo", 400, "invalid_stage"},
      {"/api/v1/exit-proposals?stage=notice&cursor=zz", 400, "invalid_cursor"},
      {"/api/v1/objections?status=closed", 400, "invalid_status"},
  };
  for (const auto& k : cases) {
    auto r = c.request("GET", k.query, "", bearer(county));
    INFO(k.query << " → " << r.body);
    CHECK(r.status == k.status);
    if (!k.code.empty()) CHECK(error_code(r) == k.code);
  }
}

STORE_TEST("the office's alerts page like the other queues", "[http][ops-lists][office]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice);
  auto first = c.request("GET", "/api/v1/alerts?limit=1", "", bearer(county));
  REQUIRE(first.status == 200);
  auto doc = Json::parse(first.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("alerts")->as_array().size() <= 1);
  CHECK(doc->find("next_cursor") != nullptr);
  CHECK(error_code(c.request("GET", "/api/v1/alerts?cursor=AAAA", "", bearer(county))) ==
        "invalid_cursor");
  CHECK(error_code(c.request("GET", "/api/v1/alerts?limit=101", "", bearer(county))) ==
        "invalid_limit");
}

STORE_TEST("the households queue filters by the newest score's band and by an open alert",
           "[http][ops-lists][office]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string county = server.login(kOffice);
  auto at_risk = c.request(
      "PATCH", "/api/v1/households/1",
      R"({"card":)" + kCard + R"(,"status":"at_risk","reason":"家中有人患病"})", bearer(county));
  REQUIRE(at_risk.status == 200);
  REQUIRE(post_json(c, "/api/v1/households/1/expenses",
                    R"({"kind":"medical","amount_fen":3000000,"note":"住院手术"})", bearer(county))
              .status == 201);
  // Re-scoring follows the card's change through the outbox.
  std::string band;
  REQUIRE(eventually([&] {
    auto r = c.request("GET", "/api/v1/households?status=at_risk", "", bearer(county));
    auto doc = Json::parse(r.body);
    for (const auto& h : doc->find("households")->as_array())
      if (h.find("id")->as_integer() == 1 && h.find("band")->type() == Json::Type::string) {
        band = h.find("band")->as_string();
        return h.find("at_risk")->as_bool();
      }
    return false;
  }));
  CHECK(has(listed(c, county, "/api/v1/households?risk=true", "households", "id"), "1"));
  CHECK_FALSE(has(listed(c, county, "/api/v1/households?risk=false", "households", "id"), "1"));
  CHECK(has(listed(c, county, "/api/v1/households?band=" + band, "households", "id"), "1"));
  const std::string other = band == "lifted_out" ? "impoverished" : "lifted_out";
  CHECK_FALSE(has(listed(c, county, "/api/v1/households?band=" + other, "households", "id"), "1"));
}
