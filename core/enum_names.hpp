// One table per enumeration gives both directions between values and their names in
// the API and the store, so the two can never disagree.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace cunhuo {

template <class E, std::size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

template <class E, std::size_t N>
constexpr std::string_view name_of(const EnumNames<E, N>& names, E value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return {};  // every value is in its table: tests read each one back
}

template <class E, std::size_t N>
constexpr std::optional<E> value_of(const EnumNames<E, N>& names, std::string_view text) {
  for (const auto& [v, name] : names)
    if (name == text) return v;
  return std::nullopt;
}

}  // namespace cunhuo
