#include "storefront/web/page_table.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "core/assert.hpp"

namespace cunhuo::storefront::web {
namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kSessionExpired = "session_expired";

Response html(int status, std::string body) {
  return Response::text(status, std::move(body), "text/html; charset=utf-8");
}

Response see_other(std::string location) {
  Response r = html(303, "");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

std::string path_and_query(const Request& request) {
  std::string url = request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    url += sep + k + "=" + v;  // already decoded: the login page re-encodes `next`
    sep = '&';
  }
  return url;
}

bool is_form(const Request& request) {
  auto type = request.header("content-type");
  return type && ascii_lower(*type).starts_with(kFormType);
}

// Who the browser is: its session if the cookie names a live one, else its visitor id.
struct Visitor {
  std::optional<Account> account;
  std::string token, visitor_id;
  bool stale_session = false;  // sent a cookie for a session that has ended
  bool new_visitor = false;
};

Result<Visitor> identify(Auth& auth, const Request& request) {
  Visitor v;
  // Kept when signed in too: the visitor's cart moves to the account at login.
  auto id = cookie(request, kVisitorCookie);
  const bool known = id && is_visitor_id(*id);
  if (known) v.visitor_id = *id;
  if (auto token = cookie(request, kSessionCookie); token && !token->empty()) {
    auto account = auth.authenticate_token(*token);
    if (account.ok()) {
      v.account = std::move(*account);
      v.token = std::move(*token);
      return v;
    }
    if (account.error().kind != ErrorKind::unauthorized) return account.error();
    v.stale_session = true;
  }
  v.new_visitor = !known;
  if (!known) v.visitor_id = new_visitor_id();
  return v;
}

std::string binding_of(const Visitor& v) {
  return v.account ? "s:" + Auth::token_key(v.token) : "v:" + v.visitor_id;
}

}  // namespace

const Account& PageCall::caller() const {
  CUNHUO_ASSERT(account.has_value());
  return *account;
}

std::string PageCall::field(std::string_view name) const {
  return form_field(form, name).value_or("");
}

Result<std::int64_t> PageCall::path_id(const char* what) const {
  const auto found = request.params.find("id");
  CUNHUO_ASSERT(found != request.params.end());  // only pages with :id ask
  const std::string& text = found->second;
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id < 1)
    return make_error(ErrorKind::not_found, "not_found", std::string("no such ") + what);
  return id;
}

Page Page::show(std::string template_name, std::string title, View view) {
  return Page{.template_name = std::move(template_name),
              .title = std::move(title),
              .view = std::move(view)};
}

Page Page::see_other(std::string location) {
  return Page{.status = 303, .redirect = std::move(location)};
}

std::string refusal_message(const Error& why, Lang lang) {
  const std::string key = "err_" + why.code;
  const std::string_view known = text(key, lang);
  if (known != key) return std::string(known);
  return std::string(text("err_generic", lang)) + " (" + why.code + ")";
}

Lang lang_of(const Request& request) {
  auto lang = cookie(request, kLangCookie);
  return lang && *lang == "en" ? Lang::en : Lang::zh;
}

PageFrame page_frame(const PageTable* table, const Request& request) {
  if (table != nullptr) return table->frame_for(request);
  PageFrame frame;
  frame.chrome.lang = lang_of(request);
  return frame;
}

std::string local_path(std::string_view next) {
  // "//host" and "/\host" are read by browsers as another site.
  const bool local = next.size() >= 1 && next[0] == '/' &&
                     (next.size() == 1 || (next[1] != '/' && next[1] != '\\'));
  const bool plain = next.find_first_of("\r\n") == std::string_view::npos;
  return local && plain ? std::string(next) : "/";
}

void PageFrame::add_headers(Response& r) const {
  for (const auto& c : set_cookies) r.headers.emplace_back("Set-Cookie", c);
  r.headers.emplace_back("Cache-Control", personal ? "no-store" : "no-cache");
}

