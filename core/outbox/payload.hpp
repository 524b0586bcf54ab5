// Reading an event's payload back into its typed event. A payload that is not a JSON
// object, or lacks a field its event requires, was written by a bug (or by hand): every
// error here is the internal "bad_event", naming the event and the field, so the
// dispatcher retries it and in the end parks it for a person to look at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"

namespace cunhuo::outbox {

inline constexpr const char* kBadEvent = "bad_event";

class PayloadReader {
 public:
  // `event` names the event in errors, e.g. "PaymentCaptured".
  static Result<PayloadReader> parse(std::string_view event, std::string_view payload);

  Result<std::int64_t> integer(std::string_view key) const;
  Result<std::vector<std::int64_t>> integers(std::string_view key) const;
  Result<bool> boolean(std::string_view key) const;
  Result<std::string> string(std::string_view key) const;
  // Absent (or null) gives nothing; present, it must be a string.
  Result<std::optional<std::string>> optional_string(std::string_view key) const;

 private:
  PayloadReader(std::string event, Json doc) : event_(std::move(event)), doc_(std::move(doc)) {}
  Result<const Json*> required(std::string_view key, Json::Type type) const;
  Error bad(std::string_view key, std::string_view what) const;

  std::string event_;
  Json doc_;
};

}  // namespace cunhuo::outbox
