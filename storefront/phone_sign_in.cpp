#include "storefront/phone_sign_in.hpp"

#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "core/privacy.hpp"

namespace cunhuo::storefront {
namespace {

namespace msg = messaging;

// What a request for a code leads to. Whether the phone has an account decides only what is
// sent, never the answer: a code, a "you already have an account" text, or nothing. A
// purpose whose day budget is spent sends nothing and answers as if it had sent: a request
// within the minute's spacing gets a wait (nullopt otherwise).
Result<std::optional<std::int64_t>> send_code(const AccountContext& ctx, db::Session& tx,
                                              const std::string& phone, msg::CodePurpose purpose) {
  const auto send = CUNHUO_TRY(msg::take_code_send(tx, phone, purpose, ctx.clock));
  switch (send.outcome) {
    case msg::CodeSend::Outcome::taken: break;
    case msg::CodeSend::Outcome::too_soon: return std::optional<std::int64_t>(send.wait_ms);
    case msg::CodeSend::Outcome::spent:
      spdlog::info("no code sent to {}: its {} budget for the day is spent", mask_phone(phone),
                   msg::to_string(purpose));
      return std::optional<std::int64_t>();
  }
  const bool registered = CUNHUO_TRY(Auth::find_account_by_phone(tx, phone)).has_value();
  switch (purpose) {
    case msg::CodePurpose::sign_up:
      if (!registered) break;
      {
        const msg::SmsMessage notice{
            .phone = phone, .template_code = std::string(msg::kAlreadyRegistered), .params = {}};
        const std::string key =
            "already-registered:" + phone + ":" + std::to_string(ctx.clock.now_ms());
        CUNHUO_CHECK(msg::queue_sms(tx, notice, key, ctx.clock));
        return std::optional<std::int64_t>();
      }
    case msg::CodePurpose::log_in:
    case msg::CodePurpose::reset_password:
      if (registered) break;
      // Nothing to send; the send was counted all the same.
      return std::optional<std::int64_t>();
    case msg::CodePurpose::proxy_confirm: CUNHUO_ASSERT(false);  // not public
  }
  CUNHUO_CHECK(msg::issue_code(tx, phone, purpose, ctx.clock));
  return std::optional<std::int64_t>();
}

// A code that no text carries would be a code nobody can enter: say so, never "sent".
Status check_sender(const AccountContext& ctx) {
  if (ctx.sms != nullptr) return {};
  return make_error(ErrorKind::unavailable, std::string(kSmsUnavailable),
                    "this server sends no text messages (sms off): no code can be sent; "
                    "sign in with a password (POST /api/v1/sessions)");
}

}  // namespace

Result<std::optional<std::int64_t>> send_phone_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    msg::CodePurpose purpose) {
  CUNHUO_CHECK(check_sender(ctx));
  const auto wait =
      CUNHUO_TRY(ctx.db.write([&](db::Session& tx) { return send_code(ctx, tx, phone, purpose); }));
  if (!wait && ctx.sms != nullptr) ctx.sms->wake();
  return wait;
}

Result<std::optional<SessionGrant>> sign_up_by_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    const std::string& code,
                                                    const std::string& name) {
  // An existing phone is refused before its code is looked at, and writes nothing: the
  // answer is a wrong code's, so it does not tell that the phone has an account.
  auto grant = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::optional<SessionGrant>> {
    if (CUNHUO_TRY(Auth::find_account_by_phone(tx, phone))) return std::optional<SessionGrant>();
    const auto check =
        CUNHUO_TRY(msg::verify_code(tx, phone, msg::CodePurpose::sign_up, code, ctx.clock));
    if (check != msg::CodeCheck::accepted)
      return std::optional<SessionGrant>();  // the try is committed
    const NewAccount account{.phone = phone,
                             .password = "",
                             .display_name = name,
                             .role = Role::consumer,
                             .region_code = std::string(kConsumerRegionCode),
                             .household_id = std::nullopt,
                             .shop_id = std::nullopt,
                             .node_id = std::nullopt};
    const std::int64_t id = CUNHUO_TRY(ctx.auth.create_account(tx, account));
    auto created = CUNHUO_TRY(Auth::find_account(tx, id));
    return std::optional<SessionGrant>(CUNHUO_TRY(ctx.auth.open_session(tx, *created)));
  }));
  return grant;
}

Result<std::optional<std::int64_t>> send_sign_in_code(const AccountContext& ctx,
                                                      const std::string& phone) {
  CUNHUO_CHECK(check_sender(ctx));
  const auto wait =
      CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<std::optional<std::int64_t>> {
        const bool registered = CUNHUO_TRY(Auth::find_account_by_phone(tx, phone)).has_value();
        return send_code(ctx, tx, phone,
                         registered ? msg::CodePurpose::log_in : msg::CodePurpose::sign_up);
      }));
  if (!wait && ctx.sms != nullptr) ctx.sms->wake();
  return wait;
}

Result<std::optional<SessionGrant>> sign_in_by_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    const std::string& code,
                                                    const std::string& new_name) {
  const bool registered = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
                            return Auth::find_account_by_phone(s, phone);
                          })).has_value();
  if (!registered) return sign_up_by_code(ctx, phone, code, new_name);
  auto grant = ctx.auth.login_by_code(phone, code);
  if (grant.ok()) return std::optional<SessionGrant>(std::move(*grant));
  if (grant.error().kind == ErrorKind::unauthorized) return std::optional<SessionGrant>();
  return grant.error();
}

}  // namespace cunhuo::storefront
