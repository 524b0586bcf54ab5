#include "storefront/account_routes.hpp"

#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "messaging/phone_codes.hpp"
#include "storefront/schema.hpp"

namespace cunhuo::storefront {
namespace {

namespace msg = messaging;

constexpr std::size_t kMaxPhoneBytes = 20, kMaxCodeBytes = 12, kMaxNameBytes = 100;
constexpr std::size_t kMaxPasswordBytes = 128;
constexpr std::size_t kMaxSessionIdBytes = 32;

// The purposes anyone may ask a code for. A proxy confirmation is asked for by a station's
// operator (POST /api/v1/proxy/confirmations) only: were it public, anyone could replace a
// villager's live code, or spend the phone's sends.
constexpr msg::CodePurpose kPublicPurposes[] = {msg::CodePurpose::sign_up, msg::CodePurpose::log_in,
                                                msg::CodePurpose::reset_password};
static_assert(std::size(kPublicPurposes) == msg::kAnonymousPurposes,
              "each purpose anyone may ask for has the anonymous budget");

std::vector<std::string> purpose_names() {
  std::vector<std::string> out;
  for (auto p : kPublicPurposes) out.emplace_back(msg::to_string(p));
  return out;
}

Result<msg::CodePurpose> public_purpose(std::string_view name) {
  const auto purpose = CUNHUO_TRY(msg::parse_code_purpose(name));
  for (auto p : kPublicPurposes)
    if (p == purpose) return purpose;
  return make_error(ErrorKind::invalid, "invalid_purpose",
                    "a code for this purpose is asked for at a station", "purpose");
}

Status check_phone(std::string_view phone) {
  if (is_mobile_number(phone)) return {};
  return make_error(ErrorKind::invalid, "invalid_phone", "phone must be an 11-digit mobile number",
                    "phone");
}

Error invalid_code() {
  return make_error(ErrorKind::invalid, "invalid_code",
                    "the code is wrong, has expired or was not sent to this phone", "code");
}

std::int64_t seconds_rounded_up(std::int64_t ms) { return (ms + 999) / 1000; }

// --- POST /api/v1/phone-codes --------------------------------------------------------------

Result<Response> request_code(const AccountContext& ctx, const Call& call) {
  auto doc = CUNHUO_TRY(Json::parse(call.request.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const std::string phone = CUNHUO_TRY(body.string("phone", kMaxPhoneBytes));
  CUNHUO_CHECK(check_phone(phone));
  const auto purpose =
      CUNHUO_TRY(public_purpose(CUNHUO_TRY(body.string("purpose", kMaxPhoneBytes))));
  if (auto wait = CUNHUO_TRY(send_phone_code(ctx, phone, purpose)))
    return too_many_requests(seconds_rounded_up(*wait), "a code was sent to this phone recently");
  JsonWriter w;
  w.begin_object()
      .field("sent", true)
      .field("expires_in_s", msg::kCodeLifetimeMs / 1000)
      .end_object();
  return Response::json(202, w.take());
}

// --- POST /api/v1/accounts -----------------------------------------------------------------

Result<Response> sign_up(const AccountContext& ctx, const Call& call) {
  auto doc = CUNHUO_TRY(Json::parse(call.request.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  const std::string phone = CUNHUO_TRY(body.string("phone", kMaxPhoneBytes));
  CUNHUO_CHECK(check_phone(phone));
  const std::string code = CUNHUO_TRY(body.string("code", kMaxCodeBytes));
  const std::string name = CUNHUO_TRY(body.string("display_name", kMaxNameBytes));
  if (name.empty())
    return make_error(ErrorKind::invalid, "invalid_name", "display name must be 1 to 100 bytes",
                      "display_name");
  auto grant = CUNHUO_TRY(sign_up_by_code(ctx, phone, code, name));
  if (!grant) return invalid_code();
  spdlog::info("consumer account {} signed up", grant->account.id);
  return session_granted(*grant);
}

// --- PUT /api/v1/me/password ---------------------------------------------------------------

struct PasswordChange {
  Account account;
  std::string session_key;  // kept when the others end
  std::optional<std::string> current_password, code;
  std::string new_password;
};

Result<PasswordChange> read_password_change(const Call& call) {
  auto doc = CUNHUO_TRY(Json::parse(call.request.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  PasswordChange c{
      .account = call.caller(),
      .session_key = Auth::session_key(call.request),
      .current_password = CUNHUO_TRY(body.optional_string("current_password", kMaxPasswordBytes)),
      .code = CUNHUO_TRY(body.optional_string("code", kMaxCodeBytes)),
      .new_password = CUNHUO_TRY(body.string("new_password", kMaxPasswordBytes))};
  if (!c.current_password && !c.code)
    return make_error(ErrorKind::invalid, "missing_field",
                      "prove it is you: the current password, or a code sent to your phone",
                      "current_password");
  return c;
}

// A code for resetting the password, or failing that one for logging in.
Result<bool> code_proves(db::Session& tx, const AccountContext& ctx, const PasswordChange& c) {
  auto check = CUNHUO_TRY(
      msg::verify_code(tx, c.account.phone, msg::CodePurpose::reset_password, *c.code, ctx.clock));
  if (check == msg::CodeCheck::missing)
    check = CUNHUO_TRY(
        msg::verify_code(tx, c.account.phone, msg::CodePurpose::log_in, *c.code, ctx.clock));
  return check == msg::CodeCheck::accepted;
}

// Runs on the pool: hashing and verifying passwords is slow by design.
Result<Response> change_password(const AccountContext& ctx, const PasswordChange& c) {
  const std::string hash = CUNHUO_TRY(Auth::hash_new_password(c.new_password));
  if (c.current_password) {
    if (auto wait = ctx.auth.wrong_passwords().blocked(c.account.phone))
      return too_many_requests(*wait, "too many wrong passwords for this phone; try later");
    if (!CUNHUO_TRY(ctx.auth.password_matches(c.account.id, *c.current_password))) {
      ctx.auth.wrong_passwords().record(c.account.phone);
      return make_error(ErrorKind::forbidden, "wrong_password", "the current password is wrong",
                        "current_password");
    }
  }
  const bool stored = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<bool> {
    if (!c.current_password && !CUNHUO_TRY(code_proves(tx, ctx, c))) return false;
    CUNHUO_CHECK(Auth::store_password(tx, c.account.id, hash));
    return true;
  }));
  if (!stored) return invalid_code();
  // Whoever else held a session (perhaps the reason for the change) is logged out.
  const std::int64_t ended = CUNHUO_TRY(ctx.auth.end_sessions(c.account, c.session_key));
  JsonWriter w;
  w.begin_object().field("changed", true).field("sessions_ended", ended).end_object();
  return Response::json(200, w.take());
}

// --- sessions ------------------------------------------------------------------------------

Result<Response> list_sessions(const AccountContext& ctx, const Call& call) {
  const auto sessions = CUNHUO_TRY(ctx.auth.sessions_of(call.caller(), call.request));
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& s : sessions)
    w.begin_object()
        .field("id", s.id)
        .field("created_at", format_utc(s.created_at_ms))
        .field("expires_at", format_utc(s.expires_at_ms))
        .field("current", s.current)
        .end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

Result<Response> end_one_session(const AccountContext& ctx, const Call& call) {
  const std::string& id = call.request.params.at("id");
  if (id.size() > kMaxSessionIdBytes || !CUNHUO_TRY(ctx.auth.end_session(call.caller(), id)))
    return make_error(ErrorKind::not_found, "session_not_found", "you have no session by this id");
  return Response::json(200, "{\"ended\":true}");
}

Result<Response> end_all_sessions(const AccountContext& ctx, const Call& call) {
  const auto keep = call.request.query_param("keep_current");
  if (keep && *keep != "true" && *keep != "false")
    return make_error(ErrorKind::invalid, "invalid_type", "keep_current is true or false",
                      "keep_current");
  const std::string kept = keep == "true" ? Auth::session_key(call.request) : std::string();
  const std::int64_t ended = CUNHUO_TRY(ctx.auth.end_sessions(call.caller(), kept));
  JsonWriter w;
  w.begin_object().field("ended_count", ended).end_object();
  return Response::json(200, w.take());
}

// --- GET /sim/sms --------------------------------------------------------------------------

bool loopback_address(const std::string& address) {
  return address == "::1" || address.rfind("127.", 0) == 0 || address == "::ffff:127.0.0.1";
}

Result<Response> sandbox_inbox(const AccountContext& ctx, const Call& call) {
  // A second guard: the start refuses the sandbox where people beyond this machine reach
  // the service (storefront/app.cpp check_sms_config), unless --demo.
  if (!ctx.demo && !loopback_address(call.request.client_address))
    return make_error(ErrorKind::forbidden, "sandbox_loopback_only",
                      "the text message sandbox answers only on this machine");
  const auto phone = call.request.query_param("phone");
  if (!phone) return make_error(ErrorKind::invalid, "missing_field", "phone is needed", "phone");
  CUNHUO_CHECK(check_phone(*phone));
  const auto messages = CUNHUO_TRY(ctx.sandbox->latest(*phone));
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& m : messages)
    w.begin_object()
        .field("id", m.id)
        .field("phone", m.phone)
        .field("template_code", m.template_code)
        .field("text", m.text)
        .field("sent_at", format_utc(m.sent_at_ms))
        .end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

}  // namespace

void add_account_routes(RouteTable& table, const AccountContext& ctx) {
  using namespace schema;
  table.add({.method = "POST",
             .pattern = "/api/v1/phone-codes",
             .access = anyone(),
             .body = Body::json,
             .request_schema = object({required("phone", text(kMaxPhoneBytes)),
                                       required("purpose", name_among(20, purpose_names()))}),
             .response_schema =
                 object({required("sent", boolean()), required("expires_in_s", integer(1))}),
             .success_status = 202,
             .errors = {"invalid_phone", "invalid_purpose", "too_many_requests",
                        std::string(kSmsUnavailable)},
             .summary = "Send a one-time code by text message (the same answer whether or not "
                        "the phone has an account; 503 sms_unavailable where no text is sent)",
             .handler = [ctx](const Call& call) { return request_code(ctx, call); },
             .admission = [ctx](const Request& req) -> std::optional<Response> {
               if (auto wait = ctx.code_requests.take(req.client_address))
                 return too_many_requests(*wait, "too many code requests from this address");
               return std::nullopt;
             }});
  table.add({.method = "POST",
             .pattern = "/api/v1/accounts",
             .access = anyone(),
             .body = Body::json,
             .request_schema = object({required("phone", text(kMaxPhoneBytes)),
                                       required("code", text(kMaxCodeBytes)),
                                       required("display_name", text(kMaxNameBytes))}),
             .response_schema = session_grant_schema(),
             .success_status = 201,
             .errors = {"invalid_phone", "invalid_code", "invalid_name", "too_many_requests"},
             .summary = "Sign up as a consumer with a sign_up code; returns a session",
             .handler = [ctx](const Call& call) { return sign_up(ctx, call); },
             .admission = [ctx](const Request& req) -> std::optional<Response> {
               // Guessing codes costs attempts from the address, as guessing passwords does.
               if (auto wait = ctx.auth.login_attempts().take(req.client_address))
                 return too_many_requests(*wait, "too many attempts from this address");
               return std::nullopt;
             }});
  table.add(
      {.method = "PUT",
       .pattern = "/api/v1/me/password",
       .access = signed_in(),
       .body = Body::json,
       .request_schema = object(
           {optional("current_password", text(kMaxPasswordBytes)),
            required("new_password", text(kMaxPasswordBytes)),
            optional("code", text(kMaxCodeBytes).described("a reset_password or log_in code"))}),
       .response_schema =
           object({required("changed", boolean()), required("sessions_ended", integer(0))}),
       .errors = {"invalid_password", "wrong_password", "invalid_code", "missing_field",
                  "too_many_requests", "busy"},
       .summary = "Set or change the password (with the current one, or a code); ends the "
                  "account's other sessions",
       .async_handler = [ctx](const Call& call, Respond respond) {
         auto change = read_password_change(call);
         if (!change.ok()) return respond(error_response(change.error()));
         const bool queued = ctx.pool.try_submit([ctx, c = std::move(*change), respond] {
           auto answer = change_password(ctx, c);
           respond(answer.ok() ? std::move(*answer) : error_response(answer.error()));
         });
         if (!queued) respond(pool_full_response("too many password changes at once"));
       }});
  const Schema session =
      object({required("id", text()), required("created_at", utc_time()),
              required("expires_at", utc_time()), required("current", boolean())});
  table.add({.method = "GET",
             .pattern = "/api/v1/sessions",
             .access = signed_in(),
             .response_schema = list_of("items", session),
             .summary = "The account's live sessions, newest first (never their tokens)",
             .handler = [ctx](const Call& call) { return list_sessions(ctx, call); }});
  table.add({.method = "DELETE",
             .pattern = "/api/v1/sessions/:id",
             .access = signed_in(),
             .response_schema = object({required("ended", boolean())}),
             .errors = {"session_not_found"},
             .summary = "End one of the account's sessions",
             .handler = [ctx](const Call& call) { return end_one_session(ctx, call); }});
  table.add({.method = "DELETE",
             .pattern = "/api/v1/sessions",
             .access = signed_in(),
             .response_schema = object({required("ended_count", integer(0))}),
             .query = {{.name = "keep_current",
                        .type = "boolean",
                        .description = "true: all but the session making this request"}},
             .summary = "End all of the account's sessions",
             .handler = [ctx](const Call& call) { return end_all_sessions(ctx, call); }});
}

void add_sms_sandbox_routes(RouteTable& table, const AccountContext& ctx) {
  using namespace schema;
  const Schema message =
      object({required("id", id()), required("phone", text()), required("template_code", text()),
              required("text", text()), required("sent_at", utc_time())});
  table.add({.method = "GET",
             .pattern = "/sim/sms",
             .access = anyone(),
             .response_schema = list_of("items", message),
             .query = {{.name = "phone",
                        .type = "string",
                        .description = "the phone whose messages to show",
                        .required = true}},
             .errors = {"sandbox_loopback_only", "invalid_phone"},
             .summary = "The text message sandbox: the latest messages sent to a phone, newest "
                        "first (sandbox only, this machine only)",
             .handler = [ctx](const Call& call) { return sandbox_inbox(ctx, call); }});
}

}  // namespace cunhuo::storefront
