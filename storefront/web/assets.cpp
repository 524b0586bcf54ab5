#include "storefront/web/assets.hpp"

#include <sodium.h>

#include <map>

#include "core/assert.hpp"
#include "storefront/web/embedded.hpp"

namespace cunhuo::storefront::web {
namespace {

constexpr std::string_view kAssetDir = "assets/";
constexpr std::size_t kHashBytes = 8;  // 16 hex digits: enough to tell builds apart

struct Entry {
  std::string_view content, type;
  std::string hashed_name;  // "site.1f0c3a9be2d47a65.css"
};

std::string_view type_of(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  CUNHUO_ASSERT(name.ends_with(".svg"));  // an asset of a type the server names
  return "image/svg+xml";
}

std::string hashed_name(std::string_view name, std::string_view content) {
  unsigned char hash[kHashBytes];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(content.data()),
                     content.size(), nullptr, 0);
  char hex[2 * kHashBytes + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  const auto dot = name.rfind('.');
  CUNHUO_ASSERT(dot != std::string_view::npos);
  return std::string(name.substr(0, dot)) + "." + hex + std::string(name.substr(dot));
}

// plain name -> entry, and hashed name -> plain name.
struct Index {
  std::map<std::string, Entry, std::less<>> by_name;
  std::map<std::string, std::string, std::less<>> by_hashed;
};

const Index& index() {
  static const Index all = [] {
    CUNHUO_ASSERT(sodium_init() >= 0);
    Index ix;
    for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
      std::string_view path = kEmbeddedFiles[i].path;
      if (!path.starts_with(kAssetDir)) continue;
      path.remove_prefix(kAssetDir.size());
      const auto content = kEmbeddedFiles[i].content;
      Entry e{.content = content, .type = type_of(path), .hashed_name = hashed_name(path, content)};
      ix.by_hashed.emplace(e.hashed_name, std::string(path));
      ix.by_name.emplace(std::string(path), std::move(e));
    }
    return ix;
  }();
  return all;
}

}  // namespace

const Assets& Assets::builtin() {
  static const Assets assets;
  return assets;
}

std::string Assets::url(std::string_view name) const {
  auto it = index().by_name.find(name);
  CUNHUO_ASSERT(it != index().by_name.end());
  return std::string(kAssetPrefix) + it->second.hashed_name;
}

std::optional<Asset> Assets::find(std::string_view file) const {
  const auto& ix = index();
  bool hashed = false;
  if (auto h = ix.by_hashed.find(file); h != ix.by_hashed.end()) {
    file = h->second;
    hashed = true;
  }
  auto it = ix.by_name.find(file);
  if (it == ix.by_name.end()) return std::nullopt;
  return Asset{.content = it->second.content, .content_type = it->second.type, .hashed = hashed};
}

}  // namespace cunhuo::storefront::web
