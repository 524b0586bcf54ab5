// The marketplace over real TCP, as its users meet it.
#include "core/json.hpp"
#include "tests/support/sample_png.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kMelon =
    R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":3980,"stock":5,)"
    R"("temperature_class":"chilled","shelf_life_days":20,"harvest_date":"2026-08-20",)"
    R"("origin_code":"620621104201","origin_name":"甘肃民勤","producers":[{"household_id":1,)"
    R"("share_bps":10000}]})";

std::string order_body(std::int64_t product, int quantity) {
  return R"({"items":[{"product_id":)" + std::to_string(product) + R"(,"quantity":)" +
         std::to_string(quantity) +
         R"(}],"shipping_address":{"name":"张三明","phone":"13711112222","address":"兰州市城关区某路1号",)"
         R"("region_code":"620102"}})";
}

}  // namespace

STORE_TEST("a farmer lists, a consumer finds it by a partial word and orders it",
           "[http][marketplace]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  REQUIRE(listed.status == 201);
  const auto product = json_int(listed.body, "id");
  auto found = c.request("GET", "/api/v1/products?q=%E8%9C%9C%E7%93%9C");  // 蜜瓜
  CHECK(found.status == 200);
  CHECK(found.body.find("民勤沙漠蜜瓜") != std::string::npos);
  const std::string consumer = server.login("13900000003");
  auto ordered = post_json(c, "/api/v1/orders", order_body(product, 2),
                           bearer(consumer, {{"Idempotency-Key", "order-1"}}));
  REQUIRE(ordered.status == 201);
  CHECK(ordered.body.find("\"status\":\"pending_payment\"") != std::string::npos);
  CHECK(server.count("SELECT stock FROM products") == 3);
}

STORE_TEST("another farmer cannot see or edit a listing that is not theirs",
           "[http][marketplace][access]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  REQUIRE(listed.status == 201);
  const std::string path = "/api/v1/products/" + std::to_string(json_int(listed.body, "id"));
  const std::string other = server.login("13900000009");
  auto patched = c.request("PATCH", path, R"({"price_fen":1})",
                           bearer(other, {{"Content-Type", "application/json"}}));
  CHECK(patched.status == 404);
  CHECK(server.count("SELECT price_fen FROM products") == 3980);
  // Listing into another household's shop is refused the same way.
  auto into_other =
      post_json(c, "/api/v1/products", kMelon.substr(0, kMelon.size() - 1) + R"(,"shop_id":1})",
                bearer(other));
  CHECK(into_other.status == 404);
  auto as_consumer = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000003")));
  CHECK(as_consumer.status == 403);
  CHECK(server.count("SELECT COUNT(*) FROM products") == 1);
}

STORE_TEST("a retried order with the same key returns the same order and takes stock once",
           "[http][marketplace][idempotency]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  const auto product = json_int(listed.body, "id");
  const std::string consumer = server.login("13900000003");
  auto first = post_json(c, "/api/v1/orders", order_body(product, 1),
                         bearer(consumer, {{"Idempotency-Key", "abc-1"}}));
  auto again = post_json(c, "/api/v1/orders", order_body(product, 1),
                         bearer(consumer, {{"Idempotency-Key", "abc-1"}}));
  REQUIRE(first.status == 201);
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 1);
  CHECK(server.count("SELECT stock FROM products") == 4);
  auto changed = post_json(c, "/api/v1/orders", order_body(product, 2),
                           bearer(consumer, {{"Idempotency-Key", "abc-1"}}));
  CHECK(changed.status == 422);
  auto keyless = post_json(c, "/api/v1/orders", order_body(product, 1), bearer(consumer));
  CHECK(keyless.status == 400);
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 1);
}

STORE_TEST("bad orders are refused with the field named and write nothing",
           "[http][marketplace][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  const auto product = json_int(listed.body, "id");
  const std::string consumer = server.login("13900000003");
  int n = 0;
  auto order = [&](const std::string& body) {
    return post_json(c, "/api/v1/orders", body,
                     bearer(consumer, {{"Idempotency-Key", "k" + std::to_string(++n)}}));
  };
  auto negative = order(order_body(product, -1));
  CHECK(negative.status == 400);
  CHECK(error_field(negative) == "items[0].quantity");
  auto unknown = order(order_body(99999, 1));
  CHECK(unknown.status == 404);
  CHECK(error_field(unknown) == "items[0].product_id");
  auto too_many = order(order_body(product, 6));
  CHECK(too_many.status == 409);
  CHECK(error_field(too_many) == "items[0].quantity");
  auto no_campaign = order(order_body(product, 1).substr(0, order_body(product, 1).size() - 1) +
                           R"(,"campaign_id":777})");
  CHECK(no_campaign.status == 404);
  CHECK(error_field(no_campaign) == "campaign_id");
  auto wrong_type = order(R"({"items":[{"product_id":"one","quantity":1}],"shipping_address":{}})");
  CHECK(wrong_type.status == 400);
  CHECK(error_field(wrong_type) == "items[0].product_id");
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
  CHECK(server.count("SELECT stock FROM products") == 5);
}

