#include "tests/support/server.hpp"

#include "core/json.hpp"

namespace cunhuo::test {

TestServer::TestServer(StoreKind kind, std::string seed, std::function<void(Config&)> tweak) : store_(kind) {
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = store_.url();
  config.seed = std::move(seed);
  config.threads = 2;
  config.outbox_poll_ms = 20;
  config.data_dir = temp_dir();
  if (tweak) tweak(config);
  auto app = storefront::App::open(config, clock_);
  if (!app.ok()) FAIL("cannot open the app: " << app.error().message);
  app_ = std::move(*app);
  auto started = app_->start();
  if (!started.ok()) FAIL("cannot start the app: " << started.error().message);
}

TestServer::~TestServer() { app_->stop(std::chrono::milliseconds(2000)); }

std::string TestServer::login(const std::string& phone, const std::string& password) {
  HttpClient client(port());
  auto reply = post_json(client, "/api/v1/sessions", "{\"phone\":\"" + phone + "\",\"password\":\"" + password + "\"}");
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

}  // namespace cunhuo::test
