// JSON Schemas of request and response bodies, built from named parts instead of text:
//
//   const Schema kNewCampaign = object({
//       required("title", text(kMaxCampaignTitle)),
//       required("starts_at", timestamp()),
//       optional("note", nullable(text(200))),
//   });
//
// An object is closed (additionalProperties false) so the table refuses an unknown field and
// a response check catches a field the document does not list; `map_of` is the one open form.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace cunhuo::storefront::schema {

class Schema {
 public:
  Schema() = default;  // {}: any value
  explicit Schema(Json::Object members) : members_(std::move(members)) {}

  std::string text() const;  // the schema as JSON text
  Json json() const { return Json::of(members_); }
  Schema described(std::string_view description) const;
  const Json::Object& members() const { return members_; }

 private:
  Json::Object members_;
};

struct Property {
  std::string name;
  Schema schema;
  bool required = false;
};

Property required(std::string name, Schema schema);
Property optional(std::string name, Schema schema);

Schema any();
Schema boolean();
Schema number();
Schema integer(std::int64_t min = std::numeric_limits<std::int64_t>::min(),
               std::int64_t max = std::numeric_limits<std::int64_t>::max());
Schema id();  // a positive integer naming a row
Schema fen(std::int64_t max = std::numeric_limits<std::int64_t>::max());  // money, >= 0
Schema text(std::size_t max_chars, std::size_t min_chars = 0);
Schema text();           // a string of any length (answers only)
Schema timestamp();      // milliseconds since the epoch
Schema utc_time();       // "2026-11-25T00:41:26Z", as format_utc writes
Schema shanghai_time();  // "2026-11-25T08:41:26+08:00", format_shanghai's
Schema date();           // "2026-11-25"
Schema choice(std::initializer_list<std::string_view> values);
Schema choice(const std::vector<std::string>& values);
Schema array(const Schema& items, std::size_t max_items);
Schema array(const Schema& items);  // any length (answers only)
Schema object(std::initializer_list<Property> properties);
Schema object(const std::vector<Property>& properties);
Schema map_of(const Schema& values);    // an object whose keys are data
Schema nullable(const Schema& schema);  // also null

// An answer that is a list under one key, e.g. {"items":[...]}.
Schema list_of(std::string key, const Schema& items);

// "a, b or c", for a description.
std::string one_of(const std::vector<std::string>& names);

// A name read as text: its module answers its own code (invalid_kind, invalid_mode...) for a
// name it does not know, so the schema describes the names without refusing others first.
Schema name_among(std::size_t max_chars, const std::vector<std::string>& names);

// Every name of an enumeration numbered from 0, read from its module's to_string table (which
// answers "" past the last value), so a schema lists what the code accepts.
template <class E>
std::vector<std::string> enum_names() {
  std::vector<std::string> names;
  for (int i = 0;; ++i) {
    const std::string_view name = to_string(static_cast<E>(i));
    if (name.empty()) return names;
    names.emplace_back(name);
  }
}

}  // namespace cunhuo::storefront::schema
