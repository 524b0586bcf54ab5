// The stylesheets and scripts the pages load, compiled into the binary (files under
// storefront/web/assets). Each is served at a URL that carries a hash of its content
// ("/assets/site.1f0c3a9be2d47a65.css"), so a browser may keep it for a year and a new
// build is fetched at once; its plain name ("/assets/site.css") is served too, briefly
// cached, for pages printed or saved before a change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cunhuo::storefront::web {

inline constexpr std::string_view kAssetPrefix = "/assets/";
inline constexpr int kHashedAssetMaxAgeS = 365 * 24 * 3600;
inline constexpr int kPlainAssetMaxAgeS = 3600;

struct Asset {
  std::string_view content;
  std::string_view content_type;  // "text/css; charset=utf-8"
  bool hashed = false;            // asked for by its hashed name: immutable
};

class Assets {
 public:
  static const Assets& builtin();

  // The hashed URL of `name` ("site.css"); asserts that the asset exists.
  std::string url(std::string_view name) const;
  // The asset a file name under /assets/ names, hashed or plain.
  std::optional<Asset> find(std::string_view file) const;

 private:
  Assets() = default;
};

}  // namespace cunhuo::storefront::web
