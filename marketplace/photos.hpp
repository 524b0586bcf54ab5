// Photos of listings, uploaded from cheap phones. The type is decided by the bytes, not
// by what the client claims; the picture is decoded and re-encoded (which also drops
// EXIF metadata such as the GPS position of the farm), scaled to at most 1600 px, and a
// 320 px thumbnail is made for 2G pages: a JPEG for every browser and a WebP, about a third
// smaller, for the browsers that accept it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "marketplace/catalog.hpp"

namespace cunhuo::marketplace {

using PhotoId = Id<struct PhotoTag>;

constexpr int kPhotoMaxSide = 1600;
constexpr int kThumbnailSide = 320;
constexpr int kMaxSourceSide = 12000;  // refuse decompression bombs before decoding
// Decoding holds 4 bytes a pixel: 40 MP is 160 MB, a phone camera's photo is 12 to 50.
constexpr std::int64_t kMaxSourcePixels = 40'000'000;
constexpr std::size_t kMaxPhotosPerListing = 12;
// A WebP thumbnail is lossy at this quality, lowered step by step until it fits its budget;
// one that cannot fit is not kept, and the JPEG serves every browser.
constexpr int kThumbnailWebpQuality = 75;
constexpr int kThumbnailWebpMinQuality = 45;
constexpr int kThumbnailWebpQualityStep = 15;
constexpr std::size_t kMaxThumbnailWebpBytes = 24 * 1024;

struct Photo {
  PhotoId id;
  ProductId product;
  std::string file_key;
  int width = 0, height = 0;
};

struct ProcessedImage {
  std::string photo_jpeg, thumbnail_jpeg;
  std::string thumbnail_webp;  // "" when it would not fit kMaxThumbnailWebpBytes
  int width = 0, height = 0;
};

std::span<const db::Migration> photo_migrations();

// Checks the bytes are a JPEG or PNG of sane size and makes the photo and thumbnail.
Result<ProcessedImage> process_image(std::string_view bytes);

// Writes the photo and thumbnail files under `folder` (outside any transaction) and
// returns their key; then record_photo() records them in the caller's transaction, and
// remove_photo_files() cleans up if that transaction does not commit.
Result<std::string> store_photo_files(const ProcessedImage& image, const std::string& folder);
Result<Photo> record_photo(db::Session& tx, ProductId product, const std::string& file_key,
                           const ProcessedImage& image, const Clock& clock);
void remove_photo_files(const std::string& folder, const std::string& file_key);
Result<std::vector<Photo>> photos_of(db::Session& s, ProductId product);
// The photos of several listings at once, by listing id.
Result<std::map<std::int64_t, std::vector<Photo>>> photos_of(
    db::Session& s, const std::vector<ProductId>& products);
Result<std::optional<Photo>> find_photo(db::Session& s, PhotoId id);
std::string photo_path(const std::string& folder, const Photo& photo, bool thumbnail);
std::string webp_thumbnail_path(const std::string& folder, const Photo& photo);

// A thumbnail (JPEG bytes, as stored) as WebP within kMaxThumbnailWebpBytes; "" when it
// does not fit at the lowest quality.
Result<std::string> webp_from_jpeg_thumbnail(std::string_view jpeg);
// The WebP thumbnail of a stored photo, or "" when it has none (too big as WebP). A photo
// stored before WebP thumbnails gets its file the first time it is asked for, made from its
// JPEG thumbnail: only photos someone looks at cost the work, a start does not wait for a
// pass over every photo, and the file's presence is the only state (an empty file: none).
Result<std::string> stored_webp_thumbnail(const std::string& folder, const Photo& photo);

}  // namespace cunhuo::marketplace
