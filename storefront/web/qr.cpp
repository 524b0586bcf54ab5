#include "storefront/web/qr.hpp"

#include <qrencode.h>

#include <memory>

namespace cunhuo::storefront::web {

Result<std::string> qr_svg(std::string_view text, int size_px) {
  if (text.empty() || text.size() > kMaxQrText)
    return make_error(ErrorKind::invalid, "invalid_qr_text", "a QR code holds 1 to 512 bytes");
  const std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!qr) return make_error(ErrorKind::internal, "qr_failed", "the QR code was not made");
  const int side = qr->width + 2 * kQrQuietModules;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" width=\"" +
                    std::to_string(size_px) + "\" height=\"" + std::to_string(size_px) +
                    "\" viewBox=\"0 0 " + std::to_string(side) + " " + std::to_string(side) +
                    "\" shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"100%\" "
                    "height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One horizontal run of dark modules per path segment keeps the markup small.
  for (int y = 0; y < qr->width; ++y) {
    for (int x = 0; x < qr->width;) {
      if (!(qr->data[y * qr->width + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1)) ++run;
      svg += "M" + std::to_string(x + kQrQuietModules) + " " + std::to_string(y + kQrQuietModules) +
             "h" + std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run;
    }
  }
  return svg + "\"/></svg>";
}

}  // namespace cunhuo::storefront::web
