#include <catch2/catch.hpp>

#include "storefront/cursor.hpp"

using namespace cunhuo;
using namespace cunhuo::storefront;

TEST_CASE("a sealed cursor opens to the position it was sealed with", "[cursor]") {
  const auto seal = CursorSeal::random();
  const auto cursor = seal.seal("orders:buyer=7", {1795000000000, 42});
  auto position = seal.open("orders:buyer=7", cursor, 2);
  REQUIRE(position.ok());
  CHECK(*position == std::vector<std::int64_t>{1795000000000, 42});
}

TEST_CASE("a cursor carried to another list is refused", "[cursor]") {
  const auto seal = CursorSeal::random();
  const auto cursor = seal.seal("orders:buyer=7", {10, 42});
  auto position = seal.open("orders:buyer=8", cursor, 2);
  REQUIRE_FALSE(position.ok());
  CHECK(position.error().code == kInvalidCursor);
}

TEST_CASE("a cursor sealed by another key is refused", "[cursor]") {
  const auto cursor = CursorSeal::random().seal("orders", {10, 42});
  CHECK_FALSE(CursorSeal::random().open("orders", cursor, 2).ok());
}

TEST_CASE("a cursor with any character changed is refused", "[cursor]") {
  const auto seal = CursorSeal::random();
  const auto cursor = seal.seal("orders", {10, 42});
  for (std::size_t i = 0; i < cursor.size(); ++i) {
    std::string changed = cursor;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    auto position = seal.open("orders", changed, 2);
    INFO("position " << i);
    REQUIRE_FALSE(position.ok());
    CHECK(position.error().code == kInvalidCursor);
  }
}

TEST_CASE("page requests refuse what a list cannot read", "[cursor]") {
  const auto seal = CursorSeal::random();
  const auto good = seal.seal("orders", {10, 42});
  struct Case {
    const char* what;
    std::optional<std::string> limit, cursor;
    std::string_view code;
  };
  // In order of precedence: the limit is read before the cursor.
  const Case cases[] = {
      {"a limit of zero", "0", good, "invalid_limit"},
      {"a limit over the page size", "101", good, "invalid_limit"},
      {"a limit that is not a number", "ten", good, "invalid_limit"},
      {"a cursor that is not base64", "5", std::string("***"), kInvalidCursor},
      {"an empty cursor", "5", std::string(""), kInvalidCursor},
      {"a cursor over its length", "5", std::string(kMaxCursorChars + 1, 'A'), kInvalidCursor},
      {"a cursor with fewer keys than the list's", "5", seal.seal("orders", {10}), kInvalidCursor},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto page = read_page(c.limit, c.cursor, seal, "orders", 2);
    REQUIRE_FALSE(page.ok());
    CHECK(page.error().code == c.code);
  }
}

TEST_CASE("a page request without limit or cursor starts at the top", "[cursor]") {
  auto page = read_page(std::nullopt, std::nullopt, CursorSeal::random(), "orders", 2);
  REQUIRE(page.ok());
  CHECK(page->limit == kDefaultPageSize);
  CHECK_FALSE(page->after.has_value());
}
