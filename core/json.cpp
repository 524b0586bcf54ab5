#include "core/json.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace cunhuo {
namespace {

constexpr std::size_t kMaxDepth = 64;
constexpr std::size_t kInitialCapacity = 64 * 1024;

Error parse_error(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return make_error(ErrorKind::invalid, "invalid_utf8", "request body is not valid UTF-8");
    case simdjson::DEPTH_ERROR:
      return make_error(ErrorKind::invalid, "too_deep", "JSON nesting is deeper than 64 levels");
    case simdjson::CAPACITY:
      return make_error(ErrorKind::too_large, "too_large", "JSON document is too large");
    default:
      return make_error(
          ErrorKind::invalid, "malformed_json",
          std::string("request body is not valid JSON: ") + simdjson::error_message(code));
  }
}

Result<Json> convert(simdjson::dom::element e);

Result<Json> convert_object(simdjson::dom::object obj) {
  Json::Object out;
  out.reserve(obj.size());
  std::unordered_set<std::string_view> seen;
  for (auto field : obj) {
    if (!seen.insert(field.key).second)
      return make_error(ErrorKind::invalid, "duplicate_field", "field appears twice",
                        std::string(field.key));
    auto value = CUNHUO_TRY(convert(field.value));
    out.emplace_back(std::string(field.key), std::move(value));
  }
  return Json::of(std::move(out));
}

Result<Json> convert(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE: return Json();
    case T::BOOL: return Json::of(bool(e.get_bool().value()));
    case T::INT64: return Json::of(std::int64_t(e.get_int64().value()));
    // Beyond int64: kept as a number so integer fields report it as out of range.
    case T::UINT64: return Json::of(double(e.get_uint64().value()));
    case T::DOUBLE: return Json::of(double(e.get_double().value()));
    case T::STRING: return Json::of(std::string(e.get_string().value()));
    case T::ARRAY: {
      Json::Array out;
      for (auto item : e.get_array()) out.push_back(CUNHUO_TRY(convert(item)));
      return Json::of(std::move(out));
    }
    case T::OBJECT: return convert_object(e.get_object().value());
  }
  return make_error(ErrorKind::internal, "json", "unknown JSON element type");
}

Error type_error(const std::string& field, Json::Type expected, const Json& got) {
  return make_error(
      ErrorKind::invalid, "invalid_type",
      std::string("expected ") + json_type_name(expected) + ", got " + json_type_name(got.type()),
      field);
}

}  // namespace

const char* json_type_name(Json::Type type) {
  switch (type) {
    case Json::Type::null: return "null";
    case Json::Type::boolean: return "boolean";
    case Json::Type::integer: return "integer";
    case Json::Type::number: return "number";
    case Json::Type::string: return "string";
    case Json::Type::array: return "array";
    case Json::Type::object: return "object";
  }
  return "unknown";
}

Result<Json> Json::parse(std::string_view text) {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    auto err = p.allocate(kInitialCapacity, kMaxDepth);
    (void)err;  // on failure parse() reports it
    return p;
  }();
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) return parse_error(err);
  return convert(root);
}

double Json::as_number() const {
  return type() == Type::integer ? static_cast<double>(std::get<std::int64_t>(value_))
                                 : std::get<double>(value_);
}

