// Cursors for paged lists. A page is read by its sort key, never by OFFSET:
//
//   WHERE (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC
//
// and the cursor the answer gives is the last row's position (here created_at and id).
// A cursor is sealed with a keyed MAC over the list it belongs to (its name, the caller and
// the filters, as the route spells them) and the position, so a client can neither forge
// one nor carry it to another list: either is 400 `invalid_cursor`, never a wrong page.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cunhuo::storefront {

inline constexpr std::string_view kInvalidCursor = "invalid_cursor";
inline constexpr std::int64_t kDefaultPageSize = 20;
inline constexpr std::int64_t kMaxPageSize = 100;
inline constexpr std::size_t kMaxCursorChars = 200;  // longer is refused unread
inline constexpr std::size_t kMaxCursorKeys = 4;     // values in one position

class CursorSeal {
 public:
  static constexpr std::size_t kKeyBytes = 32;  // = kSecretBytes
  explicit CursorSeal(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {}
  // A fresh random key: cursors then last as long as the process. For tests.
  static CursorSeal random();
  // The key kept at `path` (hex, owner-only), created on first use, so that every process
  // serving one store accepts the others' cursors and a restart keeps them.
  static Result<CursorSeal> load_or_create(const std::string& path);

  // The cursor after a row at `position` in `list`.
  std::string seal(std::string_view list, const std::vector<std::int64_t>& position) const;
  // The position in `list` a cursor names; it must hold exactly `keys` values.
  Result<std::vector<std::int64_t>> open(std::string_view list, std::string_view cursor,
                                         std::size_t keys) const;

 private:
  std::array<unsigned char, kKeyBytes> key_;
};

// What a list call asks for: how many items, and after which position (none: the start).
struct PageRequest {
  std::int64_t limit = kDefaultPageSize;
  std::optional<std::vector<std::int64_t>> after;
};

// Reads `limit` (1 to kMaxPageSize) and `cursor` from a query; the cursor must belong to
// `list` and hold `keys` values.
Result<PageRequest> read_page(std::optional<std::string> limit, std::optional<std::string> cursor,
                              const CursorSeal& seal, std::string_view list, std::size_t keys);

}  // namespace cunhuo::storefront