PageFrame PageTable::frame_for(const Request& request) const {
  PageFrame frame;
  frame.chrome.lang = lang_of(request);
  // The switch comes back to this very page: its query too (the area of the statistics).
  frame.chrome.path = request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    frame.chrome.path += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  auto visitor = identify(auth_, request);
  if (!visitor.ok()) {  // the page still shows, without the switch
    spdlog::warn("page {}: {}", request.path, visitor.error().message);
    return frame;
  }
  if (visitor->account) frame.chrome.account_name = visitor->account->display_name;
  frame.chrome.csrf = seal_.token(binding_of(*visitor));
  if (visitor->stale_session)
    frame.set_cookies.push_back(clear_cookie(kSessionCookie, options_.secure_cookies));
  if (visitor->new_visitor && !visitor->account)
    frame.set_cookies.push_back(set_cookie({.name = kVisitorCookie,
                                            .value = visitor->visitor_id,
                                            .max_age_s = kVisitorCookieMaxAgeS,
                                            .secure = options_.secure_cookies}));
  frame.personal = visitor->account.has_value() || !frame.set_cookies.empty();
  return frame;
}

std::string PageTable::session_cookie(const SessionGrant& grant) const {
  // Kept as long as the session lives: a farmer who rarely opens the page stays signed in.
  const std::int64_t left_s = (grant.expires_at_ms - clock_.now_ms()) / 1000;
  return set_cookie({.name = kSessionCookie,
                     .value = grant.token,
                     .max_age_s = std::max<std::int64_t>(1, left_s),
                     .secure = options_.secure_cookies});
}

void PageTable::add(PageRoute route) {
  CUNHUO_ASSERT(route.handler);
  CUNHUO_ASSERT(route.method == "GET" || route.method == "POST");
  CUNHUO_ASSERT(route.access.kind != Access::Kind::roles || !route.access.roles.empty());
  pages_.push_back(route);
  pages_.back().handler = nullptr;
  pages_.back().reshow = nullptr;
  auto shared = std::make_shared<const PageRoute>(std::move(route));
  Route r{.method = shared->method,
          .pattern = shared->pattern,
          .handler = nullptr,
          .max_body = shared->max_body,
          .summary = shared->summary};
  if (shared->on_pool)
    // The job runs after this call returns: it keeps its own copy of the request.
    r.async_handler = [this, shared](const Request& request, Respond respond) {
      auto job = [this, shared, request, respond] { respond(answer(*shared, request)); };
      if (!pool_.try_submit(std::move(job)))
        respond(pool_full_response("too many uploads at once; retry shortly"));
    };
  else
    r.handler = [this, shared](const Request& request) { return answer(*shared, request); };
  router_.add(std::move(r));
}

}  // namespace cunhuo::storefront::web

