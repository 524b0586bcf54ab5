#include "storefront/route_table.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

// How deep a JSON Schema this checker follows; the declared ones are two or three deep.
constexpr int kMaxSchemaDepth = 8;

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

Error schema_error(std::string code, std::string message, const std::string& field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), field);
}

bool has_type(const Json& value, std::string_view type) {
  switch (value.type()) {
    case Json::Type::null: return type == "null";
    case Json::Type::boolean: return type == "boolean";
    case Json::Type::integer: return type == "integer" || type == "number";
    case Json::Type::number: return type == "number";
    case Json::Type::string: return type == "string";
    case Json::Type::array: return type == "array";
    case Json::Type::object: return type == "object";
  }
  return false;
}

// `type` may be one name or a list of names.
bool type_matches(const Json& value, const Json& type) {
  if (type.type() == Json::Type::string) return has_type(value, type.as_string());
  if (type.type() != Json::Type::array) return true;
  return std::any_of(type.as_array().begin(), type.as_array().end(), [&](const Json& t) {
    return t.type() == Json::Type::string && has_type(value, t.as_string());
  });
}

std::string type_names(const Json& type) {
  if (type.type() == Json::Type::string) return type.as_string();
  std::string out;
  for (const auto& t : type.as_array())
    out += (out.empty() ? "" : " or ") + (t.type() == Json::Type::string ? t.as_string() : "?");
  return out;
}

Status check_object(const Json& value, const Json& schema, const std::string& field, int depth);

Status check_at(const Json& value, const Json& schema, const std::string& field, int depth) {
  CUNHUO_ASSERT(depth <= kMaxSchemaDepth);
  if (const Json* type = schema.find("type"); type && !type_matches(value, *type))
    return schema_error("invalid_type", "expected " + type_names(*type), field);
  if (const Json* options = schema.find("enum")) {
    const auto& list = options->as_array();
    const bool listed = std::any_of(list.begin(), list.end(), [&](const Json& o) {
      if (o.is_null()) return value.is_null();
      return o.type() == Json::Type::string && value.type() == Json::Type::string &&
             o.as_string() == value.as_string();
    });
    if (!listed) return schema_error("invalid_value", "not one of the allowed values", field);
  }
  if (value.type() == Json::Type::string) {
    const std::size_t n = code_points(value.as_string());
    if (const Json* max = schema.find("maxLength");
        max && n > static_cast<std::size_t>(max->as_integer()))
      return schema_error("too_long",
                          "at most " + std::to_string(max->as_integer()) + " characters", field);
    if (const Json* min = schema.find("minLength");
        min && n < static_cast<std::size_t>(min->as_integer()))
      return schema_error("too_short",
                          "at least " + std::to_string(min->as_integer()) + " characters", field);
  }
  if (value.type() == Json::Type::integer) {
    if (const Json* max = schema.find("maximum"); max && value.as_integer() > max->as_integer())
      return schema_error("out_of_range", "at most " + std::to_string(max->as_integer()), field);
    if (const Json* min = schema.find("minimum"); min && value.as_integer() < min->as_integer())
      return schema_error("out_of_range", "at least " + std::to_string(min->as_integer()), field);
  }
  if (value.type() == Json::Type::array) {
    const auto& items = value.as_array();
    if (const Json* max = schema.find("maxItems");
        max && items.size() > static_cast<std::size_t>(max->as_integer()))
      return schema_error("too_many_items",
                          "at most " + std::to_string(max->as_integer()) + " items", field);
    if (const Json* item = schema.find("items"))
      for (std::size_t i = 0; i < items.size(); ++i)
        CUNHUO_CHECK(check_at(items[i], *item, field + "[" + std::to_string(i) + "]", depth + 1));
  }
  if (value.type() == Json::Type::object) CUNHUO_CHECK(check_object(value, schema, field, depth));
  return {};
}

Status check_object(const Json& value, const Json& schema, const std::string& field, int depth) {
  const std::string prefix = field.empty() ? "" : field + ".";
  if (const Json* required = schema.find("required"))
    for (const auto& name : required->as_array())
      if (!value.find(name.as_string()))
        return schema_error("missing_field", "field is required", prefix + name.as_string());
  const Json* properties = schema.find("properties");
  const Json* additional = schema.find("additionalProperties");
  const bool closed =
      additional && additional->type() == Json::Type::boolean && !additional->as_bool();
  const Json* rest = additional && additional->type() == Json::Type::object ? additional : nullptr;
  for (const auto& [name, member] : value.as_object()) {
    const Json* property = properties ? properties->find(name) : nullptr;
    if (!property) property = rest;  // a map's values
    if (!property) {
      if (closed) return schema_error("unknown_field", "no such field", prefix + name);
      continue;
    }
    CUNHUO_CHECK(check_at(member, *property, prefix + name, depth + 1));
  }
  return {};
}

// Checks the body of a JSON operation against the operation's schema. Without a schema the
// handler's own reader is the check, so the body is not parsed twice on the way in.
Status check_json_body(const Request& req, const Json* schema) {
  if (schema == nullptr || req.body.empty()) return {};  // the handler says whether it needs one
  const Json doc = CUNHUO_TRY(Json::parse(req.body));
  if (doc.type() != Json::Type::object)
    return schema_error("invalid_type", "the body is a JSON object", "");
  return check_against_schema(doc, *schema, "");
}