STORE_TEST("bad listings are refused with the field named and write nothing",
           "[http][marketplace][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string body = kMelon;
    body.replace(body.find(from), from.size(), to);
    return post_json(c, "/api/v1/products", body, bearer(farmer));
  };
  CHECK(error_field(with("\"price_fen\":3980", "\"price_fen\":-5")) == "price_fen");
  CHECK(error_field(with("\"share_bps\":10000", "\"share_bps\":9999")) == "producers");
  CHECK(error_field(with("\"unit\":\"box\"", "\"unit\":\"barrel\"")) == "unit");
  CHECK(error_field(with("\"temperature_class\":\"chilled\"", "\"temperature_class\":\"warm\"")) ==
        "temperature_class");
  CHECK(error_field(with("\"harvest_date\":\"2026-08-20\"", "\"harvest_date\":\"20/08/2026\"")) ==
        "harvest_date");
  CHECK(error_field(with("\"household_id\":1", "\"household_id\":2")) ==
        "producers[0].household_id");
  CHECK(server.count("SELECT COUNT(*) FROM products") == 0);
}

STORE_TEST("an order is seen by its buyer and its shop, masked for the shop, and by nobody else",
           "[http][marketplace][access]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  const std::string consumer = server.login("13900000003");
  auto ordered = post_json(c, "/api/v1/orders", order_body(json_int(listed.body, "id"), 1),
                           bearer(consumer, {{"Idempotency-Key", "x"}}));
  REQUIRE(ordered.status == 201);
  const std::string path =
      "/api/v1/orders/" + std::to_string(server.count("SELECT MAX(id) FROM orders"));
  auto by_buyer = c.request("GET", path, "", bearer(consumer));
  CHECK(by_buyer.status == 200);
  CHECK(by_buyer.body.find("13711112222") != std::string::npos);
  auto by_shop = c.request("GET", path, "", bearer(farmer));
  CHECK(by_shop.status == 200);
  CHECK(by_shop.body.find("13711112222") == std::string::npos);
  CHECK(by_shop.body.find("137****2222") != std::string::npos);
  CHECK(c.request("GET", path, "", bearer(server.login("13900000004"))).status == 404);
  CHECK(c.request("GET", path, "", bearer(server.login("13900000009"))).status == 404);
  CHECK(c.request("GET", path).status == 401);
}

STORE_TEST("a buyer reads back a checkout with its orders, and nobody else can",
           "[http][marketplace][access]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  const std::string consumer = server.login("13900000003");
  auto ordered = post_json(c, "/api/v1/orders", order_body(json_int(listed.body, "id"), 2),
                           bearer(consumer, {{"Idempotency-Key", "read-back"}}));
  REQUIRE(ordered.status == 201);
  const auto checkout = json_int(ordered.body, "checkout_id");
  const std::string path = "/api/v1/checkouts/" + std::to_string(checkout);
  auto read = c.request("GET", path, "", bearer(consumer));
  REQUIRE(read.status == 200);
  CHECK(json_int(read.body, "total_fen") == 2 * 3980);
  CHECK(read.body.find("\"status\":\"pending_payment\"") != std::string::npos);
  CHECK(read.body.find("13711112222") != std::string::npos);  // the buyer's own address, whole
  CHECK(c.request("GET", path, "", bearer(server.login("13900000004"))).status == 404);
}

STORE_TEST("a buyer cancels an unpaid order and the stock comes back; a second cancel is a 409",
           "[http][marketplace]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  const std::string consumer = server.login("13900000003");
  REQUIRE(post_json(c, "/api/v1/orders", order_body(json_int(listed.body, "id"), 2),
                    bearer(consumer, {{"Idempotency-Key", "x"}}))
              .status == 201);
  const std::string path =
      "/api/v1/orders/" + std::to_string(server.count("SELECT MAX(id) FROM orders")) + "/cancel";
  CHECK(c.request("POST", path, "", bearer(consumer)).status == 200);
  CHECK(server.count("SELECT stock FROM products") == 5);
  CHECK(c.request("POST", path, "", bearer(consumer)).status == 409);
}