namespace cunhuo::storefront::web {
namespace {

// A refusal's status; too many attempts is 429, as the API answers it.
int status_of(const Error& why) {
  return why.code == kTooManyRequests ? 429 : http_status(why.kind);
}

// The page of a refusal that has no form to show again (and of a page not found).
Page refusal_page(const Error& why, Lang lang) {
  View view;
  view.set("message", refusal_message(why, lang));
  const bool missing = why.kind == ErrorKind::not_found;
  Page page = Page::show(missing ? "not_found" : "refused",
                         missing ? "title_not_found" : "title_refused", std::move(view));
  page.status = status_of(why);
  return page;
}

}  // namespace

Response PageTable::render(Page page, const PageCall& call, bool private_answer) const {
  Response r;
  if (page.redirect) {
    r = see_other(*page.redirect);
  } else {
    const auto title = text(page.title, call.lang);
    Chrome chrome{.title = std::string(title),
                  .lang = call.lang,
                  .account_name = call.account ? call.account->display_name : "",
                  .csrf = call.csrf,
                  .path = call.request.path};
    r = html(page.status,
             Templates::builtin().page(page.template_name, std::move(page.view), chrome));
  }
  for (auto& c : page.set_cookies) r.headers.emplace_back("Set-Cookie", std::move(c));
  const bool personal = private_answer || !page.set_cookies.empty();
  r.headers.emplace_back("Cache-Control", personal ? "no-store" : "no-cache");
  return r;
}

Status PageTable::read_form(const PageRoute& route, PageCall& call) const {
  const auto type = call.request.header("content-type").value_or("");
  if (route.multipart && ascii_lower(type).starts_with("multipart/form-data")) {
    const auto boundary = CUNHUO_TRY(multipart_boundary(type));
    auto form = CUNHUO_TRY(parse_multipart(call.request.body, boundary));
    call.form = std::move(form.fields);
    call.files = std::move(form.files);
    return {};
  }
  auto fields = is_form(call.request) ? parse_form(call.request.body) : std::nullopt;
  if (!fields) return make_error(ErrorKind::invalid, "bad_form", "not a form");
  call.form = std::move(*fields);
  return {};
}

Result<Page> PageTable::run(const PageRoute& route, PageCall& call, bool signed_out) const {
  const auto refuse = [&](Error why) -> Result<Page> {
    if (route.method == "POST" && route.reshow) {
      auto page = CUNHUO_TRY(route.reshow(call, why));
      page.status = status_of(why);
      return page;
    }
    return refusal_page(why, call.lang);
  };
  if (route.method == "POST") {
    if (auto read = read_form(route, call); !read.ok())
      return refusal_page(read.error(), call.lang);
    // A form sent after its session ended carries that session's token: say which it was.
    if (!seal_.verify(call.binding, call.field(kCsrfField)))
      return refuse(signed_out ? make_error(ErrorKind::unauthorized, std::string(kSessionExpired),
                                            "sign in again")
                               : make_error(ErrorKind::forbidden, std::string(kBadFormToken),
                                            "the form is not this visitor's"));
  }
  if (route.access.kind != Access::Kind::anyone && !call.account) {
    if (route.method == "GET")
      return Page::see_other(std::string(kLoginPath) +
                             "?next=" + percent_encode(path_and_query(call.request)));
    return refuse(make_error(ErrorKind::unauthorized,
                             std::string(signed_out ? kSessionExpired : "unauthenticated"),
                             "sign in again"));
  }
  if (call.account && !route.access.admits(call.account->role))
    return refusal_page(
        make_error(ErrorKind::forbidden, std::string(kRoleNotAllowed), "not for this account"),
        call.lang);
  auto page = route.handler(call);
  if (!page.ok()) return refuse(page.error());
  return page;
}

Response PageTable::answer(const PageRoute& route, const Request& request) const {
  auto visitor = identify(auth_, request);
  PageCall call{.request = request, .lang = lang_of(request)};
  if (!visitor.ok()) {
    spdlog::warn("page {}: {}", request.path, visitor.error().message);
    return render(refusal_page(visitor.error(), call.lang), call, false);
  }
  call.account = visitor->account;
  call.session_token = visitor->token;
  call.binding = binding_of(*visitor);
  call.visitor_id = visitor->visitor_id;
  call.csrf = seal_.token(call.binding);
  auto page = run(route, call, visitor->stale_session);
  if (!page.ok()) page = refusal_page(page.error(), call.lang);
  if (visitor->stale_session)
    page->set_cookies.push_back(clear_cookie(kSessionCookie, options_.secure_cookies));
  if (visitor->new_visitor && !call.account)
    page->set_cookies.push_back(set_cookie({.name = kVisitorCookie,
                                            .value = visitor->visitor_id,
                                            .max_age_s = kVisitorCookieMaxAgeS,
                                            .secure = options_.secure_cookies}));
  return render(std::move(*page), call, call.account.has_value());
}

}  // namespace cunhuo::storefront::web
