// Photo sizes are checked from the header, before anything is decoded.
#include <catch2/catch.hpp>

#include "marketplace/photos.hpp"
#include "tests/support/sample_png.hpp"

using namespace cunhuo;

namespace {

// The sample PNG claiming another size in its IHDR (the CRC no longer matches: a
// decoder would refuse it, so only the size check can give image_too_big).
std::string png_claiming(std::uint32_t width, std::uint32_t height) {
  std::string png = test::sample_png();
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<char>((width >> (24 - 8 * i)) & 0xFF);
    png[20 + i] = static_cast<char>((height >> (24 - 8 * i)) & 0xFF);
  }
  return png;
}

}  // namespace

TEST_CASE("a photo of more than 40 million pixels is refused before decoding", "[photos]") {
  const std::pair<std::uint32_t, std::uint32_t> refused[] = {
      {12000, 12000}, {8000, 8000}, {12000, 3400}};
  for (auto [w, h] : refused) {
    auto processed = marketplace::process_image(png_claiming(w, h));
    INFO(w << " x " << h);
    REQUIRE_FALSE(processed.ok());
    CHECK(processed.error().code == "image_too_big");
  }
  static_assert(marketplace::kMaxSourcePixels == 40'000'000);
}

TEST_CASE("a photo within the pixel cap is decoded", "[photos]") {
  auto processed = marketplace::process_image(test::sample_png());
  REQUIRE(processed.ok());
  CHECK(processed->width == 64);
}
