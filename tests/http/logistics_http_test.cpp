// Logistics over real TCP: a chilled order followed hop by hop, a warm cold store that
// holds and refunds it, the network and route planning, telemetry's bad input.
#include "core/json.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

std::string tracking_of(HttpClient& c, const std::string& token, std::int64_t order) {
  std::string number;
  eventually([&] {
    auto r = c.request("GET", "/api/v1/orders/" + std::to_string(order) + "/shipments", "",
                       bearer(token));
    auto doc = Json::parse(r.body);
    if (r.status != 200 || !doc.ok() || doc->find("shipments")->as_array().empty()) return false;
    number = doc->find("shipments")->as_array().front().find("tracking_number")->as_string();
    return true;
  });
  return number;
}

HttpReply scan(HttpClient& c, const std::string& token, const std::string& number,
               const std::string& node, const char* step, const char* disposition = "in_transit") {
  return post_json(c, "/api/v1/shipments/" + number + "/scans",
                   R"({"node_code":")" + node + R"(","biz_step":")" + step +
                       R"(","disposition":")" + disposition + R"("})",
                   bearer(token));
}

}  // namespace

STORE_TEST("a chilled order is followed hop by hop; a warm cold store holds it and it is refunded",
           "[http][logistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    station = server.login(kStation);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_of(c, consumer, b.order);
  REQUIRE(number.size() == 14);
  // Anyone with the number sees the route and no personal data.
  auto tracked = c.request("GET", "/api/v1/tracking/" + number);
  REQUIRE(tracked.status == 200);
  CHECK(tracked.body.find("MQ-CS-XQ") !=
        std::string::npos);  // chilled: by the township's cold store
  CHECK(tracked.body.find("张三明") == std::string::npos);
  CHECK(tracked.body.find("13711112222") == std::string::npos);
  CHECK(tracked.body.find("order_id") == std::string::npos);
  CHECK(c.request("GET", "/api/v1/tracking/CH000000000000").status == 404);

  CHECK(scan(c, station, number, "MQ-VP-XQ01", "departing").status ==
        403);  // not the operator's station
  REQUIRE(scan(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "shipped"; }));
  CHECK(scan(c, centre, number, "MQ-TS-SL", "arriving").status == 422);  // not on the route
  CHECK(scan(c, station, number, "MQ-TS-XQ", "flying", "in_transit").status == 400);
  REQUIRE(scan(c, station, number, "MQ-TS-XQ", "arriving").status == 201);
  REQUIRE(scan(c, centre, number, "MQ-CS-XQ", "storing", "in_progress").status == 201);

  // The cold store warms to 12 °C for 40 minutes: longer than chilled goods may bear.
  const std::int64_t now = SystemClock().now_ms();
  auto warm =
      post_json(c, "/api/v1/telemetry",
                sensor_readings("MQ-CS-XQ-T1", now - 45 * 60'000, 1, 1, 300), bearer(centre));
  REQUIRE(warm.status == 200);
  warm = post_json(c, "/api/v1/telemetry",
                   sensor_readings("MQ-CS-XQ-T1", now - 40 * 60'000, 9, 5, 1200), bearer(centre));
  REQUIRE(warm.status == 200);
  CHECK(warm.body.find("\"excursions\":[]") == std::string::npos);
  auto held = c.request("GET", "/api/v1/tracking/" + number);
  CHECK(str_field(held.body, "status") == "held");
  auto open = c.request("GET", "/api/v1/excursions", "", bearer(centre));
  REQUIRE(open.status == 200);
  auto doc = Json::parse(open.body);
  REQUIRE(doc->find("excursions")->as_array().size() == 1);
  const auto excursion = doc->find("excursions")->as_array().front().find("id")->as_integer();
  CHECK(c.request("GET", "/api/v1/excursions", "", bearer(consumer)).status == 403);
  REQUIRE(post_json(c, "/api/v1/excursions/" + std::to_string(excursion) + "/decision",
                    R"({"spoiled":true})", bearer(centre))
              .status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "refunded"; }));
  // The outbox requested the refund; the next housekeeping pass sends it to the provider.
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM provider_refunds") == 1; }));
  server.app().housekeep_now();
  CHECK(refunded_at_provider(server) == 7960);
  // The carrier bears it: the household is paid as if the melons were sold.
  CHECK(server.count("SELECT COUNT(*) FROM settlement_lines WHERE household_id = 1") == 1);
  CHECK(post_json(c, "/api/v1/excursions/" + std::to_string(excursion) + "/decision",
                  R"({"spoiled":false})", bearer(centre))
            .status == 409);
}

STORE_TEST("the centre extends the network; links that make no sense are refused",
           "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  auto link = [&](const std::string& fields) {
    return post_json(c, "/api/v1/network/links", "{" + fields + "}", bearer(centre));
  };
  const std::string ok =
      R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"van","refrigerated":false,)"
      R"("duration_min":50,"cost_fen":700)";
  CHECK(link(ok + R"(,"timetable":"Mon-Sat 09:00,15:30")").status == 201);
  CHECK(error_field(
            link(R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"van","refrigerated":false,)"
                 R"("duration_min":-5,"cost_fen":700)")) == "duration_min");
  CHECK(link(R"("from_code":"NOPE","to_code":"MQ-CS-01","mode":"van","refrigerated":false,)"
             R"("duration_min":5,"cost_fen":700)")
            .status == 404);
  CHECK(error_field(link(ok + R"(,"timetable":"every day at 9")")) == "timetable");
  CHECK(error_field(link(
            R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"tricycle","refrigerated":true,)"
            R"("duration_min":5,"cost_fen":7)")) == "refrigerated");
  CHECK(link(R"("from_code":"MQ-TS-SL","to_code":"MQ-TS-SL","mode":"van","refrigerated":false,)"
             R"("duration_min":5,"cost_fen":7)")
            .status == 400);
  CHECK(post_json(c, "/api/v1/network/links", "{" + ok + "}", bearer(server.login(kConsumer)))
            .status == 403);
  CHECK(
      post_json(c, "/api/v1/network/nodes",
                R"({"code":"MQ-CS-02","kind":"cold_store","name":"新冷库","region_code":"620621",)"
                R"("cold_capacity_crates":0})",
                bearer(centre))
          .status == 400);
  auto plan = post_json(
      c, "/api/v1/routes/plan",
      R"({"origin_code":"MQ-VP-XQ01","destination_code":"LZ-HUB-01","temperature_class":"chilled",)"
      R"("shelf_life_hours":240})",
      bearer(centre));
  REQUIRE(plan.status == 200);
  CHECK(plan.body.find("MQ-CS-XQ") != std::string::npos);
  auto frozen = post_json(
      c, "/api/v1/routes/plan",
      R"({"origin_code":"MQ-VP-SL02","destination_code":"LZ-HUB-01","temperature_class":"frozen"})",
      bearer(centre));
  CHECK(frozen.status == 422);
  CHECK(error_field(frozen) == "unrefrigerated_budget");
  CHECK(post_json(c, "/api/v1/routes/plan",
                  R"({"origin_code":"MQ-VP-XQ01","destination_code":"NOWHERE",)"
                  R"("temperature_class":"chilled"})",
                  bearer(centre))
            .status == 404);
}

