#include "tests/support/flows.hpp"

#include <thread>

#include "core/json.hpp"

namespace cunhuo::test {

const std::string kMelon =
    R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":3980,"stock":5,)"
    R"("temperature_class":"chilled","shelf_life_days":20,"harvest_date":"2026-08-20",)"
    R"("origin_code":"620621104201","origin_name":"甘肃民勤","producers":[{"household_id":1,)"
    R"("share_bps":10000}]})";
const std::string kFarmer = "13900000001", kOtherFarmer = "13900000009", kConsumer = "13900000003",
                  kCentre = "13900000006", kOffice = "13900000007", kStation = "13900000005";

std::string str_field(const std::string& body, const char* key) {
  auto doc = Json::parse(body);
  REQUIRE(doc.ok());
  const Json* v = doc->find(key);
  REQUIRE(v != nullptr);
  return v->as_string();
}

std::int64_t list_for_sale(TestServer& server, HttpClient& c, const std::string& listing,
                           const std::string& lister) {
  auto listed = post_json(c, "/api/v1/products", listing, bearer(server.login(lister)));
  REQUIRE(listed.status == 201);
  return json_int(listed.body, "id");
}

std::string order_request_body(std::int64_t product, int quantity) {
  return R"({"items":[{"product_id":)" + std::to_string(product) + R"(,"quantity":)" +
         std::to_string(quantity) +
         R"(}],"shipping_address":{"name":"张三明","phone":"13711112222",)"
         R"("address":"兰州市城关区某路1号","region_code":"620102"}})";
}

Bought buy(TestServer& server, HttpClient& c, const std::string& consumer, int quantity,
           const std::string& listing, const std::string& lister) {
  const std::int64_t product = list_for_sale(server, c, listing, lister);
  auto ordered =
      post_json(c, "/api/v1/orders", order_request_body(product, quantity),
                bearer(consumer, {{"Idempotency-Key", "order-" + std::to_string(product)}}));
  REQUIRE(ordered.status == 201);
  auto doc = Json::parse(ordered.body);
  return Bought{json_int(ordered.body, "checkout_id"),
                doc->find("orders")->as_array().front().find("id")->as_integer()};
}

HttpReply start_payment(HttpClient& c, const std::string& consumer, std::int64_t checkout,
                        const std::string& key) {
  return c.request("POST", "/api/v1/checkouts/" + std::to_string(checkout) + "/payments", "",
                   bearer(consumer, {{"Idempotency-Key", key}}));
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

std::string order_status(HttpClient& c, const std::string& token, std::int64_t order) {
  auto r = c.request("GET", "/api/v1/orders/" + std::to_string(order), "", bearer(token));
  return r.status == 200 ? str_field(r.body, "status") : "";
}

std::vector<std::string> tracking_numbers(HttpClient& c, const std::string& token,
                                          std::int64_t order) {
  std::vector<std::string> numbers;
  eventually([&] {
    auto r = c.request("GET", "/api/v1/orders/" + std::to_string(order) + "/shipments", "",
                       bearer(token));
    auto doc = Json::parse(r.body);
    if (r.status != 200 || !doc.ok() || doc->find("shipments")->as_array().empty()) return false;
    for (const auto& s : doc->find("shipments")->as_array())
      numbers.push_back(s.find("tracking_number")->as_string());
    return true;
  });
  return numbers;
}

HttpReply scan_parcel(HttpClient& c, const std::string& token, const std::string& number,
                      const std::string& node, const char* step, const char* disposition) {
  return post_json(c, "/api/v1/shipments/" + number + "/scans",
                   R"({"node_code":")" + node + R"(","biz_step":")" + step +
                       R"(","disposition":")" + disposition + R"("})",
                   bearer(token));
}

std::string sensor_readings(const std::string& sensor, std::int64_t from_ms, int count,
                            int step_min, int centi) {
  std::string body = R"({"readings":[)";
  for (int i = 0; i < count; ++i)
    body += (i ? "," : "") + std::string(R"({"sensor":")") + sensor + R"(","at_ms":)" +
            std::to_string(from_ms + i * step_min * 60'000LL) + R"(,"centi":)" +
            std::to_string(centi) + "}";
  return body + "]}";
}

void deliver_by_scans(TestServer& server, HttpClient& c, std::int64_t order) {
  const std::string centre = server.login(kCentre), admin = server.login("13900000008");
  REQUIRE(!tracking_numbers(c, centre, order).empty());  // the outbox has made them
  auto shipments = c.request("GET", "/api/v1/orders/" + std::to_string(order) + "/shipments", "",
                             bearer(centre));
  auto doc = Json::parse(shipments.body);
  REQUIRE(doc.ok());
  for (const auto& s : doc->find("shipments")->as_array()) {
    const std::string number = s.find("tracking_number")->as_string();
    REQUIRE(scan_parcel(c, centre, number, s.find("origin")->as_string(), "departing").status ==
            201);
    REQUIRE(
        scan_parcel(c, admin, number, s.find("destination")->as_string(), "delivering", "delivered")
            .status == 201);
  }
  REQUIRE(eventually([&] { return order_status(c, centre, order) == "delivered"; }));
}

Bought buy_and_pay(TestServer& server, HttpClient& c, const std::string& consumer,
                   const std::string& listing, const std::string& lister) {
  const Bought b = buy(server, c, consumer, 2, listing, lister);
  auto intent = start_payment(c, consumer, b.checkout, "pay-" + std::to_string(b.checkout));
  REQUIRE(intent.status == 201);
  auto confirmed = on_pay_page(str_field(intent.body, "pay_url"));
  REQUIRE(confirmed.status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "paid"; }));
  return b;
}

void certify(TestServer& server, HttpClient& c, std::int64_t product, const std::string& number) {
  const std::string apply = "/api/v1/products/" + std::to_string(product) + "/certification";
  auto applied =
      post_json(c, apply, R"({"benefit_mechanism":"收益归农户"})", bearer(server.login(kFarmer)));
  REQUIRE(applied.status == 201);
  const std::string at = "/api/v1/certifications/" + std::to_string(json_int(applied.body, "id"));
  REQUIRE(post_json(c, at + "/review", R"({"approve":true,"note":"核实"})",
                    bearer(server.login("13900000010")))
              .status == 200);
  const std::string approval =
      R"({"certificate_no":")" + number + R"(","issuing_office":"民勤县乡村振兴局"})";
  REQUIRE(post_json(c, at + "/approve", approval, bearer(server.login(kOffice))).status == 200);
}

}  // namespace cunhuo::test