STORE_TEST("a listing is certified by township review then county approval, and can be revoked",
           "[http][certification]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  const std::string product = std::to_string(json_int(listed.body, "id"));
  auto applied = post_json(c, "/api/v1/products/" + product + "/certification",
                           R"({"benefit_mechanism":"收益全部归王建国户，合作社按保护价收购"})",
                           bearer(farmer));
  REQUIRE(applied.status == 201);
  const std::string cert = "/api/v1/certifications/" + std::to_string(json_int(applied.body, "id"));
  const std::string township = server.login("13900000010"), county = server.login("13900000007");
  auto early = post_json(c, cert + "/approve",
                         R"({"certificate_no":"MQ-2026-001","issuing_office":"民勤县乡村振兴局"})",
                         bearer(county));
  CHECK(early.status == 409);  // the county cannot approve before the township has reviewed
  CHECK(post_json(c, cert + "/review", R"({"approve":true,"note":"ok"})", bearer(county)).status ==
        403);
  CHECK(
      post_json(c, cert + "/review", R"({"approve":true,"note":"产地核实无误"})", bearer(township))
          .status == 200);
  auto approved = post_json(
      c, cert + "/approve",
      R"({"certificate_no":"MQ-2026-001","issuing_office":"民勤县乡村振兴局"})", bearer(county));
  CHECK(approved.status == 200);
  auto shown = c.request("GET", "/api/v1/products/" + product);
  CHECK(shown.body.find("\"certificate_no\":\"MQ-2026-001\"") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/products?certified=true").body.find("MQ-2026-001") !=
        std::string::npos);
  CHECK(post_json(c, cert + "/revoke", R"({"reason":"抽检不合格"})", bearer(county)).status == 200);
  CHECK(c.request("GET", "/api/v1/products?certified=true").body.find("\"items\":[]") !=
        std::string::npos);
  CHECK(post_json(c, cert + "/revoke", R"({"reason":"again"})", bearer(county)).status == 409);
}

STORE_TEST("produce from a county that is not a registered poor county cannot be certified",
           "[http][certification][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("DELETE FROM poor_counties"));  // Minqin, as if it had left the list
                return {};
              })
              .ok());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed.status == 201);
  auto applied = post_json(
      c, "/api/v1/products/" + std::to_string(json_int(listed.body, "id")) + "/certification",
      R"({"benefit_mechanism":"x"})", bearer(farmer));
  CHECK(applied.status == 422);
  CHECK(error_field(applied) == "origin_code");
  CHECK(server.count("SELECT COUNT(*) FROM certifications") == 0);
}

TEST_CASE("a farmer adds a photo and gets a thumbnail; a fake or huge picture is refused",
          "[http][photos]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  const std::string photos =
      "/api/v1/products/" + std::to_string(json_int(listed.body, "id")) + "/photos";
  auto uploaded =
      c.request("POST", photos, sample_png(), bearer(farmer, {{"Content-Type", "image/png"}}));
  REQUIRE(uploaded.status == 201);
  CHECK(json_int(uploaded.body, "width") == 64);
  auto thumb = c.request(
      "GET", "/api/v1/photos/" + std::to_string(json_int(uploaded.body, "id")) + "/thumbnail");
  CHECK(thumb.status == 200);
  CHECK(thumb.header("content-type") == std::optional<std::string>("image/jpeg"));
  CHECK(thumb.body.substr(0, 3) == "\xFF\xD8\xFF");  // re-encoded as JPEG
  auto fake = c.request("POST", photos, "GIF89a this is not what it claims",
                        bearer(farmer, {{"Content-Type", "image/jpeg"}}));
  CHECK(fake.status == 415);
  std::string broken = sample_png();
  broken.replace(60, 40, std::string(40, 'x'));
  CHECK(c.request("POST", photos, broken, bearer(farmer, {{"Content-Type", "image/png"}})).status ==
        415);
  std::string bomb = sample_png();
  bomb[16] = '\x7f';  // declares a width of over two billion pixels
  CHECK(c.request("POST", photos, bomb, bearer(farmer, {{"Content-Type", "image/png"}})).status ==
        400);
  auto other = c.request("POST", photos, sample_png(),
                         bearer(server.login("13900000009"), {{"Content-Type", "image/png"}}));
  CHECK(other.status == 404);
  CHECK(server.count("SELECT COUNT(*) FROM product_photos") == 1);
  CHECK(c.request("GET", "/api/v1/products/" + std::to_string(json_int(listed.body, "id")))
            .body.find("thumbnail_url") != std::string::npos);
}

