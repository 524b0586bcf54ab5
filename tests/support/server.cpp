#include "tests/support/server.hpp"
#include "core/json.hpp"
#include "messaging/phone_codes.hpp"

namespace cunhuo::test {

Headers bearer(const std::string& token, Headers extra) {
  extra.emplace_back("Authorization", "Bearer " + token);
  bool has_type = false;
  for (const auto& [k, v] : extra) has_type = has_type || k == "Content-Type";
  if (!has_type) extra.emplace_back("Content-Type", "application/json");
  return extra;
}

static const Json& error_of(const HttpReply& reply, Json& holder) {
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  holder = std::move(*doc);
  const Json* error = holder.find("error");
  REQUIRE(error != nullptr);
  return *error;
}

std::string error_code(const HttpReply& reply) {
  Json holder;
  return error_of(reply, holder).find("code")->as_string();
}

std::string error_field(const HttpReply& reply) {
  Json holder;
  const Json* field = error_of(reply, holder).find("field");
  return field ? field->as_string() : "";
}

std::int64_t json_int(const std::string& body, const char* key) {
  auto doc = Json::parse(body);
  REQUIRE(doc.ok());
  const Json* v = doc->find(key);
  REQUIRE(v != nullptr);
  return v->as_integer();
}

TestServer::TestServer(StoreKind kind, std::string seed, std::function<void(Config&)> tweak,
                       ServerClock clock)
    : store_(kind),
      manual_clock_(system_clock_.now_ms()),
      clock_(clock == ServerClock::manual ? static_cast<const Clock&>(manual_clock_)
                                          : system_clock_) {
  store_.copy_migrated_template();
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = store_.url();
  config.seed = std::move(seed);
  config.threads = 2;
  config.outbox_poll_ms = 20;
  config.data_dir = temp_dir();
  data_dir_ = config.data_dir;
  config.check_response_schemas = true;  // every test also proves the published schemas
  if (tweak) tweak(config);
  auto app = storefront::App::open(config, clock_);
  if (!app.ok()) FAIL("cannot open the app: " << app.error().message);
  app_ = std::move(*app);
  auto started = app_->start();
  if (!started.ok()) FAIL("cannot start the app: " << started.error().message);
}

void TestServer::advance(std::chrono::milliseconds by) {
  REQUIRE(&clock_ == &manual_clock_);  // a server on the system clock cannot be moved
  manual_clock_.advance(by);
}

TestServer::~TestServer() { app_->stop(std::chrono::milliseconds(2000)); }

std::string TestServer::login(const std::string& phone, const std::string& password) {
  HttpClient client(port());
  auto reply = post_json(client, "/api/v1/sessions",
                         "{\"phone\":\"" + phone + "\",\"password\":\"" + password + "\"}");
  REQUIRE(reply.status == 201);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  return doc->find("token")->as_string();
}

std::int64_t TestServer::count(const std::string& sql) {
  auto r = store_.db().read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

HttpReply on_pay_page(const std::string& pay_url, const std::string& action, bool browser) {
  constexpr std::string_view kOrigin = "http://127.0.0.1:";
  REQUIRE(pay_url.starts_with(kOrigin));
  const auto slash = pay_url.find('/', kOrigin.size());
  REQUIRE(slash != std::string::npos);
  const auto port =
      static_cast<std::uint16_t>(std::stoi(pay_url.substr(kOrigin.size(), slash - kOrigin.size())));
  HttpClient sandbox(port);  // the sandbox answers one request per connection
  const std::string path = pay_url.substr(slash);
  if (action == "page") return sandbox.request("GET", path);
  return sandbox.request(
      "POST", path + "/" + action, "",
      {{"Content-Type", browser ? "application/x-www-form-urlencoded" : "application/json"}});
}

std::int64_t refunded_at_provider(TestServer& server) {
  auto key = server.app().db().read([](db::Session& s) {
    return s.query_one(
        "SELECT refund_key FROM provider_refunds WHERE status IN ('sent', 'succeeded')");
  });
  REQUIRE(key.ok());
  REQUIRE(key->has_value());
  auto& adapter = dynamic_cast<payments::wechatpay::WechatPayProvider&>(server.app().provider());
  auto refund = adapter.query_refund((*key)->str(0));
  REQUIRE(refund.ok());
  CHECK(refund->status == "SUCCESS");
  return refund->refund;
}

std::unique_ptr<db::Database> sandbox_books(TestServer& server) {
  auto books = db::open_database("sqlite:" + server.data_dir() + "/paysandbox/paysandbox.db");
  REQUIRE(books.ok());
  return std::move(*books);
}

int deliver_notifications(TestServer& server) {
  REQUIRE(server.app().payment_sandbox() != nullptr);
  auto acknowledged = server.app().payment_sandbox()->deliver_due();
  REQUIRE(acknowledged.ok());
  return *acknowledged;
}

std::string sandbox_text(TestServer& server, const std::string& phone) {
  REQUIRE(server.app().sms() != nullptr);
  REQUIRE(server.app().sms()->run_once().ok());
  HttpClient c(server.port());
  auto reply = c.request("GET", "/sim/sms?phone=" + phone);
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  const auto& items = doc->find("items")->as_array();
  REQUIRE_FALSE(items.empty());
  return items.front().find("text")->as_string();
}

std::string sandbox_code(TestServer& server, const std::string& phone) {
  const std::string text = sandbox_text(server, phone);
  const auto at = text.find_first_of("0123456789");
  REQUIRE(at != std::string::npos);
  return text.substr(at, messaging::kCodeDigits);
}

}  // namespace cunhuo::test
