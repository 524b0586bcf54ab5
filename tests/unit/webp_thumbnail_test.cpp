// Thumbnails as WebP: real RIFF/WEBP files that libwebp decodes at the thumbnail's size,
// within their byte budget; a picture that cannot fit keeps only its JPEG.
#include <catch2/catch.hpp>
#include <gd.h>
#include <webp/decode.h>

#include <cstdint>
#include <random>
#include <string>

#include "marketplace/photos.hpp"

using namespace cunhuo;

namespace {

// A JPEG as a phone camera takes it: smooth colour with some texture.
std::string camera_jpeg(int width, int height) {
  gdImagePtr image = gdImageCreateTrueColor(width, height);
  REQUIRE(image != nullptr);
  for (int y = 0; y < height; y += 8)
    for (int x = 0; x < width; x += 8)
      gdImageFilledRectangle(image, x, y, x + 7, y + 7,
                             gdTrueColor((x * 255) / width, (y * 255) / height, (x + y) % 256));
  int size = 0;
  void* bytes = gdImageJpegPtr(image, &size, 85);
  std::string out(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
  gdFree(bytes);
  gdImageDestroy(image);
  return out;
}

// Pixels of pure noise: nothing a lossy coder can squeeze into the budget.
std::string noise_jpeg(int side) {
  gdImagePtr image = gdImageCreateTrueColor(side, side);
  REQUIRE(image != nullptr);
  std::mt19937 rng(7);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      gdImageSetPixel(image, x, y, gdTrueColor(rng() % 256, rng() % 256, rng() % 256));
  int size = 0;
  void* bytes = gdImageJpegPtr(image, &size, 95);
  std::string out(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
  gdFree(bytes);
  gdImageDestroy(image);
  return out;
}

std::uint32_t le32(const std::string& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

struct Decoded {
  bool ok = false;
  int width = 0, height = 0;
};

// Decoded with libwebp's full decoder (WebPDecode), as a browser would.
Decoded decode(const std::string& webp) {
  WebPDecoderConfig config;
  REQUIRE(WebPInitDecoderConfig(&config));
  config.output.colorspace = MODE_RGB;
  const auto* data = reinterpret_cast<const std::uint8_t*>(webp.data());
  const bool ok = WebPDecode(data, webp.size(), &config) == VP8_STATUS_OK;
  Decoded out{ok, config.output.width, config.output.height};
  WebPFreeDecBuffer(&config.output);
  return out;
}

void check_webp_file(const std::string& webp, int width, int height) {
  REQUIRE(webp.size() > 12);
  CHECK(webp.substr(0, 4) == "RIFF");
  CHECK(webp.substr(8, 4) == "WEBP");
  CHECK(le32(webp, 4) == webp.size() - 8);  // the RIFF chunk spans the whole file
  CHECK(webp.size() <= marketplace::kMaxThumbnailWebpBytes);
  const Decoded d = decode(webp);
  CHECK(d.ok);
  CHECK(d.width == width);
  CHECK(d.height == height);
}

}  // namespace

TEST_CASE("an uploaded photo gets a WebP thumbnail that decodes at 320 px within its budget",
          "[photos][webp]") {
  auto processed = marketplace::process_image(camera_jpeg(1200, 900));
  REQUIRE(processed.ok());
  check_webp_file(processed->thumbnail_webp, marketplace::kThumbnailSide, 240);
  CHECK(processed->thumbnail_webp.size() < processed->thumbnail_jpeg.size());
}

TEST_CASE("a stored JPEG thumbnail is made into the same kind of WebP", "[photos][webp]") {
  auto processed = marketplace::process_image(camera_jpeg(900, 1200));
  REQUIRE(processed.ok());
  auto webp = marketplace::webp_from_jpeg_thumbnail(processed->thumbnail_jpeg);
  REQUIRE(webp.ok());
  check_webp_file(*webp, 240, marketplace::kThumbnailSide);
}

TEST_CASE("a thumbnail that cannot fit the WebP budget keeps only its JPEG", "[photos][webp]") {
  auto webp = marketplace::webp_from_jpeg_thumbnail(noise_jpeg(marketplace::kThumbnailSide));
  REQUIRE(webp.ok());
  CHECK(webp->empty());
}

TEST_CASE("a stored thumbnail that is not a JPEG is refused, not encoded", "[photos][webp]") {
  auto webp = marketplace::webp_from_jpeg_thumbnail("not a picture at all");
  REQUIRE_FALSE(webp.ok());
  CHECK(webp.error().code == "not_an_image");
}
