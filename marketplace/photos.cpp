#include "marketplace/photos.hpp"

#include <gd.h>
#include <sodium.h>
#include <webp/encode.h>

#include <filesystem>
#include <fstream>

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 7, "listing photos",
     "CREATE TABLE IF NOT EXISTS product_photos (\n"
     "  id {{ID}},\n"
     "  product_id BIGINT NOT NULL,\n"
     "  file_key VARCHAR(40) NOT NULL,\n"
     "  width INTEGER NOT NULL,\n"
     "  height INTEGER NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS product_photos_product ON product_photos (product_id);\n"},
};

enum class Format { jpeg, png };

Error not_an_image(const std::string& why) {
  return make_error(ErrorKind::unsupported, "not_an_image",
                    "the upload is not a JPEG or PNG picture: " + why, "body");
}

std::uint32_t be32(std::string_view b, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

std::uint32_t be16(std::string_view b, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 8) |
         static_cast<unsigned char>(b[at + 1]);
}

// The format and the declared size, read from the header before anything is decoded.
Result<std::pair<Format, std::pair<std::uint32_t, std::uint32_t>>> sniff(std::string_view b) {
  static const char png_magic[] = "\x89PNG\r\n\x1a\n";
  if (b.size() >= 24 && b.substr(0, 8) == std::string_view(png_magic, 8) &&
      b.substr(12, 4) == "IHDR")
    return std::make_pair(Format::png, std::make_pair(be32(b, 16), be32(b, 20)));
  if (b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0xFF &&
      static_cast<unsigned char>(b[1]) == 0xD8 && static_cast<unsigned char>(b[2]) == 0xFF) {
    // Walk the markers to the frame header (SOF0..SOF15 except DHT, JPG, DAC).
    std::size_t i = 2;
    while (i + 9 < b.size()) {
      if (static_cast<unsigned char>(b[i]) != 0xFF) return not_an_image("broken JPEG markers");
      const unsigned marker = static_cast<unsigned char>(b[i + 1]);
      if (marker == 0xFF) {
        ++i;
        continue;
      }
      const std::uint32_t length = be16(b, i + 2);
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
        return std::make_pair(Format::jpeg, std::make_pair(be16(b, i + 7), be16(b, i + 5)));
      if (length < 2) return not_an_image("broken JPEG segment");
      i += 2 + length;
    }
    return not_an_image("no JPEG frame header");
  }
  return not_an_image("unknown format");
}

gdImagePtr scaled(gdImagePtr source, int max_side) {
  const int w = gdImageSX(source), h = gdImageSY(source);
  if (w <= max_side && h <= max_side)
    return gdImageScale(source, static_cast<unsigned>(w), static_cast<unsigned>(h));
  const double f = static_cast<double>(max_side) / std::max(w, h);
  return gdImageScale(source, static_cast<unsigned>(std::max(1.0, w * f)),
                      static_cast<unsigned>(std::max(1.0, h * f)));
}

Result<std::string> encode_jpeg(gdImagePtr image) {
  int size = 0;
  void* data = gdImageJpegPtr(image, &size, 82);
  if (data == nullptr || size <= 0)
    return make_error(ErrorKind::internal, "image_encode", "could not encode the picture");
  std::string out(static_cast<const char*>(data), static_cast<std::size_t>(size));
  gdFree(data);
  return out;
}

// The picture's pixels as RGB rows, as libwebp takes them.
std::vector<std::uint8_t> rgb_of(gdImagePtr image) {
  const int w = gdImageSX(image), h = gdImageSY(image);
  std::vector<std::uint8_t> rgb;
  rgb.reserve(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int c = gdImageGetTrueColorPixel(image, x, y);
      rgb.push_back(static_cast<std::uint8_t>(gdTrueColorGetRed(c)));
      rgb.push_back(static_cast<std::uint8_t>(gdTrueColorGetGreen(c)));
      rgb.push_back(static_cast<std::uint8_t>(gdTrueColorGetBlue(c)));
    }
  return rgb;
}

