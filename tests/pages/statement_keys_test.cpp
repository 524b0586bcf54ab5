// Statements checked without the platform: the signing keys are published by serial, as
// PEM that openssl reads, and a downloaded statement verifies with openssl and coreutils
// alone (deploy/verify-statement.sh, the README's recipe); a key retired by a rotation
// stays published, so what it signed still verifies.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "core/json.hpp"
#include "payments/statement_keys.hpp"
#include "payments/statements.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

std::string this_month() { return format_date(shanghai_date(SystemClock().now_ms())).substr(0, 7); }

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Runs the README's openssl recipe; true when it says the statement is genuine.
bool openssl_verifies(const std::string& document, const std::string& pem) {
  const std::string doc = write_file("statement.json", document);
  const std::string key = write_file("key.pem", pem);
  const std::string command = "bash " CUNHUO_SOURCE_DIR "/deploy/verify-statement.sh " + doc + " " +
                              key + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string field(const std::string& json, const char* name) {
  auto doc = Json::parse(json);
  REQUIRE(doc.ok());
  return doc->find(name)->as_string();
}

}  // namespace

TEST_CASE("the key in use is published first, with a PEM that openssl reads", "[pages][keys]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto listed = c.request("GET", "/api/v1/statement-keys");
  REQUIRE(listed.status == 200);
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  const auto& first = doc->find("keys")->as_array().front();
  CHECK(first.find("in_use")->as_bool());
  CHECK(first.find("serial")->as_string() == server.app().statement_key().serial());
  const std::string serial = first.find("serial")->as_string();
  auto pem = c.request("GET", "/api/v1/statement-keys/" + serial + "?format=pem");
  REQUIRE(pem.status == 200);
  const std::string path = write_file("key.pem", pem.body);
  CHECK(std::system(("openssl pkey -pubin -in " + path + " -noout").c_str()) == 0);
  CHECK(c.request("GET", "/api/v1/statement-keys/0000000000000000").status == 404);
}

STORE_TEST("a downloaded statement verifies with openssl alone, and an altered one does not",
           "[pages][keys]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto statement = c.request("GET", "/api/v1/households/1/statements/" + this_month(), "",
                             bearer(server.login(kFarmer)));
  REQUIRE(statement.status == 200);
  const std::string serial = field(statement.body, "key_serial");
  const std::string pem = c.request("GET", "/api/v1/statement-keys/" + serial + "?format=pem").body;
  CHECK(openssl_verifies(statement.body, pem));
  std::string altered = statement.body;
  const auto at = altered.find("\"members\":");
  REQUIRE(at != std::string::npos);
  altered[at + 10] = altered[at + 10] == '9' ? '8' : '9';
  CHECK_FALSE(openssl_verifies(altered, pem));
}

TEST_CASE("a statement signed by a retired key still verifies against its published key",
          "[pages][keys]") {
  TestServer server(StoreKind::sqlite);
  const auto old_key = payments::SigningKey::from_seed({1, 2, 3});
  SystemClock clock;
  auto& db = server.store().db();
  // The old key was in use before the server's: a rotation retired it.
  REQUIRE(db.write([&](db::Session& tx) -> Status {
              CUNHUO_CHECK(payments::record_statement_key(tx, old_key, clock));
              return payments::record_statement_key(tx, server.app().statement_key(), clock);
            }).ok());
  auto period = payments::parse_period(this_month());
  REQUIRE(period.ok());
  auto signed_by_old = db.read([&](db::Session& s) {
    return payments::issue_statement(
        s, payments::StatementSubject{.household_id = 1, .village_code = "620621104201"}, *period,
        old_key, clock);
  });
  REQUIRE(signed_by_old.ok());
  HttpClient c(server.port());
  auto verdict = c.request("POST", "/api/v1/statements/verify", signed_by_old->document());
  REQUIRE(verdict.status == 200);
  CHECK(verdict.body.find("\"genuine\":true") != std::string::npos);
  auto keys = c.request("GET", "/api/v1/statement-keys");
  CHECK(keys.body.find(old_key.serial()) != std::string::npos);
  CHECK(keys.body.find("\"retired_at\":null") != std::string::npos);  // the one in use
}