TEST_CASE("a 50 MB upload is refused by size before it is read", "[http][photos][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  c.send_raw("POST /api/v1/products/1/photos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
             farmer + "\r\nContent-Type: image/jpeg\r\nContent-Length: 52428800\r\n\r\n");
  auto reply = c.read_reply();
  CHECK(reply.status == 413);
  CHECK(server.count("SELECT COUNT(*) FROM product_photos") == 0);
}

STORE_TEST(
    "an organisation buys against its budget and sees how far it is from its certified share",
    "[http][organisations]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  const auto product =
      json_int(post_json(c, "/api/v1/products", kMelon, bearer(farmer)).body, "id");
  const std::string buyer = server.login("13900000004");  // buys for the seeded public unit
  const auto org = server.count("SELECT organisation_id FROM organisation_buyers");
  const std::string report_path = "/api/v1/organisations/" + std::to_string(org);
  auto ordered = post_json(c, "/api/v1/orders", order_body(product, 2),
                           bearer(buyer, {{"Idempotency-Key", "bulk-1"}}));
  REQUIRE(ordered.status == 201);
  auto report = c.request("GET", report_path, "", bearer(buyer));
  REQUIRE(report.status == 200);
  CHECK(json_int(report.body, "spent_fen") == 2 * 3980);
  CHECK(json_int(report.body, "certified_spent_fen") == 0);
  CHECK(json_int(report.body, "required_share_bps") == 3000);
  // 30% certified needs x with x / (7960 + x) >= 0.3: x = 3412 fen (rounded up).
  CHECK(json_int(report.body, "certified_needed_fen") == 3412);
  // Over the remaining budget: refused, nothing taken.
  REQUIRE(server.store()
              .db()
              .write([](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("UPDATE organisations SET budget_fen = spent_fen + 1000"));
                return {};
              })
              .ok());
  auto over = post_json(c, "/api/v1/orders", order_body(product, 1),
                        bearer(buyer, {{"Idempotency-Key", "bulk-2"}}));
  CHECK(over.status == 409);
  CHECK(over.body.find("over_budget") != std::string::npos);
  CHECK(server.count("SELECT stock FROM products") == 3);
  // Cancelling gives the budget back.
  const std::string cancel =
      "/api/v1/orders/" + std::to_string(server.count("SELECT MAX(id) FROM orders")) + "/cancel";
  CHECK(c.request("POST", cancel, "", bearer(buyer)).status == 200);
  CHECK(json_int(c.request("GET", report_path, "", bearer(buyer)).body, "spent_fen") == 0);
  CHECK(c.request("GET", report_path, "", bearer(server.login("13900000003"))).status == 404);
}

STORE_TEST("a pipelined request after an order is answered after the order, in order",
           "[http][marketplace][keepalive]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login("13900000001")));
  const std::string consumer = server.login("13900000003");
  const std::string body = order_body(json_int(listed.body, "id"), 1);
  c.send_raw(
      "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: "
      "Bearer " +
      consumer + "\r\nIdempotency-Key: piped\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body + "GET /api/v1/orders/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      consumer + "\r\n\r\n");
  auto first = c.read_reply();
  auto second = c.read_reply();
  CHECK(first.status == 201);
  CHECK(second.status == 200);  // the order it asks for exists: it was answered after the first
  CHECK(second.body.find("pending_payment") != std::string::npos);
}

STORE_TEST("a county centre registers an organisation paired with its own villages",
           "[http][organisations]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string centre = server.login("13900000006");
  const auto buyer = server.count("SELECT id FROM accounts WHERE phone = '13900000003'");
  auto created = post_json(c, "/api/v1/organisations",
                           R"({"name":"兰州某中学","kind":"public_unit","region_code":"620102",)"
                           R"("budget_fen":500000,"required_share_bps":3000,)"
                           R"("paired_villages":["620621104201"],"buyer_account_ids":[)" +
                               std::to_string(buyer) + "]}",
                           bearer(centre));
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/organisations/" + std::to_string(json_int(created.body, "id"));
  auto report = c.request("GET", path, "", bearer(centre));
  REQUIRE(report.status == 200);
  CHECK(json_int(report.body, "budget_fen") == 500000);
  CHECK(json_int(report.body, "remaining_fen") == 500000);
  CHECK(report.body.find("\"paired_villages\":[\"620621104201\"]") != std::string::npos);
  const std::string its_buyer = server.login("13900000003");
  CHECK(c.request("GET", path, "", bearer(its_buyer)).status == 200);
}
