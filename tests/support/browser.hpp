// A real headless Chromium for the tests of web pages: loads a page, runs its scripts,
// and gives back the document as the browser finished it.
#pragma once

#include <string>

#include "core/result.hpp"

namespace cunhuo::test {

inline constexpr const char* kChromium = "/usr/bin/chromium";

// The serialised DOM of `url` after its scripts ran; an error when Chromium is missing
// or does not answer within a minute.
Result<std::string> rendered_dom(const std::string& url);

}  // namespace cunhuo::test
