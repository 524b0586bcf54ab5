// Reads a parcel label's code from a photo (zbar): the way in for a phone or PC whose
// browser has no BarcodeDetector (Chromium on Linux desktops among them). The photo is a
// JPEG or PNG as a camera or a file picker sends it.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo::storefront::web {

inline constexpr int kMaxReadSidePx = 1600;  // larger photos are scaled down first (speed)
inline constexpr int kMaxPhotoSidePx = 10'000;

// The text of the first QR code (or Code 128 barcode) in `image`. Refused: unreadable_photo
// (not a JPEG or PNG, or absurd in size), no_code_in_photo.
Result<std::string> read_code_in_photo(std::string_view image);

}  // namespace cunhuo::storefront::web
