// The one declaration of every API operation: method and pattern, who may call it, what
// body it takes (kind, limit, JSON Schema), its query parameters, the error codes it can
// answer, a summary, and its handler. Declared with designated initializers:
//
//   table.add({.method = "POST", .pattern = "/api/v1/evaluation-models",
//              .access = only({Role::poverty_office, Role::admin}),
//              .body = Body::json, .request_schema = kModelSchema,
//              .errors = {"county_office_only", "outside_your_area"},
//              .summary = "A new version of the county's evaluation model",
//              .handler = [ctx](const Call& call) { return add_model(ctx, call); }});
//
// Before the handler runs, the table authenticates the caller, checks the role against
// `access`, and for a JSON body parses it and checks it against the schema; so no handler
// repeats who may call it. The OpenAPI document is generated from these declarations, and
// a second declaration of one method and pattern stops the start.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "storefront/auth.hpp"
#include "storefront/http.hpp"
#include "storefront/schema.hpp"

namespace cunhuo::storefront {

// The error code of an answer that its operation's response schema does not describe.
inline constexpr std::string_view kResponseSchemaMismatch = "response_schema_mismatch";

// The error code of a query parameter the operation does not declare (400).
inline constexpr std::string_view kUnknownParameter = "unknown_parameter";

// The error code of a caller whose role the operation's access does not admit (403).
inline constexpr std::string_view kRoleNotAllowed = "role_not_allowed";

// The error code of a farmer whose account no office has yet tied to a household (403),
// calling an operation that names farmers: they act for no household until confirmed.
inline constexpr std::string_view kHouseholdNotConfirmed = "household_not_confirmed";

// Who may call an operation: anyone, any signed-in account, or only the listed roles.
struct Access {
  enum class Kind { anyone, signed_in, roles };
  Kind kind = Kind::anyone;
  std::vector<Role> roles;  // for Kind::roles

  bool admits(Role role) const;
  bool names(Role role) const;  // listed among the roles (not merely any signed-in account)
};
Access anyone();
Access signed_in();
Access only(std::initializer_list<Role> roles);

// What an operation's request body is.
enum class Body {
  none,  // no body (GET, or a POST whose meaning is in its path)
  json,  // application/json, checked against the request schema
  raw,   // bytes of their own type (a photo, a downloaded statement); a caller who must sign
         // in is authenticated from the headers before the body is read
};

struct QueryParam {
  std::string name;
  std::string type = "string";  // JSON Schema type: string, integer, boolean
  std::string description;
  bool required = false;
};

// One call of an operation: the request and, unless the operation is for anyone, the
// authenticated caller whose role the table has checked.
struct Call {
  const Request& request;
  const Account* account = nullptr;

  const Account& caller() const;  // asserts that the operation was not for anyone
  bool signed_in() const { return account != nullptr; }
};

using CallHandler = std::function<Result<Response>(const Call&)>;
// Runs before every other check and may answer instead (a rate limit that must count every
// attempt, a well-formed one or not).
using Admission = std::function<std::optional<Response>(const Request&)>;
using AsyncCallHandler = std::function<void(const Call&, Respond)>;

struct Operation {
  std::string method, pattern;
  Access access;
  Body body = Body::none;
  std::int64_t max_body = -1;                      // bytes; -1: the server's JSON limit
  std::optional<schema::Schema> request_schema;    // of a JSON body; unset: the handler reads it
  std::optional<schema::Schema> response_schema;   // of a JSON success answer
  std::string response_type = "application/json";  // or the media type of another answer
  std::vector<std::string> other_types;            // further media types, by ?format=
  int success_status = 200;
  std::vector<QueryParam> query;
  std::vector<std::string> errors;  // the error codes its handler itself can answer
  std::string summary;
  CallHandler handler;  // or, when set, async_handler answers
  AsyncCallHandler async_handler = nullptr;
  bool idempotent_post = false;  // takes an Idempotency-Key header (money or orders)
  Admission admission = nullptr;
};

class RouteTable {
 public:
  RouteTable(Router& router, Auth& auth) : router_(router), auth_(auth) {}

  // From now on, every JSON success answer is checked against its operation's response
  // schema; one that does not match becomes a 500 `response_schema_mismatch` naming the
  // field. For tests, so that the whole suite proves the published document.
  void check_responses() { check_responses_ = true; }

  // Registers `op` with the router, wrapped in its access and body checks.
  void add(Operation op);
  // Every operation, in the order declared, without handlers.
  const std::vector<Operation>& operations() const { return operations_; }
  Auth& auth() { return auth_; }

 private:
  Router& router_;
  Auth& auth_;
  std::vector<Operation> operations_;
  bool check_responses_ = false;
  std::set<std::pair<std::string, std::string>> declared_;  // (method, pattern)
};

// Checks a parsed JSON body against a (small) JSON Schema: type (one or a list), required,
// properties with additionalProperties false or a schema, string maxLength/minLength,
// integer minimum/maximum, enum (strings or null), arrays with maxItems and items. A 400
// naming the field on the first mismatch.
Status check_against_schema(const Json& value, const Json& schema, const std::string& field);

// The OpenAPI 3.1 document of every operation in `table`.
std::string openapi_document(const RouteTable& table);

}  // namespace cunhuo::storefront
