// JSON in and out. Parsing uses simdjson (which also rejects invalid UTF-8) and yields
// an immutable tree; FieldReader reads request fields with errors that name the field
// and the expected type. JsonWriter escapes every string so the output is valid UTF-8
// JSON that is also safe to inline in HTML.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace cunhuo {

class Json {
 public:
  enum class Type { null, boolean, integer, number, string, array, object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  static Result<Json> parse(std::string_view text);

  Type type() const { return static_cast<Type>(value_.index()); }
  bool is_null() const { return type() == Type::null; }
  bool as_bool() const { return std::get<bool>(value_); }
  std::int64_t as_integer() const { return std::get<std::int64_t>(value_); }
  double as_number() const;  // integer or number
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const Array& as_array() const { return std::get<Array>(value_); }
  const Object& as_object() const { return std::get<Object>(value_); }
  const Json* find(std::string_view key) const;  // nullptr if absent or not an object

  static Json of(std::nullptr_t) { return Json(); }
  static Json of(bool v) {
    Json j;
    j.value_ = v;
    return j;
  }
  static Json of(std::int64_t v) {
    Json j;
    j.value_ = v;
    return j;
  }
  static Json of(double v) {
    Json j;
    j.value_ = v;
    return j;
  }
  static Json of(std::string v) {
    Json j;
    j.value_ = std::move(v);
    return j;
  }
  static Json of(Array v) {
    Json j;
    j.value_ = std::move(v);
    return j;
  }
  static Json of(Object v) {
    Json j;
    j.value_ = std::move(v);
    return j;
  }

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_ =
      nullptr;
};

const char* json_type_name(Json::Type type);

// Reads the fields of one JSON object. Every error names the field path, such as
// "items[2].quantity", and says what type was expected.
class FieldReader {
 public:
  // The request body must be a JSON object.
  static Result<FieldReader> root(const Json& doc);

  Result<std::string> string(std::string_view key, std::size_t max_bytes = 1024) const;
  Result<std::optional<std::string>> optional_string(std::string_view key,
                                                     std::size_t max_bytes = 1024) const;
  Result<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  Result<std::optional<std::int64_t>> optional_integer(std::string_view key, std::int64_t min,
                                                       std::int64_t max) const;
  Result<bool> boolean(std::string_view key) const;
  Result<std::optional<bool>> optional_boolean(std::string_view key) const;
  Result<FieldReader> object(std::string_view key) const;
  Result<std::vector<FieldReader>> objects(std::string_view key, std::size_t max_items) const;
  Result<std::vector<std::string>> strings(std::string_view key, std::size_t max_items,
                                           std::size_t max_bytes) const;
  bool has(std::string_view key) const;
  // Refuses any field not in `known`: a misspelt field is an error, not silently ignored.
  Status only(std::initializer_list<std::string_view> known) const;
  const std::string& path() const { return path_; }

 private:
  FieldReader(const Json* object, std::string path) : object_(object), path_(std::move(path)) {}
  std::string field_path(std::string_view key) const;
  Result<const Json*> required(std::string_view key, Json::Type type) const;
  Result<const Json*> optional(std::string_view key, Json::Type type) const;

  const Json* object_;
  std::string path_;
};

void append_json_string(std::string& out, std::string_view text);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(double number);
  JsonWriter& null();
  JsonWriter& value(const Json& json);
  // Inserts already-serialised JSON (trusted, produced by another JsonWriter).
  JsonWriter& raw(std::string_view json);
  template <class T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> has_items_;  // one entry per open container
  bool after_key_ = false;
};

}  // namespace cunhuo
