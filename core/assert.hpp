// CUNHUO_ASSERT: an invariant that must never break (ledger sums, stock never negative, a
// conditional update that touched exactly one row). Unlike `assert`, it stays on in Release:
// a broken invariant in money or stock is worse than a stopped process, so it logs what broke
// and aborts. Errors a caller can handle are never asserted; they are Result values.
#pragma once

namespace cunhuo::detail {

[[noreturn]] void assertion_failed(const char* condition, const char* file, int line);

}  // namespace cunhuo::detail

#define CUNHUO_ASSERT(condition)                                          \
  do {                                                                    \
    if (!(condition)) [[unlikely]]                                        \
      ::cunhuo::detail::assertion_failed(#condition, __FILE__, __LINE__); \
  } while (false)
