// The one declaration of every page: method and pattern, who may open it, what it does.
//
//   pages.add({.method = "GET", .pattern = "/farm", .access = only({Role::farmer}),
//              .title = "title_farm", .summary = "The farmer's home",
//              .handler = [ctx](const PageCall& call) { return farm_home(ctx, call); }});
//
// Before the handler runs, the table reads the session cookie and the language. A page for
// signed-in roles sends a visitor who is not signed in to /login?next=<the page>, and shows
// another role a refusal. For a POST it reads the form (x-www-form-urlencoded) and checks
// its token (CSRF) before anything else; a refused form is shown again, with what the user
// typed and why, in the user's language, and nothing is written.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "storefront/auth.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"
#include "storefront/work_pool.hpp"
#include "storefront/web/multipart.hpp"
#include "storefront/web/page_session.hpp"
#include "storefront/web/templates.hpp"

namespace cunhuo::storefront::web {

inline constexpr std::int64_t kMaxFormBytes = 64 * 1024;
inline constexpr std::string_view kLoginPath = "/login";
// The error code of a form whose token is missing or not this visitor's (403).
inline constexpr std::string_view kBadFormToken = "bad_form_token";
// The error code of a refusal for too many attempts: a page of status 429.
inline constexpr std::string_view kTooManyRequests = "too_many_requests";

// One call of a page, as the table prepared it.
struct PageCall {
  const Request& request;
  std::optional<Account> account;  // signed in
  std::string session_token;       // the cookie's token, "" when not signed in
  Lang lang = Lang::zh;
  std::string binding;          // what the form token is sealed over: the session or the visitor
  std::string visitor_id;       // the visitor cookie's id (a new one on a first visit)
  std::string csrf;             // the token the page's forms carry
  FormFields form;              // a POST's fields
  std::vector<FormFile> files;  // a multipart POST's files (views into request.body)

  const Account& caller() const;                   // asserts that the page is for signed-in roles
  std::string field(std::string_view name) const;  // a form field, "" when absent
  // The positive id in the path's `:id`; anything else is a page that does not exist (404
  // not_found, saying no such `what`).
  Result<std::int64_t> path_id(const char* what) const;
};

// What a page answers: a template with its view, or a redirect (303 See Other).
struct Page {
  int status = 200;
  std::string template_name;
  std::string title;  // a text key ("title_home") or, when not one, the title itself
  View view;
  std::optional<std::string> redirect;
  std::vector<std::string> set_cookies;  // Set-Cookie values

  static Page show(std::string template_name, std::string title, View view);
  static Page see_other(std::string location);
};

using PageHandler = std::function<Result<Page>(const PageCall&)>;
// Shows a POST's form again, with what was typed (call.form) and why it was refused.
using FormReshow = std::function<Result<Page>(const PageCall&, const Error& why)>;

struct PageRoute {
  std::string method = "GET", pattern;
  Access access;
  std::string summary;
  PageHandler handler;
  FormReshow reshow = nullptr;  // a POST's: without one, a refusal is shown on its own page
  std::int64_t max_body = kMaxFormBytes;
  bool multipart = false;  // a POST that takes multipart/form-data (a form with a file)
  bool on_pool = false;    // slow work (a photo to scale): runs on the work pool
};

struct PageOptions {
  bool secure_cookies = false;  // served over TLS (directly or behind a TLS proxy)
};

// The layout around a page an API route renders outside the table (the open statistics, a
// printable statement), as the table's own pages have it: the account bar and the language
// switch, whose form token is this browser's. A first visit also gets its visitor cookie.
struct PageFrame {
  Chrome chrome;  // its title is the page's to fill
  std::vector<std::string> set_cookies;
  bool personal = false;  // signed in by cookie, or given a cookie: never stored by a cache

  // The Set-Cookie and Cache-Control headers the table's pages carry.
  void add_headers(Response& r) const;
};

class PageTable {
 public:
  PageTable(Router& router, Auth& auth, const FormSeal& seal, const Clock& clock, WorkPool& pool,
            PageOptions options)
      : router_(router), auth_(auth), seal_(seal), clock_(clock), pool_(pool), options_(options) {}

  void add(PageRoute route);
  const std::vector<PageRoute>& pages() const { return pages_; }  // without handlers
  const PageOptions& options() const { return options_; }

  // A session cookie for a grant just made (a login on a page).
  std::string session_cookie(const SessionGrant& grant) const;
  // The frame of a page that `request` asks an API route for (see PageFrame).
  PageFrame frame_for(const Request& request) const;

 private:
  Response answer(const PageRoute& route, const Request& request) const;
  Result<Page> run(const PageRoute& route, PageCall& call, bool signed_out) const;
  Status read_form(const PageRoute& route, PageCall& call) const;
  Response render(Page page, const PageCall& call, bool private_answer) const;

  Router& router_;
  Auth& auth_;
  const FormSeal& seal_;
  const Clock& clock_;
  WorkPool& pool_;
  PageOptions options_;
  std::vector<PageRoute> pages_;
};

// The message shown for a refusal, in `lang`: the text of its code when there is one.
std::string refusal_message(const Error& why, Lang lang);
// The language a request asks for: its cookie, else Chinese.
Lang lang_of(const Request& request);
// `table`'s frame_for(request); without a table (a route table alone), the language only.
PageFrame page_frame(const PageTable* table, const Request& request);
// `next` when it is a path on this site, else "/": a login never sends anyone elsewhere.
std::string local_path(std::string_view next);

}  // namespace cunhuo::storefront::web
