#include "core/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace cunhuo::detail {

// Written with stdio, not the logger: the logger itself may be what broke.
void assertion_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "invariant broken at %s:%d: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace cunhuo::detail
