#include "tests/support/browser.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "tests/support/support.hpp"

namespace cunhuo::test {

Result<std::string> rendered_dom(const std::string& url) {
  if (::access(kChromium, X_OK) != 0)
    return make_error(ErrorKind::unavailable, "no_browser",
                      std::string(kChromium) + " is not installed");
  const std::string profile = temp_dir();
  // The machine's network is closed: background networking, sync and updates stay off, or
  // Chromium spends its time on refused connections. As root it needs --no-sandbox.
  const std::string command =
      "timeout 60 " + std::string(kChromium) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking"
      " --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir=" +
      profile + " --virtual-time-budget=5000 --dump-dom '" + url + "' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return make_error(ErrorKind::unavailable, "no_browser", "could not start Chromium");
  std::string dom;
  std::array<char, 8192> buffer{};
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
    dom.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  std::error_code ignored;
  std::filesystem::remove_all(profile, ignored);
  if (status != 0 || dom.empty())
    return make_error(ErrorKind::unavailable, "browser_failed",
                      "Chromium exited with " + std::to_string(status));
  return dom;
}

}  // namespace cunhuo::test