STORE_TEST(
    "telemetry with bad JSON, absurd values or too many bytes is refused; unknown sensors and "
    "repeats are counted",
    "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  const std::int64_t now = SystemClock().now_ms();
  CHECK(post_json(c, "/api/v1/telemetry", R"({"readings":[{"sensor":"MQ-CS-01-T1","at_ms":)",
                  bearer(centre))
            .status == 400);
  auto absurd = post_json(c, "/api/v1/telemetry", sensor_readings("MQ-CS-01-T1", now, 3, 1, 99999),
                          bearer(centre));
  CHECK(absurd.status == 400);
  CHECK(error_field(absurd) == "readings[0].centi");
  CHECK(error_field(post_json(c, "/api/v1/telemetry",
                              R"({"readings":[{"sensor":"MQ-CS-01-T1","at_ms":"soon","centi":1}]})",
                              bearer(centre))) == "readings[0].at_ms");
  CHECK(server.count("SELECT COUNT(*) FROM readings") == 0);
  auto first = post_json(c, "/api/v1/telemetry",
                         sensor_readings("MQ-CS-01-T1", now - 600'000, 5, 1, 250), bearer(centre));
  REQUIRE(first.status == 200);
  CHECK(json_int(first.body, "stored") == 5);
  auto again = post_json(c, "/api/v1/telemetry",
                         sensor_readings("MQ-CS-01-T1", now - 600'000, 5, 1, 250), bearer(centre));
  CHECK(json_int(again.body, "duplicates") == 5);
  auto late = post_json(c, "/api/v1/telemetry",
                        sensor_readings("MQ-CS-01-T1", now - 900'000, 2, 1, 250), bearer(centre));
  CHECK(json_int(late.body, "late") == 2);
  auto stranger = post_json(c, "/api/v1/telemetry",
                            sensor_readings("NO-SUCH-SENSOR", now, 2, 1, 250), bearer(centre));
  CHECK(json_int(stranger.body, "unknown_sensor") == 2);
  CHECK(post_json(c, "/api/v1/telemetry", sensor_readings("MQ-CS-01-T1", now, 1, 1, 250),
                  bearer(server.login(kConsumer)))
            .status == 403);
  HttpClient big(server.port());
  big.send_raw(
      "POST /api/v1/telemetry HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nAuthorization: Bearer " +
      centre + "\r\nContent-Length: 104857600\r\n\r\n");
  CHECK(big.read_reply().status == 413);
  CHECK(server.count("SELECT COUNT(*) FROM readings") == 7);
}

STORE_TEST(
    "a station plans the day's pickup runs and sees them against the nearest-neighbour baseline",
    "[http][logistics][pickup]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), station = server.login(kStation);
  std::string second = kMelon;
  second.replace(second.find("620621104201"), 12, "620621104202");
  const Bought a = buy_and_pay(server, c, consumer);
  const Bought b = buy_and_pay(server, c, consumer, second);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM shipments") == 2; }));
  (void)a;
  (void)b;
  const std::string body =
      R"({"date":")" + format_date(shanghai_date(SystemClock().now_ms())) + R"("})";
  auto plan = post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs", body, bearer(station));
  REQUIRE(plan.status == 201);
  CHECK(json_int(plan.body, "parcels") == 2);
  CHECK(plan.body.find("MQ-VP-XQ01") != std::string::npos);
  CHECK(plan.body.find("MQ-VP-XQ02") != std::string::npos);
  auto doc = Json::parse(plan.body);
  CHECK(doc->find("total_km")->as_number() <= doc->find("baseline_km")->as_number());
  CHECK(doc->find("total_km")->as_number() > 0);
  CHECK(post_json(c, "/api/v1/stations/MQ-TS-SL/pickup-runs", body, bearer(station)).status ==
        404);  // not their station
  CHECK(post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs", R"({"date":"2026-02-30"})",
                  bearer(station))
            .status == 400);
}

// ---- telemetry: who may report, and from when -----------------------------------------

namespace {

constexpr const char* kAdmin = "13900000008";
const std::int64_t k2096 = shanghai_midnight_ms(LocalDate{2096, 1, 1});

// A paid chilled order whose parcel now waits in 西渠镇's cold store (sensor MQ-CS-XQ-T1).
void parcel_in_cold_store(TestServer& server, HttpClient& c) {
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const std::string number = tracking_of(c, consumer, buy_and_pay(server, c, consumer).order);
  REQUIRE(scan(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(scan(c, centre, number, "MQ-TS-XQ", "arriving").status == 201);
  REQUIRE(scan(c, centre, number, "MQ-CS-XQ", "storing", "in_progress").status == 201);
}

std::string one_reading(const std::string& sensor, std::int64_t at_ms) {
  return sensor_readings(sensor, at_ms, 1, 1, 400);
}

// Two readings in one batch: `first`'s, then `second`'s.
std::string two_sensors(const std::string& first, const std::string& second, std::int64_t at_ms) {
  const std::string a = one_reading(first, at_ms), b = one_reading(second, at_ms);
  return a.substr(0, a.size() - 2) + "," + b.substr(b.find('[') + 1);
}

const Json& refused(const Json& doc) {
  const Json* list = doc.find("refused");
  REQUIRE(list != nullptr);
  return *list;
}

}  // namespace

STORE_TEST(
    "a reading dated 2096 is refused on its own, and two warm hours after it raise the excursion",
    "[http][logistics][telemetry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  parcel_in_cold_store(server, c);
  const std::string centre = server.login(kCentre);
  const std::int64_t now = SystemClock().now_ms();
  auto forged =
      post_json(c, "/api/v1/telemetry",
                R"({"readings":[{"sensor":"MQ-CS-XQ-T1","at_ms":)" + std::to_string(k2096) +
                    R"(,"centi":400},{"sensor":"MQ-CS-XQ-T1","at_ms":)" +
                    std::to_string(now - 125 * 60'000) + R"(,"centi":400}]})",
                bearer(centre));
  REQUIRE(forged.status == 200);
  CHECK(json_int(forged.body, "stored") == 1);
  auto doc = Json::parse(forged.body);
  REQUIRE(refused(*doc).as_array().size() == 1);
  CHECK(refused(*doc).as_array().front().find("index")->as_integer() == 0);
  CHECK(refused(*doc).as_array().front().find("code")->as_string() == "future_time");
  auto warm =
      post_json(c, "/api/v1/telemetry",
                sensor_readings("MQ-CS-XQ-T1", now - 120 * 60'000, 25, 5, 1500), bearer(centre));
  REQUIRE(warm.status == 200);
  CHECK(json_int(warm.body, "late") == 0);
  CHECK(warm.body.find("\"excursions\":[]") == std::string::npos);
}

STORE_TEST("a station operator's readings count only for sensors at its own station",
           "[http][logistics][telemetry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre), station = server.login(kStation);
  REQUIRE(post_json(c, "/api/v1/sensors", R"({"sensor_code":"MQ-TS-XQ-T1","node_code":"MQ-TS-XQ"})",
                    bearer(centre))
              .status == 201);
  auto sent =
      post_json(c, "/api/v1/telemetry",
                two_sensors("MQ-TS-XQ-T1", "MQ-CS-01-T1", SystemClock().now_ms()), bearer(station));
  REQUIRE(sent.status == 200);
  CHECK(json_int(sent.body, "stored") == 1);
  auto doc = Json::parse(sent.body);
  REQUIRE(refused(*doc).as_array().size() == 1);
  CHECK(refused(*doc).as_array().front().find("index")->as_integer() == 1);
  CHECK(refused(*doc).as_array().front().find("code")->as_string() == "not_your_sensor");
}

STORE_TEST("a county centre's readings count only for its own county's sensors",
           "[http][logistics][telemetry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t now = SystemClock().now_ms();
  auto centre = post_json(c, "/api/v1/telemetry", one_reading("LZ-HUB-01-T1", now),
                          bearer(server.login(kCentre)));
  REQUIRE(centre.status == 200);
  CHECK(json_int(centre.body, "stored") == 0);
  CHECK(centre.body.find("not_your_sensor") != std::string::npos);
  auto admin = post_json(c, "/api/v1/telemetry", one_reading("LZ-HUB-01-T1", now),
                         bearer(server.login(kAdmin)));
  CHECK(json_int(admin.body, "stored") == 1);
}

STORE_TEST(
    "a device key, shown once, reports for its own sensor only, and rotating it retires the old "
    "one",
    "[http][logistics][telemetry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  const std::string path = "/api/v1/sensors/MQ-CS-01-T1/device-key";
  CHECK(c.request("POST", path, "", bearer(server.login(kConsumer))).status == 403);
  CHECK(c.request("POST", "/api/v1/sensors/LZ-HUB-01-T1/device-key", "", bearer(centre)).status ==
        404);  // not its county
  auto issued = c.request("POST", path, "", bearer(centre));
  REQUIRE(issued.status == 201);
  const std::string key = str_field(issued.body, "device_key");
  REQUIRE(key.size() == 64);
  CHECK(server.count("SELECT COUNT(*) FROM sensors WHERE device_key_hash = '" + key + "'") ==
        0);  // kept hashed
  const std::int64_t now = SystemClock().now_ms();
  auto sent = post_json(c, "/api/v1/telemetry", two_sensors("MQ-CS-01-T1", "MQ-CS-XQ-T1", now),
                        {{"X-Device-Key", key}});
  REQUIRE(sent.status == 200);
  CHECK(json_int(sent.body, "stored") == 1);
  CHECK(sent.body.find(R"("index":1,"code":"not_your_sensor")") != std::string::npos);
  CHECK(post_json(c, "/api/v1/telemetry", one_reading("MQ-CS-01-T1", now),
                  {{"X-Device-Key", std::string(64, 'a')}})
            .status == 401);
  auto rotated = c.request("POST", path, "", bearer(centre));
  REQUIRE(rotated.status == 201);
  CHECK(post_json(c, "/api/v1/telemetry", one_reading("MQ-CS-01-T1", now - 1000),
                  {{"X-Device-Key", key}})
            .status == 401);
  auto fresh = post_json(c, "/api/v1/telemetry", one_reading("MQ-CS-01-T1", now - 1000),
                         {{"X-Device-Key", str_field(rotated.body, "device_key")}});
  CHECK(json_int(fresh.body, "stored") == 1);
}

// ---- planning -----------------------------------------------------------------------------

STORE_TEST("only logistics staff may run the route planner", "[http][logistics][routing]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string body = R"({"origin_code":"MQ-VP-XQ01","destination_code":"LZ-HUB-01",)"
                           R"("temperature_class":"ambient"})";
  CHECK(post_json(c, "/api/v1/routes/plan", body).status == 401);
  CHECK(post_json(c, "/api/v1/routes/plan", body, bearer(server.login(kConsumer))).status == 403);
  CHECK(post_json(c, "/api/v1/routes/plan", body, bearer(server.login(kFarmer))).status == 403);
  for (const auto& who : {kStation, kCentre, std::string(kAdmin)})
    CHECK(post_json(c, "/api/v1/routes/plan", body, bearer(server.login(who))).status == 200);
}

STORE_TEST("a route plan at a temperature class outside the table is a 400 naming the field",
           "[http][logistics][routing][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string body =
      R"({"origin_code":"MQ-VP-XQ01","destination_code":"LZ-HUB-01","temperature_class":"warm"})";
  auto plan = post_json(c, "/api/v1/routes/plan", body, bearer(server.login(kCentre)));
  CHECK(plan.status == 400);
  CHECK(error_code(plan) == "invalid_temperature_class");
  CHECK(error_field(plan) == "temperature_class");
}

// ---- the network, in the centre's own county ---------------------------------------------

STORE_TEST("network changes are refused outside the centre's county, in order of precedence",
           "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre), admin = server.login(kAdmin),
                    consumer = server.login(kConsumer);
  const std::string station = server.login(kStation);
  const std::string trunk =
      R"("mode":"ambient_trunk","refrigerated":false,"duration_min":300,"cost_fen":5000)";
  struct Row {
    const char* what;
    const char* path;
    std::string token, body;
    int status;
    const char* code;
  };
  const std::vector<Row> rows{
      {"no session", "/api/v1/network/nodes", "", R"({})", 401, ""},
      {"a consumer", "/api/v1/network/nodes", consumer, R"({})", 403, "role_not_allowed"},
      {"a station operator", "/api/v1/network/links", station, R"({})", 403, "role_not_allowed"},
      {"a malformed body", "/api/v1/network/nodes", centre, R"({"code":)", 400, ""},
      {"a node in another county", "/api/v1/network/nodes", centre,
       R"({"code":"LZ-VP-01","kind":"village_point","name":"外县","region_code":"620102001001"})",
       403, "outside_your_area"},
      {"a link from an unknown node", "/api/v1/network/links", centre,
       R"({"from_code":"NOPE","to_code":"MQ-CS-01",)" + trunk + "}", 404, "unknown_node"},
      {"a link leaving another county", "/api/v1/network/links", centre,
       R"({"from_code":"LZ-HUB-01","to_code":"MQ-CC-01",)" + trunk + "}", 403, "outside_your_area"},
      {"a sensor in another county", "/api/v1/sensors", centre,
       R"({"sensor_code":"LZ-T9","node_code":"LZ-HUB-01"})", 403, "outside_your_area"},
      {"a node in its own county", "/api/v1/network/nodes", centre,
       R"({"code":"MQ-VP-XQ03","kind":"village_point","name":"新村","region_code":"620621104203"})",
       201, ""},
      {"a trunk from its county to a city hub", "/api/v1/network/links", centre,
       R"({"from_code":"MQ-CC-01","to_code":"LZ-HUB-01",)" + trunk + "}", 201, ""},
      {"a sensor in its own county", "/api/v1/sensors", centre,
       R"({"sensor_code":"MQ-CC-01-T1","node_code":"MQ-CC-01"})", 201, ""},
      {"admin, anywhere", "/api/v1/network/links", admin,
       R"({"from_code":"LZ-HUB-01","to_code":"MQ-CC-01",)" + trunk + "}", 201, ""},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    auto r = post_json(c, row.path, row.body, row.token.empty() ? Headers{} : bearer(row.token));
    CHECK(r.status == row.status);
    if (*row.code) CHECK(error_code(r) == row.code);
  }
  // A vehicle sensor stands where its link starts.
  const auto out_of_county = server.count("SELECT MAX(id) FROM network_links");
  auto vehicle =
      post_json(c, "/api/v1/sensors",
                R"({"sensor_code":"LZ-TRUCK","link_id":)" + std::to_string(out_of_county) + "}",
                bearer(centre));
  CHECK(error_code(vehicle) == "outside_your_area");
}

STORE_TEST("a node's position at the edge of int64 is a 400, not undefined behaviour",
           "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  for (const char* position :
       {R"("lat_e6":-9223372036854775808,"lon_e6":0)",
        R"("lat_e6":0,"lon_e6":-9223372036854775808)", R"("lat_e6":9223372036854775807,"lon_e6":0)",
        R"("lat_e6":90000001,"lon_e6":0)"}) {
    INFO(position);
    auto r = post_json(
        c, "/api/v1/network/nodes",
        R"({"code":"MQ-VP-X","kind":"village_point","name":"村","region_code":"620621104201",)" +
            std::string(position) + "}",
        bearer(centre));
    CHECK(r.status == 400);
    CHECK(error_field(r) == "lat_e6");
  }
  CHECK(server.count("SELECT COUNT(*) FROM network_nodes WHERE code = 'MQ-VP-X'") == 0);
}

// ---- shipments ------------------------------------------------------------------------------

STORE_TEST("an order with listings from two village points makes one shipment from each",
           "[http][logistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer);
  std::string second = kMelon;
  second.replace(second.find("620621104201"), 12, "620621104202");
  std::string items;
  for (const auto& listing : {kMelon, second}) {
    auto listed = post_json(c, "/api/v1/products", listing, bearer(farmer));
    REQUIRE(listed.status == 201);
    items += (items.empty() ? "" : ",") + std::string(R"({"product_id":)") +
             std::to_string(json_int(listed.body, "id")) + R"(,"quantity":1})";
  }
  auto ordered = post_json(c, "/api/v1/orders",
                           R"({"items":[)" + items +
                               R"(],"shipping_address":{"name":"张三明","phone":"13711112222",)"
                               R"("address":"兰州市城关区某路1号","region_code":"620102"}})",
                           bearer(consumer, {{"Idempotency-Key", "two-points"}}));
  REQUIRE(ordered.status == 201);
  auto doc = Json::parse(ordered.body);
  REQUIRE(doc->find("orders")->as_array().size() == 1);
  const auto order = doc->find("orders")->as_array().front().find("id")->as_integer();
  auto intent = start_payment(c, consumer, json_int(ordered.body, "checkout_id"), "pay-two-points");
  REQUIRE(intent.status == 201);
  REQUIRE(on_pay_page(str_field(intent.body, "pay_url")).status == 200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM shipments") == 2; }));
  auto shipments = c.request("GET", "/api/v1/orders/" + std::to_string(order) + "/shipments", "",
                             bearer(consumer));
  REQUIRE(shipments.status == 200);
  CHECK(shipments.body.find(R"("origin":"MQ-VP-XQ01")") != std::string::npos);
  CHECK(shipments.body.find(R"("origin":"MQ-VP-XQ02")") != std::string::npos);
}

// ---- what the published schemas describe ----------------------------------------------------

STORE_TEST("anyone sees every link of the network with its mode, cost and timetable",
           "[http][logistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto added = post_json(c, "/api/v1/network/links",
                         R"({"from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"van",)"
                         R"("refrigerated":false,"duration_min":50,"cost_fen":700,)"
                         R"("timetable":"Mon-Sat 09:00,15:30"})",
                         bearer(server.login(kCentre)));
  REQUIRE(added.status == 201);
  auto listed = c.request("GET", "/api/v1/network/links");
  REQUIRE(listed.status == 200);
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  const Json* link = nullptr;
  for (const auto& l : doc->find("links")->as_array())
    if (l.find("id")->as_integer() == json_int(added.body, "id")) link = &l;
  REQUIRE(link != nullptr);
  CHECK(link->find("from_code")->as_string() == "MQ-TS-SL");
  CHECK(link->find("to_code")->as_string() == "MQ-CS-01");
  CHECK(link->find("mode")->as_string() == "van");
  CHECK(link->find("duration_min")->as_integer() == 50);
  CHECK(link->find("cost_fen")->as_integer() == 700);
  CHECK(link->find("timetable")->as_string() == "Mon-Sat 09:00,15:30");
}

STORE_TEST("a sensor in a vehicle is registered on its link", "[http][logistics][telemetry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  auto van = post_json(c, "/api/v1/network/links",
                       R"({"from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"refrigerated_van",)"
                       R"("refrigerated":true,"duration_min":50,"cost_fen":900})",
                       bearer(centre));
  REQUIRE(van.status == 201);
  const std::string link = std::to_string(json_int(van.body, "id"));
  auto sensor = post_json(c, "/api/v1/sensors",
                          R"({"sensor_code":"MQ-VAN-T1","link_id":)" + link + "}", bearer(centre));
  REQUIRE(sensor.status == 201);
  CHECK(str_field(sensor.body, "sensor_code") == "MQ-VAN-T1");
  CHECK(std::to_string(json_int(sensor.body, "link_id")) == link);
  CHECK(sensor.body.find("node_code") == std::string::npos);
  CHECK(server.count("SELECT COUNT(*) FROM sensors WHERE sensor_code = 'MQ-VAN-T1' AND link_id = " +
                     link) == 1);
}

STORE_TEST("a name the network does not know is refused with the code of what it names",
           "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  const std::string number = "CH000000000000";  // the step is judged before the parcel is sought
  struct Row {
    const char* what;
    std::string path, body;
    const char* code;
  };
  const std::vector<Row> rows{
      {"a node kind", "/api/v1/network/nodes",
       R"({"code":"MQ-VP-X","kind":"warehouse","name":"村","region_code":"620621104201"})",
       "invalid_kind"},
      {"a link mode", "/api/v1/network/links",
       R"({"from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"airship","refrigerated":false,)"
       R"("duration_min":50,"cost_fen":700})",
       "invalid_mode"},
      {"a temperature class", "/api/v1/routes/plan",
       R"({"origin_code":"MQ-VP-XQ01","destination_code":"LZ-HUB-01","temperature_class":"warm"})",
       "invalid_temperature_class"},
      {"a business step", "/api/v1/shipments/" + number + "/scans",
       R"({"node_code":"MQ-VP-XQ01","biz_step":"flying","disposition":"in_transit"})",
       "invalid_biz_step"},
      {"a disposition", "/api/v1/shipments/" + number + "/scans",
       R"({"node_code":"MQ-VP-XQ01","biz_step":"departing","disposition":"lost"})",
       "invalid_disposition"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    auto r = post_json(c, row.path, row.body, bearer(centre));
    CHECK(r.status == 400);
    CHECK(error_code(r) == row.code);
  }
}