// Lossy WebP at the highest quality step that fits the budget; "" when none does.
Result<std::string> encode_webp_thumbnail(gdImagePtr image) {
  const int w = gdImageSX(image), h = gdImageSY(image);
  const auto rgb = rgb_of(image);
  for (int quality = kThumbnailWebpQuality; quality >= kThumbnailWebpMinQuality;
       quality -= kThumbnailWebpQualityStep) {
    std::uint8_t* data = nullptr;
    const std::size_t size =
        WebPEncodeRGB(rgb.data(), w, h, w * 3, static_cast<float>(quality), &data);
    if (size == 0 || data == nullptr)
      return make_error(ErrorKind::internal, "image_encode", "could not encode the picture");
    std::string out(reinterpret_cast<const char*>(data), size);
    WebPFree(data);
    if (out.size() <= kMaxThumbnailWebpBytes) return out;
  }
  return std::string();
}

struct ImageHandle {
  gdImagePtr p = nullptr;
  explicit ImageHandle(gdImagePtr image) : p(image) {}
  ~ImageHandle() {
    if (p) gdImageDestroy(p);
  }
  ImageHandle(const ImageHandle&) = delete;
  ImageHandle& operator=(const ImageHandle&) = delete;
};

Status write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out)
    return make_error(ErrorKind::unavailable, "storage_failed", "could not store the picture");
  return {};
}

}  // namespace

std::span<const db::Migration> photo_migrations() { return kMigrations; }

Result<ProcessedImage> process_image(std::string_view bytes) {
  auto [format, size] = CUNHUO_TRY(sniff(bytes));
  if (size.first == 0 || size.second == 0 || size.first > kMaxSourceSide ||
      size.second > kMaxSourceSide)
    return make_error(ErrorKind::invalid, "image_too_big",
                      "pictures may be at most 12000 px on a side", "body");
  if (static_cast<std::int64_t>(size.first) * size.second > kMaxSourcePixels)
    return make_error(ErrorKind::invalid, "image_too_big",
                      "pictures may have at most 40 million pixels", "body");
  void* data = const_cast<char*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  ImageHandle source(format == Format::png ? gdImageCreateFromPngPtr(length, data)
                                           : gdImageCreateFromJpegPtr(length, data));
  if (source.p == nullptr) return not_an_image("it does not decode");
  gdImageSetInterpolationMethod(source.p, GD_BILINEAR_FIXED);
  ImageHandle photo(scaled(source.p, kPhotoMaxSide));
  ImageHandle thumb(scaled(source.p, kThumbnailSide));
  if (photo.p == nullptr || thumb.p == nullptr)
    return make_error(ErrorKind::internal, "image_scale", "could not scale the picture");
  ProcessedImage out;
  out.photo_jpeg = CUNHUO_TRY(encode_jpeg(photo.p));
  out.thumbnail_jpeg = CUNHUO_TRY(encode_jpeg(thumb.p));
  out.thumbnail_webp = CUNHUO_TRY(encode_webp_thumbnail(thumb.p));
  out.width = gdImageSX(photo.p);
  out.height = gdImageSY(photo.p);
  return out;
}

std::string photo_path(const std::string& folder, const Photo& photo, bool thumbnail) {
  return folder + "/" + photo.file_key + (thumbnail ? "-thumb.jpg" : ".jpg");
}

std::string webp_thumbnail_path(const std::string& folder, const Photo& photo) {
  return folder + "/" + photo.file_key + "-thumb.webp";
}

Result<std::string> webp_from_jpeg_thumbnail(std::string_view jpeg) {
  ImageHandle image(
      gdImageCreateFromJpegPtr(static_cast<int>(jpeg.size()), const_cast<char*>(jpeg.data())));
  if (image.p == nullptr) return not_an_image("the stored thumbnail does not decode");
  return encode_webp_thumbnail(image.p);
}

Result<std::string> stored_webp_thumbnail(const std::string& folder, const Photo& photo) {
  const std::string path = webp_thumbnail_path(folder, photo);
  if (std::ifstream in{path, std::ios::binary})
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ifstream jpeg_in(photo_path(folder, photo, true), std::ios::binary);
  if (!jpeg_in) return std::string();
  const std::string jpeg((std::istreambuf_iterator<char>(jpeg_in)),
                         std::istreambuf_iterator<char>());
  const std::string webp = CUNHUO_TRY(webp_from_jpeg_thumbnail(jpeg));
  // Written beside and renamed over: two requests making it at once leave one whole file.
  unsigned char raw[8];
  randombytes_buf(raw, sizeof raw);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  const std::string temporary = path + "." + hex + ".tmp";
  CUNHUO_CHECK(write_file(temporary, webp));
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) std::filesystem::remove(temporary, ec);
  return webp;
}