const Json* Json::find(std::string_view key) const {
  if (type() != Type::object) return nullptr;
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

// ---- FieldReader ----

Result<FieldReader> FieldReader::root(const Json& doc) {
  if (doc.type() != Json::Type::object)
    return make_error(
        ErrorKind::invalid, "invalid_type",
        std::string("request body must be a JSON object, got ") + json_type_name(doc.type()));
  return FieldReader(&doc, "");
}

std::string FieldReader::field_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool FieldReader::has(std::string_view key) const {
  const Json* v = object_->find(key);
  return v != nullptr && !v->is_null();
}

Result<const Json*> FieldReader::optional(std::string_view key, Json::Type type) const {
  const Json* v = object_->find(key);
  if (v == nullptr || v->is_null()) return static_cast<const Json*>(nullptr);
  if (v->type() != type) {
    // An integer written as 3.0 is still a whole number; 3.5 is not.
    bool whole = type == Json::Type::integer && v->type() == Json::Type::number;
    if (!whole) return type_error(field_path(key), type, *v);
  }
  return v;
}

Result<const Json*> FieldReader::required(std::string_view key, Json::Type type) const {
  const Json* v = CUNHUO_TRY(optional(key, type));
  if (v == nullptr)
    return make_error(ErrorKind::invalid, "missing_field",
                      std::string("field is required (") + json_type_name(type) + ")",
                      field_path(key));
  return v;
}

Result<std::string> FieldReader::string(std::string_view key, std::size_t max_bytes) const {
  auto v = CUNHUO_TRY(optional_string(key, max_bytes));
  if (!v)
    return make_error(ErrorKind::invalid, "missing_field", "field is required (string)",
                      field_path(key));
  return std::move(*v);
}

Result<std::optional<std::string>> FieldReader::optional_string(std::string_view key,
                                                                std::size_t max_bytes) const {
  const Json* v = CUNHUO_TRY(optional(key, Json::Type::string));
  if (v == nullptr) return std::optional<std::string>();
  if (v->as_string().size() > max_bytes)
    return make_error(ErrorKind::invalid, "too_long",
                      "at most " + std::to_string(max_bytes) + " bytes", field_path(key));
  return std::optional<std::string>(v->as_string());
}

Result<std::int64_t> FieldReader::integer(std::string_view key, std::int64_t min,
                                          std::int64_t max) const {
  auto v = CUNHUO_TRY(optional_integer(key, min, max));
  if (!v)
    return make_error(ErrorKind::invalid, "missing_field", "field is required (integer)",
                      field_path(key));
  return *v;
}

Result<std::optional<std::int64_t>> FieldReader::optional_integer(std::string_view key,
                                                                  std::int64_t min,
                                                                  std::int64_t max) const {
  const Json* v = CUNHUO_TRY(optional(key, Json::Type::integer));
  if (v == nullptr) return std::optional<std::int64_t>();
  auto range_error = [&] {
    return make_error(
        ErrorKind::invalid, "out_of_range",
        "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max),
        field_path(key));
  };
  std::int64_t n = 0;
  if (v->type() == Json::Type::number) {
    double d = v->as_number();
    if (std::trunc(d) != d) return type_error(field_path(key), Json::Type::integer, *v);
    if (d < -9.2e18 || d > 9.2e18) return range_error();
    n = static_cast<std::int64_t>(d);
  } else {
    n = v->as_integer();
  }
  if (n < min || n > max) return range_error();
  return std::optional<std::int64_t>(n);
}

Result<bool> FieldReader::boolean(std::string_view key) const {
  const Json* v = CUNHUO_TRY(required(key, Json::Type::boolean));
  return v->as_bool();
}

Result<std::optional<bool>> FieldReader::optional_boolean(std::string_view key) const {
  const Json* v = CUNHUO_TRY(optional(key, Json::Type::boolean));
  return v == nullptr ? std::optional<bool>() : std::optional<bool>(v->as_bool());
}

Result<FieldReader> FieldReader::object(std::string_view key) const {
  const Json* v = CUNHUO_TRY(required(key, Json::Type::object));
  return FieldReader(v, field_path(key));
}

Result<std::vector<FieldReader>> FieldReader::objects(std::string_view key,
                                                      std::size_t max_items) const {
  const Json* v = CUNHUO_TRY(required(key, Json::Type::array));
  const auto& items = v->as_array();
  if (items.size() > max_items)
    return make_error(ErrorKind::invalid, "too_many_items",
                      "at most " + std::to_string(max_items) + " items", field_path(key));
  std::vector<FieldReader> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string item_path = field_path(key) + "[" + std::to_string(i) + "]";
    if (items[i].type() != Json::Type::object)
      return type_error(item_path, Json::Type::object, items[i]);
    out.push_back(FieldReader(&items[i], item_path));
  }
  return out;
}

Result<std::vector<std::string>> FieldReader::strings(std::string_view key, std::size_t max_items,
                                                      std::size_t max_bytes) const {
  const Json* v = CUNHUO_TRY(optional(key, Json::Type::array));
  std::vector<std::string> out;
  if (v == nullptr) return out;
  const auto& items = v->as_array();
  if (items.size() > max_items)
    return make_error(ErrorKind::invalid, "too_many_items",
                      "at most " + std::to_string(max_items) + " items", field_path(key));
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string item_path = field_path(key) + "[" + std::to_string(i) + "]";
    if (items[i].type() != Json::Type::string)
      return type_error(item_path, Json::Type::string, items[i]);
    if (items[i].as_string().size() > max_bytes)
      return make_error(ErrorKind::invalid, "too_long",
                        "at most " + std::to_string(max_bytes) + " bytes", item_path);
    out.push_back(items[i].as_string());
  }
  return out;
}

Status FieldReader::only(std::initializer_list<std::string_view> known) const {
  for (const auto& [k, v] : object_->as_object()) {
    bool found = false;
    for (auto name : known) found = found || name == k;
    if (!found)
      return make_error(ErrorKind::invalid, "unknown_field", "field is not recognised",
                        field_path(k));
  }
  return {};
}

// ---- writing ----

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  auto escape_u = [&](unsigned cp) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 0xF];
  };
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        // <, > and & are escaped so JSON can be inlined in a page without closing a tag.
        case '<':
        case '>':
        case '&':
        case 0x7F: escape_u(c); break;
        default:
          if (c < 0x20)
            escape_u(c);
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; anything malformed becomes U+FFFD.
    std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    unsigned cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool valid = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      valid = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (valid) {
      const unsigned min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      valid = cp >= min_cp && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!valid) {
      escape_u(0xFFFD);
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029)
      escape_u(cp);  // line separators break JavaScript string literals
    else
      out.append(s.substr(i, len));
    i += len;
  }
  out += '"';
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_items_.empty()) {
    if (has_items_.back()) out_ += ',';
    has_items_.back() = true;
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(!has_items_.empty() && !after_key_);
  has_items_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!has_items_.empty() && !after_key_);
  has_items_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!after_key_);
  before_value();
  append_json_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  append_json_string(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  before_value();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  before_value();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  before_value();
  if (!std::isfinite(number)) {
    out_ += "null";  // JSON has no NaN or infinity
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", number);
  out_ += buf;
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(const Json& json) {
  switch (json.type()) {
    case Json::Type::null: return null();
    case Json::Type::boolean: return value(json.as_bool());
    case Json::Type::integer: return value(json.as_integer());
    case Json::Type::number: return value(json.as_number());
    case Json::Type::string: return value(json.as_string());
    case Json::Type::array:
      begin_array();
      for (const auto& item : json.as_array()) value(item);
      return end_array();
    case Json::Type::object:
      begin_object();
      for (const auto& [k, v] : json.as_object()) {
        key(k);
        value(v);
      }
      return end_object();
  }
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

}  // namespace cunhuo
