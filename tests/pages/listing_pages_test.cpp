// The farmer's listings on pages, without JavaScript (the browser tests cover the script):
// a new listing with a camera photo the server scales, sent twice yet listed once, refusals
// that keep what was typed and write nothing, and changing a listing's stock.
#include <catch2/catch.hpp>

#include <filesystem>

#include "marketplace/photos.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const FormFields kMelonForm = {
    {"key", "listing-key-1"}, {"title", "民勤蜜瓜"}, {"price", "39.80"},        {"unit", "box"},
    {"stock", "20"},          {"category", "水果"},  {"temperature", "chilled"}};

FormFields with(FormFields form, const std::string& name, const std::string& value) {
  for (auto& [k, v] : form)
    if (k == name) v = value;
  return form;
}

std::int64_t photo_files(TestServer& server) {
  const auto folder = server.app().photo_folder();
  if (!std::filesystem::exists(folder)) return 0;
  std::int64_t n = 0;
  for ([[maybe_unused]] const auto& f : std::filesystem::recursive_directory_iterator(folder))
    if (f.is_regular_file()) ++n;
  return n;
}

}  // namespace

STORE_TEST("a farmer lists a product with a camera photo, which the server scales",
           "[pages][listing]") {
  TestServer server(store_kind);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  REQUIRE(farmer.get("/farm/list").status == 200);
  auto listed = farmer.post_multipart("/farm/list", kMelonForm, "photo", camera_jpeg(3000, 2000));
  REQUIRE(listed.status == 303);
  REQUIRE(has(listed.header("location").value_or(""), "/farm/listings?new="));
  CHECK(server.count("SELECT COUNT(*) FROM products WHERE title = '民勤蜜瓜' AND price_fen = "
                     "3980 AND stock = 20") == 1);
  CHECK(server.count("SELECT MAX(width) FROM product_photos") == marketplace::kPhotoMaxSide);
  CHECK(has(farmer.get("/farm/listings").body, "民勤蜜瓜"));
}

STORE_TEST("the same listing form sent twice lists the product once", "[pages][listing]") {
  TestServer server(store_kind);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  farmer.get("/farm/list");
  const std::string photo = camera_jpeg(1280, 960);
  auto first = farmer.post_multipart("/farm/list", kMelonForm, "photo", photo);
  auto again = farmer.post_multipart("/farm/list", kMelonForm, "photo", photo);
  REQUIRE(first.status == 303);
  CHECK(again.status == 303);
  CHECK(again.header("location") == first.header("location"));
  CHECK(server.count("SELECT COUNT(*) FROM products WHERE title = '民勤蜜瓜'") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM product_photos") == 1);
}

TEST_CASE("a refused listing says why in Chinese, keeps what was typed, and writes nothing",
          "[pages][listing]") {
  TestServer server(StoreKind::sqlite);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  farmer.get("/farm/list");
  const std::string photo = camera_jpeg(640, 480);
  struct Case {
    std::string what;
    FormFields form;
    std::string photo;
    bool forged;
    int status;
    std::string says, kept;  // the refusal's words, and a value typed, shown again
  };
  // In the order they are checked: the form's token, the fields, then the photo.
  const std::vector<Case> refusals = {
      {"a forged form", kMelonForm, photo, true, 403, "页面已过期", "民勤蜜瓜"},
      {"a price that is no price", with(kMelonForm, "price", "三十"), photo, false, 400,
       "请填写价格", "三十"},
      {"no stock", with(kMelonForm, "stock", "0"), photo, false, 400, "库存", "民勤蜜瓜"},
      {"no name", with(kMelonForm, "title", ""), photo, false, 400, "商品名称", "39.80"},
      {"a file that is no photo", kMelonForm, "not a picture at all", false, 415, "照片无法识别",
       "民勤蜜瓜"},
  };
  const auto files = photo_files(server);
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = farmer.post_multipart("/farm/list", with(r.form, "key", r.what), "photo",
                                         r.photo, r.forged);
    CHECK(refused.status == r.status);
    CHECK(has(refused.body, r.says));
    CHECK(has(refused.body, "value=\"" + r.kept + "\""));
    CHECK(server.count("SELECT COUNT(*) FROM products") == 0);
    CHECK(photo_files(server) == files);
  }
}

TEST_CASE("a farmer changes a listing's price and stock on the list page", "[pages][listing]") {
  TestServer server(StoreKind::sqlite);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  farmer.get("/farm/list");
  REQUIRE(farmer.post_multipart("/farm/list", kMelonForm, "photo", "").status == 303);
  const auto id = server.count("SELECT id FROM products WHERE title = '民勤蜜瓜'");
  farmer.get("/farm/listings");
  auto saved =
      farmer.post("/farm/listings/" + std::to_string(id), {{"price", "35"}, {"stock", "7"}});
  REQUIRE(saved.status == 303);
  CHECK(server.count("SELECT stock FROM products WHERE id = " + std::to_string(id)) == 7);
  CHECK(server.count("SELECT price_fen FROM products WHERE id = " + std::to_string(id)) == 3500);
  Browser other(server);
  other.sign_in(server.login(kOtherFarmer));
  other.get("/farm/listings");
  CHECK(
      other.post("/farm/listings/" + std::to_string(id), {{"price", "1"}, {"stock", "1"}}).status ==
      404);
  CHECK(server.count("SELECT price_fen FROM products WHERE id = " + std::to_string(id)) == 3500);
}
