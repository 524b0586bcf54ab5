#include "storefront/web/qr_read.hpp"

#include <gd.h>
#include <zbar.h>

#include <memory>
#include <vector>

namespace cunhuo::storefront::web {
namespace {

struct ImageFree {
  void operator()(gdImagePtr p) const { gdImageDestroy(p); }
};
using ImageHandle = std::unique_ptr<gdImage, ImageFree>;

Error unreadable() {
  return make_error(ErrorKind::invalid, "unreadable_photo", "send a JPEG or PNG photo", "photo");
}

ImageHandle decode(std::string_view bytes) {
  auto* data = const_cast<char*>(bytes.data());
  const int size = static_cast<int>(bytes.size());
  if (bytes.size() > 8 && bytes.substr(0, 4) == "\x89PNG")
    return ImageHandle(gdImageCreateFromPngPtr(size, data));
  if (bytes.size() > 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xD8)
    return ImageHandle(gdImageCreateFromJpegPtr(size, data));
  return nullptr;
}

// The image as 8-bit grey (Y800), what zbar reads.
std::vector<unsigned char> grey(gdImagePtr im) {
  const int w = gdImageSX(im), h = gdImageSY(im);
  std::vector<unsigned char> out(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int c = gdImageGetPixel(im, x, y);
      // ITU-R BT.601 luma, in integers.
      const int luma =
          (299 * gdImageRed(im, c) + 587 * gdImageGreen(im, c) + 114 * gdImageBlue(im, c)) / 1000;
      out[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)] =
          static_cast<unsigned char>(luma);
    }
  return out;
}

std::string first_symbol(std::vector<unsigned char>& pixels, int w, int h) {
  using namespace zbar;  // in C++ the C API lives in namespace zbar
  zbar_image_scanner_t* scanner = zbar_image_scanner_create();
  zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  zbar_image_scanner_set_config(scanner, ZBAR_CODE128, ZBAR_CFG_ENABLE, 1);
  zbar_image_t* image = zbar_image_create();
  zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(image, static_cast<unsigned>(w), static_cast<unsigned>(h));
  zbar_image_set_data(image, pixels.data(), pixels.size(), nullptr);  // pixels stay ours
  std::string text;
  if (zbar_scan_image(scanner, image) > 0)
    if (const zbar_symbol_t* symbol = zbar_image_first_symbol(image))
      text.assign(zbar_symbol_get_data(symbol), zbar_symbol_get_data_length(symbol));
  zbar_image_destroy(image);
  zbar_image_scanner_destroy(scanner);
  return text;
}

}  // namespace

Result<std::string> read_code_in_photo(std::string_view bytes) {
  ImageHandle im = decode(bytes);
  if (!im) return unreadable();
  int w = gdImageSX(im.get()), h = gdImageSY(im.get());
  if (w <= 0 || h <= 0 || w > kMaxPhotoSidePx || h > kMaxPhotoSidePx) return unreadable();
  if (w > kMaxReadSidePx || h > kMaxReadSidePx) {
    const double scale = static_cast<double>(kMaxReadSidePx) / std::max(w, h);
    gdImageSetInterpolationMethod(im.get(), GD_BILINEAR_FIXED);
    ImageHandle smaller(
        gdImageScale(im.get(), static_cast<unsigned>(w * scale), static_cast<unsigned>(h * scale)));
    if (!smaller) return unreadable();
    im = std::move(smaller);
    w = gdImageSX(im.get());
    h = gdImageSY(im.get());
  }
  auto pixels = grey(im.get());
  std::string text = first_symbol(pixels, w, h);
  if (text.empty())
    return make_error(ErrorKind::unprocessable, "no_code_in_photo",
                      "no QR code could be read in the photo", "photo");
  return text;
}

}  // namespace cunhuo::storefront::web
