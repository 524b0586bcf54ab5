// A listing photo's thumbnail is WebP for a browser that says it takes WebP and JPEG for any
// other, at one URL (the API's and the pages' <img src>): caches keep the two apart by Accept.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/json.hpp"
#include "tests/support/sample_png.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kListing =
    R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":3980,"stock":5,)"
    R"("temperature_class":"chilled","shelf_life_days":20,"harvest_date":"2026-08-20",)"
    R"("origin_code":"620621104201","origin_name":"甘肃民勤","producers":[{"household_id":1,)"
    R"("share_bps":10000}]})";

struct Uploaded {
  std::int64_t product = 0;
  std::string thumbnail;  // its URL
};

Uploaded listing_with_photo(TestServer& server, HttpClient& c) {
  const std::string farmer = server.login("13900000001");
  auto listed = post_json(c, "/api/v1/products", kListing, bearer(farmer));
  REQUIRE(listed.status == 201);
  const std::int64_t product = json_int(listed.body, "id");
  auto uploaded = c.request("POST", "/api/v1/products/" + std::to_string(product) + "/photos",
                            sample_png(), bearer(farmer, {{"Content-Type", "image/png"}}));
  REQUIRE(uploaded.status == 201);
  return {product,
          "/api/v1/photos/" + std::to_string(json_int(uploaded.body, "id")) + "/thumbnail"};
}

bool is_webp(const std::string& body) {
  return body.size() > 12 && body.substr(0, 4) == "RIFF" && body.substr(8, 4) == "WEBP";
}

bool is_jpeg(const std::string& body) { return body.substr(0, 3) == "\xFF\xD8\xFF"; }

// The WebP thumbnails under a data directory's photo folder.
int webp_files(const std::string& data_dir) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(data_dir + "/photos"))
    if (f.path().string().ends_with("-thumb.webp")) ++n;
  return n;
}

}  // namespace

STORE_TEST("a thumbnail is WebP when the Accept header names image/webp, JPEG otherwise",
           "[http][photos][webp]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Uploaded photo = listing_with_photo(server, c);
  struct Case {
    std::string accept;
    bool webp;
  };
  const std::vector<Case> cases = {
      {"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", true},  // Chromium
      {"image/webp;q=0.5, image/jpeg", true},
      {"IMAGE/WebP", true},
      {"image/webp;q=0, image/jpeg", false},  // refused by its weight
      {"image/*,*/*;q=0.8", false},           // an older browser: a wildcard is not a promise
      {"", false},                            // no Accept header at all
  };
  for (const auto& k : cases) {
    INFO("Accept: " << k.accept);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!k.accept.empty()) headers.emplace_back("Accept", k.accept);
    auto thumb = c.request("GET", photo.thumbnail, "", headers);
    REQUIRE(thumb.status == 200);
    CHECK(thumb.header("content-type") ==
          std::optional<std::string>(k.webp ? "image/webp" : "image/jpeg"));
    CHECK((k.webp ? is_webp(thumb.body) : is_jpeg(thumb.body)));
    CHECK(thumb.header("vary") == std::optional<std::string>("Accept"));
  }
  auto full = c.request("GET", photo.thumbnail.substr(0, photo.thumbnail.size() - 10), "",
                        {{"Accept", "image/webp"}});
  CHECK(full.header("content-type") == std::optional<std::string>("image/jpeg"));  // the photo
}

STORE_TEST("a photo stored before WebP thumbnails gets one the first time a browser asks",
           "[http][photos][webp]") {
  const std::string data_dir = temp_dir();
  TestServer server(store_kind, kTestSeed, [&](Config& config) { config.data_dir = data_dir; });
  HttpClient c(server.port());
  const Uploaded photo = listing_with_photo(server, c);
  REQUIRE(webp_files(data_dir) == 1);
  for (const auto& f : std::filesystem::directory_iterator(data_dir + "/photos"))
    if (f.path().string().ends_with("-thumb.webp")) std::filesystem::remove(f.path());
  REQUIRE(webp_files(data_dir) == 0);  // as an upload before this version left it
  auto jpeg = c.request("GET", photo.thumbnail);
  CHECK(is_jpeg(jpeg.body));
  CHECK(webp_files(data_dir) == 0);  // a browser without WebP costs no encoding
  auto first = c.request("GET", photo.thumbnail, "", {{"Accept", "image/webp"}});
  CHECK(first.header("content-type") == std::optional<std::string>("image/webp"));
  CHECK(is_webp(first.body));
  CHECK(webp_files(data_dir) == 1);
  auto again = c.request("GET", photo.thumbnail, "", {{"Accept", "image/webp"}});
  CHECK(again.body == first.body);  // the file made the first time
}

STORE_TEST("the product page shows its photos through the negotiating thumbnail URL",
           "[http][photos][webp]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Uploaded photo = listing_with_photo(server, c);
  auto page = c.request("GET", "/p/" + std::to_string(photo.product));
  REQUIRE(page.status == 200);
  CHECK(page.body.find("src=\"" + photo.thumbnail + "\"") != std::string::npos);
}
