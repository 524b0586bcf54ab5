#include "storefront/schema.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace cunhuo::storefront::schema {
namespace {

Json str(std::string_view s) { return Json::of(std::string(s)); }
Json num(std::int64_t n) { return Json::of(n); }

Schema typed(std::string_view type, Json::Object more = {}) {
  Json::Object members{{"type", str(type)}};
  for (auto& m : more) members.push_back(std::move(m));
  return Schema(std::move(members));
}

Json::Array names(const std::vector<std::string>& values) {
  Json::Array out;
  for (const auto& v : values) out.push_back(str(v));
  return out;
}

}  // namespace

std::string Schema::text() const {
  JsonWriter w;
  w.value(json());
  return w.take();
}

// A part that has a description already (shanghai_time's) gets the new one after it, so a
// schema never names a member twice.
Schema Schema::described(std::string_view description) const {
  Json::Object members = members_;
  for (auto& [name, value] : members)
    if (name == "description") {
      value = str(value.as_string() + "; " + std::string(description));
      return Schema(std::move(members));
    }
  members.emplace_back("description", str(description));
  return Schema(std::move(members));
}

Property required(std::string name, Schema schema) {
  return Property{.name = std::move(name), .schema = std::move(schema), .required = true};
}
Property optional(std::string name, Schema schema) {
  return Property{.name = std::move(name), .schema = std::move(schema), .required = false};
}

Schema any() { return Schema(); }
Schema boolean() { return typed("boolean"); }
Schema number() { return typed("number"); }

Schema integer(std::int64_t min, std::int64_t max) {
  CUNHUO_ASSERT(min <= max);
  Json::Object more;
  if (min != std::numeric_limits<std::int64_t>::min()) more.emplace_back("minimum", num(min));
  if (max != std::numeric_limits<std::int64_t>::max()) more.emplace_back("maximum", num(max));
  return typed("integer", std::move(more));
}

Schema id() { return integer(1); }
Schema fen(std::int64_t max) { return integer(0, max).described("fen (1/100 yuan)"); }
Schema timestamp() { return integer(0).described("milliseconds since 1970-01-01 UTC"); }
Schema utc_time() { return typed("string", {{"format", str("date-time")}}); }
Schema shanghai_time() { return utc_time().described("Asia/Shanghai time, +08:00"); }
Schema date() { return typed("string", {{"format", str("date")}, {"maxLength", num(10)}}); }

Schema text(std::size_t max_chars, std::size_t min_chars) {
  CUNHUO_ASSERT(min_chars <= max_chars);
  Json::Object more{{"maxLength", num(static_cast<std::int64_t>(max_chars))}};
  if (min_chars > 0) more.emplace_back("minLength", num(static_cast<std::int64_t>(min_chars)));
  return typed("string", std::move(more));
}
Schema text() { return typed("string"); }

Schema choice(std::initializer_list<std::string_view> values) {
  std::vector<std::string> list(values.begin(), values.end());
  return choice(list);
}
Schema choice(const std::vector<std::string>& values) {
  CUNHUO_ASSERT(!values.empty());
  return typed("string", {{"enum", Json::of(names(values))}});
}

Schema array(const Schema& items, std::size_t max_items) {
  return typed("array",
               {{"maxItems", num(static_cast<std::int64_t>(max_items))}, {"items", items.json()}});
}
Schema array(const Schema& items) { return typed("array", {{"items", items.json()}}); }

Schema object(std::initializer_list<Property> properties) {
  return object(std::vector<Property>(properties));
}

Schema object(const std::vector<Property>& properties) {
  Json::Object props;
  std::vector<std::string> needed;
  for (const auto& p : properties) {
    const bool fresh =
        std::none_of(props.begin(), props.end(), [&](const auto& m) { return m.first == p.name; });
    CUNHUO_ASSERT(fresh);
    props.emplace_back(p.name, p.schema.json());
    if (p.required) needed.push_back(p.name);
  }
  Json::Object more{{"additionalProperties", Json::of(false)}, {"properties", Json::of(props)}};
  if (!needed.empty()) more.emplace_back("required", Json::of(names(needed)));
  return typed("object", std::move(more));
}

Schema map_of(const Schema& values) {
  return typed("object", {{"additionalProperties", values.json()}});
}

// {"type":"string",...} becomes {"type":["string","null"],...}; an enum also lists null.
Schema nullable(const Schema& schema) {
  Json::Object members;
  bool typed_schema = false;
  for (const auto& [key, value] : schema.members()) {
    if (key == "type") {
      CUNHUO_ASSERT(value.type() == Json::Type::string);
      members.emplace_back(key, Json::of(Json::Array{value, str("null")}));
      typed_schema = true;
    } else if (key == "enum") {
      Json::Array list = value.as_array();
      list.push_back(Json());
      members.emplace_back(key, Json::of(std::move(list)));
    } else {
      members.emplace_back(key, value);
    }
  }
  CUNHUO_ASSERT(typed_schema);  // any() already admits null
  return Schema(std::move(members));
}

Schema list_of(std::string key, const Schema& items) {
  return object({required(std::move(key), array(items))});
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

Schema name_among(std::size_t max_chars, const std::vector<std::string>& names) {
  return text(max_chars).described(one_of(names));
}

}  // namespace cunhuo::storefront::schema
