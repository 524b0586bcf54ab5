#include "core/outbox/payload.hpp"

namespace cunhuo::outbox {

Result<PayloadReader> PayloadReader::parse(std::string_view event, std::string_view payload) {
  auto doc = Json::parse(payload);
  if (!doc.ok())
    return make_error(ErrorKind::internal, kBadEvent,
                      std::string(event) + " payload is not JSON: " + doc.error().message);
  if (doc->type() != Json::Type::object)
    return make_error(ErrorKind::internal, kBadEvent,
                      std::string(event) + " payload is not a JSON object");
  return PayloadReader(std::string(event), std::move(*doc));
}

Error PayloadReader::bad(std::string_view key, std::string_view what) const {
  return make_error(ErrorKind::internal, kBadEvent,
                    event_ + ": " + std::string(key) + " " + std::string(what), std::string(key));
}

Result<const Json*> PayloadReader::required(std::string_view key, Json::Type type) const {
  const Json* v = doc_.find(key);
  if (!v) return bad(key, "is missing");
  if (v->type() != type) return bad(key, std::string("is not ") + json_type_name(type));
  return v;
}

Result<std::int64_t> PayloadReader::integer(std::string_view key) const {
  return CUNHUO_TRY(required(key, Json::Type::integer))->as_integer();
}

Result<std::vector<std::int64_t>> PayloadReader::integers(std::string_view key) const {
  const Json* items = CUNHUO_TRY(required(key, Json::Type::array));
  std::vector<std::int64_t> out;
  for (const Json& item : items->as_array()) {
    if (item.type() != Json::Type::integer) return bad(key, "holds something not an integer");
    out.push_back(item.as_integer());
  }
  return out;
}

Result<bool> PayloadReader::boolean(std::string_view key) const {
  return CUNHUO_TRY(required(key, Json::Type::boolean))->as_bool();
}

Result<std::string> PayloadReader::string(std::string_view key) const {
  return CUNHUO_TRY(required(key, Json::Type::string))->as_string();
}

Result<std::optional<std::string>> PayloadReader::optional_string(std::string_view key) const {
  const Json* v = doc_.find(key);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (v->type() != Json::Type::string) return bad(key, "is not a string");
  return std::optional<std::string>(v->as_string());
}

}  // namespace cunhuo::outbox
