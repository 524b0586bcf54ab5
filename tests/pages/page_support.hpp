// What page tests share: a browser-like client over HTTP that keeps its cookies and sends
// each form with the token of the last page it was shown, and the sandbox's codes.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/server.hpp"

namespace cunhuo::test {

using FormFields = std::vector<std::pair<std::string, std::string>>;

class Browser {
 public:
  explicit Browser(TestServer& server) : client_(server.port()) {}

  HttpReply get(const std::string& path);
  // Posts `fields` as a form, with the form token of the last page (or a forged one).
  HttpReply post(const std::string& path, const FormFields& fields, bool forged_token = false);
  // The same as multipart/form-data, with one file part (as a browser sends a form with a
  // file input; an empty `bytes` is a file input left empty).
  HttpReply post_multipart(const std::string& path, const FormFields& fields,
                           const std::string& file_field, const std::string& bytes,
                           bool forged_token = false);
  std::string session_token() const;  // the session cookie's value, "" when none
  // Signed in as the account `token` (from TestServer::login) is: its session as a cookie.
  void sign_in(const std::string& token);

 private:
  void keep_cookies(const HttpReply& reply);
  std::string cookie_header() const;

  HttpClient client_;
  std::map<std::string, std::string> cookies_;
  std::string csrf_;
};

bool has(const std::string& text, const std::string& part);
// The first group of `pattern` in `body` (a test fails without one).
std::string first_match(const std::string& body, const std::string& pattern);
// The idempotency key of the first form on a page (hidden field "key").
std::string form_key(const std::string& body);
// `seller` lists `listing` (else the melon, tests/support/flows.hpp) in their own shop;
// returns the product's id.
std::int64_t listed(TestServer& server, HttpClient& c, const std::string& seller,
                    const std::string& listing);
std::int64_t listed(TestServer& server, HttpClient& c, const std::string& seller);

// A page refused to someone: who asks (their login token, "" for a visitor), how, and the
// answer's status and, for a redirect, where it sends them.
struct PageRefusal {
  std::string who, token, method, path;
  int status = 0;
  std::string location;
};
// Opens each page on a fresh browser, first visit "/", and checks its answer.
void check_refusals(TestServer& server, const std::vector<PageRefusal>& refusals);
// A JPEG photo of `width` x `height` (a gradient), as a phone camera would take.
std::string camera_jpeg(int width, int height);

}  // namespace cunhuo::test
