// A village's story and photo: the county centre or poverty office of its area writes them
// through the API, and buyers meet them on the village's page and on its products' pages.
#include <catch2/catch.hpp>

#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kVillage = "620621104201";  // 西渠镇's village of the melon shops
const std::string kOtherVillage = "620621101201";
const std::string kTownshipOffice = "13900000010";  // 西渠镇 (620621104)'s office
const std::string kStory = "民勤县西渠镇的沙漠村庄，昼夜温差大，种出的蜜瓜格外甜。";

struct Listed {
  std::int64_t product = 0, photo = 0;
};

// The melon listed by the farmer of kVillage, with a photo.
Listed melon_with_photo(TestServer& server, HttpClient& c) {
  const std::string farmer = server.login(kFarmer);
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed.status == 201);
  const auto product = json_int(listed.body, "id");
  auto photo = c.request("POST", "/api/v1/products/" + std::to_string(product) + "/photos",
                         camera_jpeg(800, 600), bearer(farmer, {{"Content-Type", "image/jpeg"}}));
  REQUIRE(photo.status == 201);
  return {.product = product, .photo = json_int(photo.body, "id")};
}

HttpReply tell(HttpClient& c, const std::string& village, const std::string& body,
               const Headers& headers) {
  return c.request("PUT", "/api/v1/villages/" + village + "/profile", body, [&] {
    Headers h = headers;
    h.emplace_back("Content-Type", "application/json");
    return h;
  }());
}

std::string profile_body(std::int64_t photo) {
  return R"({"story":")" + kStory + R"(","photo_id":)" + std::to_string(photo) + "}";
}

}  // namespace

STORE_TEST("the county centre tells a village's story and buyers see it with its photo",
           "[pages][villages]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto melon = melon_with_photo(server, c);
  auto told = tell(c, kVillage, profile_body(melon.photo), bearer(server.login(kCentre)));
  REQUIRE(told.status == 200);
  auto api = c.request("GET", "/api/v1/villages/" + kVillage);
  CHECK(str_field(api.body, "story") == kStory);
  CHECK(json_int(api.body, "photo_id") == melon.photo);
  Browser b(server);
  auto village = b.get("/village/" + kVillage);
  REQUIRE(village.status == 200);
  CHECK(has(village.body, kStory));
  CHECK(has(village.body, "/api/v1/photos/" + std::to_string(melon.photo) + "/thumbnail"));
  auto product = b.get("/p/" + std::to_string(melon.product));
  CHECK(has(product.body, "昼夜温差大"));
  CHECK(has(product.body, "href=\"/village/" + kVillage + "\""));
}

STORE_TEST("a story told again replaces the one before", "[pages][villages]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto melon = melon_with_photo(server, c);
  const auto centre = bearer(server.login(kCentre));
  REQUIRE(tell(c, kVillage, profile_body(melon.photo), centre).status == 200);
  REQUIRE(tell(c, kVillage, R"({"story":"新的故事"})", centre).status == 200);
  auto api = c.request("GET", "/api/v1/villages/" + kVillage);
  CHECK(str_field(api.body, "story") == "新的故事");
  CHECK(api.body.find("photo_id") == std::string::npos);
  CHECK(server.count("SELECT COUNT(*) FROM village_profiles") == 1);
}

TEST_CASE("a village's story is refused, in order, to the wrong people and for wrong content",
          "[pages][villages]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto melon = melon_with_photo(server, c);
  const auto centre = bearer(server.login(kCentre));
  struct Refusal {
    std::string what, village, body;
    Headers who;
    int status;
    std::string code;
  };
  const std::string good = profile_body(melon.photo);
  const std::vector<Refusal> refusals = {
      {"nobody signed in", kVillage, good, {}, 401, "unauthenticated"},
      {"a farmer", kVillage, good, bearer(server.login(kFarmer)), 403, "role_not_allowed"},
      {"a story past its bound", kVillage, R"({"story":")" + std::string(2001, 'a') + "\"}", centre,
       400, "too_long"},
      {"an unknown field", kVillage, R"({"story":"x","name":"y"})", centre, 400, "unknown_field"},
      {"a township code", "620621104", good, centre, 400, "invalid_region_code"},
      {"another township's office", kOtherVillage, R"({"story":"x"})",
       bearer(server.login(kTownshipOffice)), 403, "outside_your_area"},
      {"a photo of another village's listing", kOtherVillage, good, centre, 422,
       "photo_not_of_village"},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = tell(c, r.village, r.body, r.who);
    CHECK(refused.status == r.status);
    CHECK(error_code(refused) == r.code);
  }
  CHECK(server.count("SELECT COUNT(*) FROM village_profiles") == 0);
}