// A query parameter the operation does not declare is refused, so the published document
// lists every parameter a handler reads (a test that sends one proves it is declared).
Status check_query(const Request& req, const std::vector<QueryParam>& declared) {
  for (const auto& [name, value] : req.query) {
    auto it = std::find_if(declared.begin(), declared.end(),
                           [&](const QueryParam& q) { return q.name == name; });
    if (it == declared.end())
      return schema_error(std::string(kUnknownParameter), "no such query parameter", name);
    std::int64_t number = 0;
    const char* end = value.data() + value.size();
    if (it->type == "integer" &&
        (value.empty() || std::from_chars(value.data(), end, number).ptr != end))
      return schema_error("invalid_type", "expected a whole number", name);
  }
  for (const auto& q : declared)
    if (q.required && !req.query_param(q.name))
      return schema_error("missing_field", "query parameter is required", q.name);
  return {};
}

// What runs before every handler: who is calling, may they, is the request well formed.
struct Guard {
  Access access;
  Body body = Body::none;
  std::shared_ptr<const Json> schema;  // null: any object
  std::vector<QueryParam> query;       // the declared query parameters

  Result<std::optional<Account>> admit(Auth& auth, const Request& req) const {
    std::optional<Account> account;
    if (access.kind != Access::Kind::anyone) {
      account = CUNHUO_TRY(auth.authenticate(req));
      if (!access.admits(account->role))
        return make_error(ErrorKind::forbidden, std::string(kRoleNotAllowed),
                          "your role cannot do this");
      if (access.names(Role::farmer) && account->role == Role::farmer && !account->household_id)
        return make_error(ErrorKind::forbidden, std::string(kHouseholdNotConfirmed),
                          "an office has not yet confirmed your household");
    }
    CUNHUO_CHECK(check_query(req, query));
    if (body == Body::json) CUNHUO_CHECK(check_json_body(req, schema.get()));
    return account;
  }
};

std::shared_ptr<const Json> schema_of(const std::optional<schema::Schema>& declared) {
  if (!declared) return nullptr;
  return std::make_shared<const Json>(declared->json());
}

bool is_json(const Response& response) {
  return response.content_type.rfind("application/json", 0) == 0;
}

// A success answer its operation's schema does not describe becomes a 500 naming the field:
// the check that keeps the OpenAPI document true, on in tests.
struct AnswerCheck {
  std::shared_ptr<const Json> schema;  // null: not checked
  std::string where;

  Response operator()(Response response) const {
    if (!schema || response.status >= 300 || !is_json(response)) return response;
    Status ok = [&]() -> Status {
      const Json doc = CUNHUO_TRY(Json::parse(response.body));
      return check_against_schema(doc, *schema, "");
    }();
    if (ok.ok()) return response;
    std::fprintf(stderr, "%s answered outside its response schema: %s %s\n", where.c_str(),
                 ok.error().field.c_str(), ok.error().message.c_str());
    return error_response(make_error(ErrorKind::internal, std::string(kResponseSchemaMismatch),
                                     ok.error().message, ok.error().field));
  }
};

}  // namespace

bool Access::admits(Role role) const {
  if (kind != Kind::roles) return true;
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Access::names(Role role) const { return kind == Kind::roles && admits(role); }

Access anyone() { return Access{}; }
Access signed_in() { return Access{.kind = Access::Kind::signed_in, .roles = {}}; }
Access only(std::initializer_list<Role> roles) {
  return Access{.kind = Access::Kind::roles, .roles = roles};
}

const Account& Call::caller() const {
  CUNHUO_ASSERT(account != nullptr);
  return *account;
}

Status check_against_schema(const Json& value, const Json& schema, const std::string& field) {
  return check_at(value, schema, field, 0);
}

void RouteTable::add(Operation op) {
  const bool fresh = declared_.emplace(op.method, op.pattern).second;
  if (!fresh)
    std::fprintf(stderr, "route %s %s is declared twice\n", op.method.c_str(), op.pattern.c_str());
  CUNHUO_ASSERT(fresh);
  CUNHUO_ASSERT(static_cast<bool>(op.handler) != static_cast<bool>(op.async_handler));
  CUNHUO_ASSERT(op.access.kind != Access::Kind::roles || !op.access.roles.empty());
  const Guard guard{.access = op.access,
                    .body = op.body,
                    .schema = schema_of(op.request_schema),
                    .query = op.query};
  const AnswerCheck check{check_responses_ ? schema_of(op.response_schema) : nullptr,
                          op.method + " " + op.pattern};
  Route route{
      .method = op.method,
      .pattern = op.pattern,
      .handler = nullptr,
      .max_body = op.max_body,
      .takes_json = op.body == Body::json,
      .summary = op.summary,
      .async_handler = nullptr,
      // A raw body (a photo) is large: its caller is known from the headers first.
      .authenticate_before_body = op.body == Body::raw && op.access.kind != Access::Kind::anyone};
  Auth& auth = auth_;
  if (op.handler) {
    route.handler = [guard, check, &auth, handler = op.handler,
                     admission = op.admission](const Request& req) {
      if (admission)
        if (auto refused = admission(req)) return *refused;
      auto account = guard.admit(auth, req);
      if (!account.ok()) return error_response(account.error());
      return check(respond(handler(Call{req, *account ? &**account : nullptr})));
    };
  } else {
    route.async_handler = [guard, check, &auth, handler = op.async_handler,
                           admission = op.admission](const Request& req, Respond respond_later) {
      if (admission)
        if (auto refused = admission(req)) return respond_later(std::move(*refused));
      auto account = guard.admit(auth, req);
      if (!account.ok()) return respond_later(error_response(account.error()));
      Respond checked = [check, respond_later = std::move(respond_later)](Response r) {
        respond_later(check(std::move(r)));
      };
      handler(Call{req, *account ? &**account : nullptr}, std::move(checked));
    };
  }
  router_.add(std::move(route));
  op.handler = nullptr;
  op.async_handler = nullptr;
  op.admission = nullptr;
  operations_.push_back(std::move(op));
}

}  // namespace cunhuo::storefront
