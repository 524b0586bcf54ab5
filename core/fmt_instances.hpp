// fmt 9 (Debian 12's libfmt-dev, which spdlog uses) instantiates its whole formatting engine,
// detail::vformat_to<char> with every integer and float writer under it, in each file that
// logs or formats. libfmt.so already holds that instance (fmt's format.cc instantiates it),
// so declaring it extern links every file to that one instead of compiling it again: under
// the sanitizers at -O2 the engine was about 40% of a logging file's compile time.
// cunhuo_target_defaults (CMakeLists.txt) includes this header first in every file.
#pragma once

#if defined(SPDLOG_FMT_EXTERNAL) && __has_include(<fmt/core.h>)
#include <fmt/core.h>

#if FMT_VERSION >= 90000 && FMT_VERSION < 100000 && !defined(FMT_HEADER_ONLY)
extern template void fmt::detail::vformat_to<char>(
    fmt::detail::buffer<char>& buf, fmt::string_view format,
    fmt::basic_format_args<fmt::buffer_context<char>> args, fmt::detail::locale_ref loc);
#endif
#endif
