// Errors that callers handle are values. Result<T> holds either a T or an Error;
// Result<void> (Status) holds either nothing or an Error.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cunhuo {

// What went wrong, in terms a caller can act on. The HTTP edge maps each kind to a
// status code; nothing below the edge knows about HTTP.
enum class ErrorKind {
  invalid,        // malformed or wrong input (400)
  unauthorized,   // no or bad credentials (401)
  forbidden,      // known caller, not allowed (403)
  not_found,      // unknown id, or an object the caller may not see (404)
  conflict,       // state does not allow it, or a concurrent duplicate (409)
  too_large,      // over an explicit limit (413)
  unsupported,    // media type we do not take (415)
  unprocessable,  // well-formed but refused, e.g. an idempotency key reused (422)
  unavailable,    // a dependency is down or busy (503)
  internal,       // a bug or a failed invariant (500)
};

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string code;     // stable machine-readable code, e.g. "invalid_type"
  std::string message;  // human-readable, safe to show (never personal data)
  std::string field;    // offending input field path, when there is one
};

inline Error make_error(ErrorKind kind, std::string code, std::string message,
                        std::string field = {}) {
  return Error{kind, std::move(code), std::move(message), std::move(field)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace cunhuo

#define CUNHUO_CONCAT_(a, b) a##b
#define CUNHUO_CONCAT(a, b) CUNHUO_CONCAT_(a, b)

// Propagates an error to the caller, otherwise yields the value.
// Uses a GNU statement expression, supported by GCC and Clang.
#define CUNHUO_TRY(expr) CUNHUO_TRY_IMPL(expr, CUNHUO_CONCAT(cunhuo_try_, __COUNTER__))
#define CUNHUO_TRY_IMPL(expr, var)     \
  ({                                   \
    auto var = (expr);                 \
    if (!var.ok()) return var.error(); \
    std::move(var).value();            \
  })

// Propagates an error from a Status (or any Result whose value is not needed).
#define CUNHUO_CHECK(expr) CUNHUO_CHECK_IMPL(expr, CUNHUO_CONCAT(cunhuo_check_, __COUNTER__))
#define CUNHUO_CHECK_IMPL(expr, var)   \
  do {                                 \
    auto var = (expr);                 \
    if (!var.ok()) return var.error(); \
  } while (0)
