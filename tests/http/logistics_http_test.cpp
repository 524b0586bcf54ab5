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
    auto r = c.request("GET", "/api/v1/orders/" + std::to_string(order) + "/shipments", "", bearer(token));
    auto doc = Json::parse(r.body);
    if (r.status != 200 || !doc.ok() || doc->find("shipments")->as_array().empty()) return false;
    number = doc->find("shipments")->as_array().front().find("tracking_number")->as_string();
    return true;
  });
  return number;
}

HttpReply scan(HttpClient& c, const std::string& token, const std::string& number, const std::string& node, const char* step,
               const char* disposition = "in_transit") {
  return post_json(c, "/api/v1/shipments/" + number + "/scans",
                   R"({"node_code":")" + node + R"(","biz_step":")" + step + R"(","disposition":")" + disposition + R"("})", bearer(token));
}

std::string readings(const std::string& sensor, std::int64_t from_ms, int count, int step_min, int centi) {
  std::string body = R"({"readings":[)";
  for (int i = 0; i < count; ++i)
    body += (i ? "," : "") + std::string(R"({"sensor":")") + sensor + R"(","at_ms":)" + std::to_string(from_ms + i * step_min * 60'000LL) +
            R"(,"centi":)" + std::to_string(centi) + "}";
  return body + "]}";
}

}  // namespace

STORE_TEST("a chilled order is followed hop by hop; a warm cold store holds it and it is refunded", "[http][logistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre), station = server.login(kStation);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_of(c, consumer, b.order);
  REQUIRE(number.size() == 14);
  // Anyone with the number sees the route and no personal data.
  auto tracked = c.request("GET", "/api/v1/tracking/" + number);
  REQUIRE(tracked.status == 200);
  CHECK(tracked.body.find("MQ-CS-XQ") != std::string::npos);  // chilled: by the township's cold store
  CHECK(tracked.body.find("张三明") == std::string::npos);
  CHECK(tracked.body.find("13711112222") == std::string::npos);
  CHECK(tracked.body.find("order_id") == std::string::npos);
  CHECK(c.request("GET", "/api/v1/tracking/CH000000000000").status == 404);

  CHECK(scan(c, station, number, "MQ-VP-XQ01", "departing").status == 403);  // not the operator's station
  REQUIRE(scan(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "shipped"; }));
  CHECK(scan(c, centre, number, "MQ-TS-SL", "arriving").status == 422);  // not on the route
  CHECK(scan(c, station, number, "MQ-TS-XQ", "flying", "in_transit").status == 400);
  REQUIRE(scan(c, station, number, "MQ-TS-XQ", "arriving").status == 201);
  REQUIRE(scan(c, centre, number, "MQ-CS-XQ", "storing", "in_progress").status == 201);

  // The cold store warms to 12 °C for 40 minutes: longer than chilled goods may bear.
  const std::int64_t now = SystemClock().now_ms();
  auto warm = post_json(c, "/api/v1/telemetry", readings("MQ-CS-XQ-T1", now - 45 * 60'000, 1, 1, 300), bearer(centre));
  REQUIRE(warm.status == 200);
  warm = post_json(c, "/api/v1/telemetry", readings("MQ-CS-XQ-T1", now - 40 * 60'000, 9, 5, 1200), bearer(centre));
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
  REQUIRE(post_json(c, "/api/v1/excursions/" + std::to_string(excursion) + "/decision", R"({"spoiled":true})", bearer(centre)).status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "refunded"; }));
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM sim_refunds") == 1; }));
  CHECK(server.count("SELECT amount_fen FROM sim_refunds") == 7960);
  // The carrier bears it: the household is paid as if the melons were sold.
  CHECK(server.count("SELECT COUNT(*) FROM settlement_lines WHERE household_id = 1") == 1);
  CHECK(post_json(c, "/api/v1/excursions/" + std::to_string(excursion) + "/decision", R"({"spoiled":false})", bearer(centre)).status == 409);
}

STORE_TEST("the centre extends the network; links that make no sense are refused", "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  auto link = [&](const std::string& fields) { return post_json(c, "/api/v1/network/links", "{" + fields + "}", bearer(centre)); };
  const std::string ok = R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"van","refrigerated":false,"duration_min":50,"cost_fen":700)";
  CHECK(link(ok + R"(,"timetable":"Mon-Sat 09:00,15:30")").status == 201);
  CHECK(error_field(link(R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"van","refrigerated":false,"duration_min":-5,"cost_fen":700)")) == "duration_min");
  CHECK(link(R"("from_code":"NOPE","to_code":"MQ-CS-01","mode":"van","refrigerated":false,"duration_min":5,"cost_fen":700)").status == 404);
  CHECK(error_field(link(ok + R"(,"timetable":"every day at 9")")) == "timetable");
  CHECK(error_field(link(R"("from_code":"MQ-TS-SL","to_code":"MQ-CS-01","mode":"tricycle","refrigerated":true,"duration_min":5,"cost_fen":7)")) == "refrigerated");
  CHECK(link(R"("from_code":"MQ-TS-SL","to_code":"MQ-TS-SL","mode":"van","refrigerated":false,"duration_min":5,"cost_fen":7)").status == 400);
  CHECK(post_json(c, "/api/v1/network/links", "{" + ok + "}", bearer(server.login(kConsumer))).status == 403);
  CHECK(post_json(c, "/api/v1/network/nodes", R"({"code":"MQ-CS-02","kind":"cold_store","name":"新冷库","region_code":"620621","cold_capacity_crates":0})",
                  bearer(centre)).status == 400);
  auto plan = post_json(c, "/api/v1/routes/plan", R"({"origin_code":"MQ-VP-XQ01","destination_code":"LZ-HUB-01","temperature_class":"chilled","shelf_life_hours":240})",
                        bearer(centre));
  REQUIRE(plan.status == 200);
  CHECK(plan.body.find("MQ-CS-XQ") != std::string::npos);
  auto frozen = post_json(c, "/api/v1/routes/plan", R"({"origin_code":"MQ-VP-SL02","destination_code":"LZ-HUB-01","temperature_class":"frozen"})",
                          bearer(centre));
  CHECK(frozen.status == 422);
  CHECK(error_field(frozen) == "unrefrigerated_budget");
  CHECK(post_json(c, "/api/v1/routes/plan", R"({"origin_code":"MQ-VP-XQ01","destination_code":"NOWHERE","temperature_class":"chilled"})",
                  bearer(centre)).status == 404);
}

STORE_TEST("telemetry with bad JSON, absurd values or too many bytes is refused; unknown sensors and repeats are counted", "[http][logistics][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  const std::int64_t now = SystemClock().now_ms();
  CHECK(post_json(c, "/api/v1/telemetry", R"({"readings":[{"sensor":"MQ-CS-01-T1","at_ms":)", bearer(centre)).status == 400);
  auto absurd = post_json(c, "/api/v1/telemetry", readings("MQ-CS-01-T1", now, 3, 1, 99999), bearer(centre));
  CHECK(absurd.status == 400);
  CHECK(error_field(absurd) == "readings[0].centi");
  CHECK(error_field(post_json(c, "/api/v1/telemetry", R"({"readings":[{"sensor":"MQ-CS-01-T1","at_ms":"soon","centi":1}]})", bearer(centre))) ==
        "readings[0].at_ms");
  CHECK(server.count("SELECT COUNT(*) FROM readings") == 0);
  auto first = post_json(c, "/api/v1/telemetry", readings("MQ-CS-01-T1", now - 600'000, 5, 1, 250), bearer(centre));
  REQUIRE(first.status == 200);
  CHECK(json_int(first.body, "stored") == 5);
  auto again = post_json(c, "/api/v1/telemetry", readings("MQ-CS-01-T1", now - 600'000, 5, 1, 250), bearer(centre));
  CHECK(json_int(again.body, "duplicates") == 5);
  auto late = post_json(c, "/api/v1/telemetry", readings("MQ-CS-01-T1", now - 900'000, 2, 1, 250), bearer(centre));
  CHECK(json_int(late.body, "late") == 2);
  auto stranger = post_json(c, "/api/v1/telemetry", readings("NO-SUCH-SENSOR", now, 2, 1, 250), bearer(centre));
  CHECK(json_int(stranger.body, "unknown_sensor") == 2);
  CHECK(post_json(c, "/api/v1/telemetry", readings("MQ-CS-01-T1", now, 1, 1, 250), bearer(server.login(kConsumer))).status == 403);
  HttpClient big(server.port());
  big.send_raw("POST /api/v1/telemetry HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " + centre +
               "\r\nContent-Length: 104857600\r\n\r\n");
  CHECK(big.read_reply().status == 413);
  CHECK(server.count("SELECT COUNT(*) FROM readings") == 7);
}

STORE_TEST("a station plans the day's pickup runs and sees them against the nearest-neighbour baseline", "[http][logistics][pickup]") {
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
  const std::string body = R"({"date":")" + format_date(shanghai_date(SystemClock().now_ms())) + R"("})";
  auto plan = post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs", body, bearer(station));
  REQUIRE(plan.status == 201);
  CHECK(json_int(plan.body, "parcels") == 2);
  CHECK(plan.body.find("MQ-VP-XQ01") != std::string::npos);
  CHECK(plan.body.find("MQ-VP-XQ02") != std::string::npos);
  auto doc = Json::parse(plan.body);
  CHECK(doc->find("total_km")->as_number() <= doc->find("baseline_km")->as_number());
  CHECK(doc->find("total_km")->as_number() > 0);
  CHECK(post_json(c, "/api/v1/stations/MQ-TS-SL/pickup-runs", body, bearer(station)).status == 404);  // not their station
  CHECK(post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs", R"({"date":"2026-02-30"})", bearer(station)).status == 400);
}
