// QR codes drawn as inline SVG (libqrencode): on parcel labels, statements and lots. A page
// that carries one needs no image request and prints sharp at any size.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo::storefront::web {

inline constexpr std::size_t kMaxQrText = 512;  // bytes: a URL or a tracking number
inline constexpr int kQrQuietModules = 4;       // the blank border scanners need

// An <svg> of `text` at error correction level M, `size_px` wide; an error for text longer
// than kMaxQrText.
Result<std::string> qr_svg(std::string_view text, int size_px);

}  // namespace cunhuo::storefront::web
