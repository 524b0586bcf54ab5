// Typed ids: a HouseholdId cannot be passed where a ShopId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace cunhuo {

template <class Tag>
struct Id {
  std::int64_t value = 0;
  constexpr bool valid() const { return value > 0; }
  constexpr auto operator<=>(const Id&) const = default;
};

}  // namespace cunhuo

template <class Tag>
struct std::hash<cunhuo::Id<Tag>> {
  std::size_t operator()(const cunhuo::Id<Tag>& id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
