#include "storefront/account_pages.hpp"

#include "core/privacy.hpp"
#include "storefront/cart.hpp"

namespace cunhuo::storefront {
namespace {

using web::Page;
using web::PageCall;
using web::View;

constexpr std::size_t kPhoneDigits = 11;

Error refusal(ErrorKind kind, std::string_view code, std::string message) {
  return make_error(kind, std::string(code), std::move(message));
}

View form_view(const PageCall& call) {
  View v;
  v.set("phone", call.field("phone"));
  v.set("next",
        web::local_path(call.field("next").empty() ? call.request.query_param("next").value_or("/")
                                                   : call.field("next")));
  return v;
}

Page phone_form(const PageCall& call, const std::string& message) {
  View v = form_view(call);
  if (!message.empty()) v.set("error", message);
  return Page::show("login", "title_login", std::move(v));
}

Page code_form(const PageCall& call, const std::string& notice, const std::string& error) {
  View v = form_view(call);
  v.set("masked_phone", mask_phone(call.field("phone")));
  if (!notice.empty()) v.set("notice", notice);
  if (!error.empty()) v.set("error", error);
  return Page::show("login_code", "title_login", std::move(v));
}

Result<Page> show_login(const PageCall& call) {
  if (call.account) return Page::see_other(form_view(call).get("next")->string_value());
  return phone_form(call, "");
}

Result<Page> ask_for_code(const AccountContext& ctx, const PageCall& call) {
  const std::string phone = call.field("phone");
  if (!is_mobile_number(phone))
    return refusal(ErrorKind::invalid, "invalid_phone", "not an 11-digit mobile number");
  if (ctx.code_requests.take(call.request.client_address))
    return refusal(ErrorKind::unavailable, web::kTooManyRequests, "too many code requests");
  const auto wait = CUNHUO_TRY(send_sign_in_code(ctx, phone));
  // A code sent a moment ago is still good: the form to enter it is shown either way.
  const std::string notice =
      wait ? std::string(web::text("login_wait", call.lang))
           : std::string(web::text("login_sent", call.lang)) + " " + mask_phone(phone);
  return code_form(call, notice, "");
}

std::string new_account_name(const std::string& phone) {
  return std::string(kNewAccountName) + phone.substr(kPhoneDigits - 4);
}

Result<Page> log_in(const AccountContext& ctx, const web::PageTable& pages, const PageCall& call) {
  const std::string phone = call.field("phone"), code = call.field("code");
  if (!is_mobile_number(phone))
    return refusal(ErrorKind::invalid, "invalid_phone", "not an 11-digit mobile number");
  if (ctx.auth.login_attempts().take(call.request.client_address))
    return refusal(ErrorKind::unavailable, web::kTooManyRequests, "too many attempts");
  auto grant = CUNHUO_TRY(sign_in_by_code(ctx, phone, code, new_account_name(phone)));
  if (!grant) return refusal(ErrorKind::invalid, "invalid_code", "wrong or expired code");
  if (!call.visitor_id.empty())  // the cart filled before logging in is kept
    CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) {
      return move_cart(tx, CartOwner::visitor(call.visitor_id),
                       CartOwner::account(grant->account.id), ctx.clock);
    }));
  Page page = Page::see_other(web::local_path(call.field("next")));
  page.set_cookies.push_back(pages.session_cookie(*grant));
  return page;
}

}  // namespace

void add_account_pages(web::PageTable& pages, const AccountContext& ctx) {
  pages.add({.pattern = "/login",
             .access = anyone(),
             .summary = "Log in (or sign up) with a code sent to the phone",
             .handler = [](const PageCall& call) { return show_login(call); }});
  pages.add({.method = "POST",
             .pattern = "/login/code",
             .access = anyone(),
             .summary = "Send the login code",
             .handler = [ctx](const PageCall& call) { return ask_for_code(ctx, call); },
             .reshow = [](const PageCall& call, const Error& why) -> Result<Page> {
               return phone_form(call, web::refusal_message(why, call.lang));
             }});
  const web::PageTable* table = &pages;
  pages.add({.method = "POST",
             .pattern = "/login",
             .access = anyone(),
             .summary = "Log in with the code; a phone without an account becomes a consumer",
             .handler = [ctx, table](const PageCall& call) { return log_in(ctx, *table, call); },
             .reshow = [](const PageCall& call, const Error& why) -> Result<Page> {
               return code_form(call, "", web::refusal_message(why, call.lang));
             }});
}

}  // namespace cunhuo::storefront