Result<std::string> store_photo_files(const ProcessedImage& image, const std::string& folder) {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  const Photo photo{PhotoId{}, ProductId{}, hex, image.width, image.height};
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec)
    return make_error(ErrorKind::unavailable, "storage_failed", "could not store the picture");
  CUNHUO_CHECK(write_file(photo_path(folder, photo, false), image.photo_jpeg));
  CUNHUO_CHECK(write_file(photo_path(folder, photo, true), image.thumbnail_jpeg));
  CUNHUO_CHECK(write_file(webp_thumbnail_path(folder, photo), image.thumbnail_webp));
  return photo.file_key;
}

void remove_photo_files(const std::string& folder, const std::string& file_key) {
  const Photo photo{PhotoId{}, ProductId{}, file_key, 0, 0};
  std::error_code ec;
  std::filesystem::remove(photo_path(folder, photo, false), ec);
  std::filesystem::remove(photo_path(folder, photo, true), ec);
  std::filesystem::remove(webp_thumbnail_path(folder, photo), ec);
}

Result<Photo> record_photo(db::Session& tx, ProductId product, const std::string& file_key,
                           const ProcessedImage& image, const Clock& clock) {
  auto count = CUNHUO_TRY(
      tx.query_one("SELECT COUNT(*) FROM product_photos WHERE product_id = ?", {product.value}));
  if (count && count->i64(0) >= static_cast<std::int64_t>(kMaxPhotosPerListing))
    return make_error(ErrorKind::conflict, "too_many_photos", "a listing has at most 12 photos");
  CUNHUO_TRY(
      tx.exec("INSERT INTO product_photos (product_id, file_key, width, height, created_at) VALUES "
              "(?, ?, ?, ?, ?)",
              {product.value, file_key, image.width, image.height, clock.now_ms()}));
  return Photo{PhotoId{CUNHUO_TRY(tx.last_insert_id())}, product, file_key, image.width,
               image.height};
}

Result<std::vector<Photo>> photos_of(db::Session& s, ProductId product) {
  std::vector<Photo> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT id, product_id, file_key, width, height FROM product_photos "
                          "WHERE product_id = ? ORDER BY id",
                          {product.value})))
    out.push_back(Photo{PhotoId{r.i64(0)}, ProductId{r.i64(1)}, r.str(2),
                        static_cast<int>(r.i64(3)), static_cast<int>(r.i64(4))});
  return out;
}

Result<std::map<std::int64_t, std::vector<Photo>>> photos_of(
    db::Session& s, const std::vector<ProductId>& products) {
  std::map<std::int64_t, std::vector<Photo>> out;
  if (products.empty()) return out;
  for (const auto& r :
       CUNHUO_TRY(s.query_with("SELECT id, product_id, file_key, width, height FROM product_photos "
                               "WHERE product_id IN (" +
                                   db::placeholders(products.size()) + ") ORDER BY id",
                               db::id_values(products))))
    out[r.i64(1)].push_back(Photo{PhotoId{r.i64(0)}, ProductId{r.i64(1)}, r.str(2),
                                  static_cast<int>(r.i64(3)), static_cast<int>(r.i64(4))});
  return out;
}

Result<std::optional<Photo>> find_photo(db::Session& s, PhotoId id) {
  auto r = CUNHUO_TRY(
      s.query_one("SELECT id, product_id, file_key, width, height FROM product_photos WHERE id = ?",
                  {id.value}));
  if (!r) return std::optional<Photo>();
  return std::optional<Photo>(Photo{PhotoId{r->i64(0)}, ProductId{r->i64(1)}, r->str(2),
                                    static_cast<int>(r->i64(3)), static_cast<int>(r->i64(4))});
}

}  // namespace cunhuo::marketplace
