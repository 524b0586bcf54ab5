// The OpenAPI 3.1 document, generated from the route table: every operation with its
// parameters, request and response schemas, security requirement, roles and error codes.
#include <algorithm>
#include <set>

#include "core/json.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {
namespace {

constexpr const char* kErrorSchema =
    R"({"type":"object","required":["error"],"properties":{"error":{"type":"object",)"
    R"("required":["code","message"],)"
    R"("properties":{"code":{"type":"string"},"message":{"type":"string"},)"
    R"("field":{"type":"string"}}}}})";

// "/api/v1/orders/:id" -> "/api/v1/orders/{id}"
std::string openapi_path(const std::string& pattern) {
  std::string out;
  bool in_param = false;
  for (char c : pattern) {
    if (c == ':') {
      out += '{';
      in_param = true;
    } else if (c == '/' && in_param) {
      out += "}/";
      in_param = false;
    } else {
      out += c;
    }
  }
  if (in_param) out += '}';
  return out;
}

std::vector<std::string> path_params(const std::string& pattern) {
  std::vector<std::string> out;
  for (std::size_t at = pattern.find(':'); at != std::string::npos;
       at = pattern.find(':', at + 1)) {
    const auto end = pattern.find('/', at);
    out.push_back(
        pattern.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1));
  }
  return out;
}

std::string operation_id(const Operation& op) {
  std::string id = ascii_lower(op.method);
  for (char c : op.pattern) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return id;
}

void write_parameters(JsonWriter& w, const Operation& op) {
  w.key("parameters").begin_array();
  for (const auto& name : path_params(op.pattern)) {
    w.begin_object().field("name", name).field("in", "path").field("required", true);
    w.key("schema").begin_object().field("type", "string").end_object().end_object();
  }
  for (const auto& q : op.query) {
    w.begin_object().field("name", q.name).field("in", "query").field("required", q.required);
    if (!q.description.empty()) w.field("description", q.description);
    w.key("schema").begin_object().field("type", q.type).end_object().end_object();
  }
  if (op.idempotent_post) {
    w.begin_object().field("name", "Idempotency-Key").field("in", "header").field("required", true);
    w.field("description",
            "The same key and body replay the first answer; another body is a 422; while the first "
            "runs, a 409");
    w.key("schema")
        .begin_object()
        .field("type", "string")
        .field("maxLength", static_cast<std::int64_t>(255))
        .end_object();
    w.end_object();
  }
  w.end_array();
}

void write_request_body(JsonWriter& w, const Operation& op) {
  if (op.body == Body::none) return;
  w.key("requestBody").begin_object().field("required", true).key("content").begin_object();
  if (op.body == Body::json) {
    w.key("application/json").begin_object().key("schema");
    if (!op.request_schema)
      w.begin_object().field("type", "object").end_object();
    else
      w.value(op.request_schema->json());
    w.end_object();
  } else {
    w.key("application/octet-stream")
        .begin_object()
        .key("schema")
        .begin_object()
        .field("type", "string");
    w.end_object().end_object();
  }
  w.end_object().end_object();
}

void write_error(JsonWriter& w, const char* status, const std::string& description) {
  w.key(status).begin_object().field("description", description).key("content").begin_object();
  w.key("application/json")
      .begin_object()
      .key("schema")
      .begin_object()
      .field("$ref", "#/components/schemas/Error");
  w.end_object().end_object().end_object().end_object();
}

// Every error code the operation can answer: its handler's own, and those of the checks
// the table and the server run before it.
std::string error_codes(const Operation& op) {
  std::vector<std::string> codes = op.errors;
  if (op.access.kind != Access::Kind::anyone) codes.push_back("unauthenticated");
  if (op.access.kind == Access::Kind::roles) codes.emplace_back(kRoleNotAllowed);
  if (op.access.names(Role::farmer)) codes.emplace_back(kHouseholdNotConfirmed);
  if (op.body == Body::json)
    codes.insert(codes.end(), {"malformed_json", "invalid_type", "missing_field", "unknown_field",
                               "unsupported_media_type"});
  if (op.body != Body::none) codes.push_back("body_too_large");
  if (!path_params(op.pattern).empty()) codes.push_back("not_found");
  codes.emplace_back(kUnknownParameter);
  if (op.idempotent_post)
    codes.insert(codes.end(), {"missing_idempotency_key", "invalid_idempotency_key",
                               "idempotency_key_reused", "request_in_progress"});
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c;
  return out;
}

void write_responses(JsonWriter& w, const Operation& op) {
  w.key("responses").begin_object();
  w.key(std::to_string(op.success_status)).begin_object().field("description", "Done");
  w.key("content").begin_object().key(op.response_type).begin_object().key("schema");
  if (op.response_schema)
    w.value(op.response_schema->json());
  else if (op.response_type == "application/json")
    w.begin_object().field("type", "object").end_object();
  else
    w.begin_object().field("type", "string").end_object();
  w.end_object();
  for (const auto& type : op.other_types) {
    w.key(type).begin_object().key("schema").begin_object().field("type", "string");
    w.end_object().end_object();
  }
  w.end_object().end_object();
  write_error(w, "4XX", "Refused; error.code is one of: " + error_codes(op));
  write_error(
      w, "503",
      "The store is busy, lost or full, or the server is draining; retry after Retry-After");
  w.end_object();
}

void write_operation(JsonWriter& w, const Operation& op) {
  w.key(ascii_lower(op.method))
      .begin_object()
      .field("operationId", operation_id(op))
      .field("summary", op.summary);
  w.key("x-roles").begin_array();
  if (op.access.kind == Access::Kind::roles)
    for (Role r : op.access.roles) w.value(to_string(r));
  else
    w.value(op.access.kind == Access::Kind::anyone ? "anyone" : "signed_in");
  w.end_array();
  w.key("security").begin_array();
  if (op.access.kind != Access::Kind::anyone)
    w.begin_object().key("bearer").begin_array().end_array().end_object();
  w.end_array();
  write_parameters(w, op);
  write_request_body(w, op);
  write_responses(w, op);
  w.end_object();
}

}  // namespace

std::string openapi_document(const RouteTable& table) {
  JsonWriter w;
  w.begin_object().field("openapi", "3.1.0");
  w.key("info").begin_object().field("title", "Cunhuo API").field("version", "0.1.0");
  w.field("description",
          "Rural e-commerce, cold-chain logistics and poverty-alleviation evidence. Money is "
          "integer fen.");
  w.key("license")
      .begin_object()
      .field("name", "Proprietary")
      .field("identifier", "LicenseRef-Cunhuo")
      .end_object();
  w.end_object();
  w.key("servers")
      .begin_array()
      .begin_object()
      .field("url", "http://127.0.0.1:8080")
      .end_object()
      .end_array();
  w.key("components")
      .begin_object()
      .key("securitySchemes")
      .begin_object()
      .key("bearer")
      .begin_object();
  w.field("type", "http").field("scheme", "bearer").end_object().end_object();
  w.key("schemas").begin_object().key("Error").raw(kErrorSchema).end_object().end_object();
  w.key("paths").begin_object();
  std::vector<std::string> paths;  // in the order first declared
  for (const auto& op : table.operations())
    if (std::find(paths.begin(), paths.end(), openapi_path(op.pattern)) == paths.end())
      paths.push_back(openapi_path(op.pattern));
  for (const auto& path : paths) {
    w.key(path).begin_object();
    for (const auto& op : table.operations())
      if (openapi_path(op.pattern) == path) write_operation(w, op);
    w.end_object();
  }
  w.end_object().end_object();
  return w.take();
}

}  // namespace cunhuo::storefront
