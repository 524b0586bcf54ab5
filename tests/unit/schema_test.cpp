// The schema builder and the checker that the route table runs on bodies and answers.
#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "storefront/route_table.hpp"
#include "storefront/schema.hpp"

using namespace cunhuo;
using namespace cunhuo::storefront::schema;
using cunhuo::storefront::check_against_schema;

namespace {

// The error code of checking `json` against `s`, or "" when it passes.
std::string verdict(const Schema& s, const std::string& json) {
  auto doc = Json::parse(json);
  REQUIRE(doc.ok());
  auto status = check_against_schema(*doc, s.json(), "");
  return status.ok() ? "" : status.error().code;
}

const Schema kParcel = object({
    required("id", id()),
    required("weight_g", integer(1, 50'000)),
    optional("note", nullable(text(5))),
    optional("class", nullable(choice({"chilled", "frozen"}))),
    optional("tags", array(text(3), 2)),
});

}  // namespace

TEST_CASE("an object the schema describes passes", "[schema]") {
  CHECK(verdict(kParcel, R"({"id":1,"weight_g":500})") == "");
  CHECK(verdict(kParcel, R"({"id":1,"weight_g":500,"note":null,"class":null})") == "");
  CHECK(verdict(kParcel, R"({"id":1,"weight_g":500,"note":"冷","class":"frozen","tags":["a"]})") ==
        "");
}

TEST_CASE("refusals, each the first the checker meets", "[schema]") {
  struct Case {
    const char* body;
    const char* code;
  };
  const Case cases[] = {
      {R"({"weight_g":500})", "missing_field"},
      {R"({"id":1,"weight_g":500,"colour":"red"})", "unknown_field"},
      {R"({"id":"1","weight_g":500})", "invalid_type"},
      {R"({"id":0,"weight_g":500})", "out_of_range"},
      {R"({"id":1,"weight_g":50001})", "out_of_range"},
      {R"({"id":1,"weight_g":5,"note":"too long"})", "too_long"},
      {R"({"id":1,"weight_g":5,"class":"warm"})", "invalid_value"},
      {R"({"id":1,"weight_g":5,"tags":["a","b","c"]})", "too_many_items"},
      {R"({"id":1,"weight_g":5,"tags":["abcd"]})", "too_long"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    CHECK(verdict(kParcel, c.body) == c.code);
  }
}

TEST_CASE("a map's keys are data and its values follow the value schema", "[schema]") {
  const Schema counts = map_of(integer(0));
  CHECK(verdict(counts, R"({"chilled":3,"frozen":0})") == "");
  CHECK(verdict(counts, R"({"chilled":-1})") == "out_of_range");
}

TEST_CASE("a nullable schema admits null and still checks a value", "[schema]") {
  const Schema maybe = object({required("at", nullable(integer(0)))});
  CHECK(verdict(maybe, R"({"at":null})") == "");
  CHECK(verdict(maybe, R"({"at":-5})") == "out_of_range");
  CHECK(verdict(maybe, R"({"at":"soon"})") == "invalid_type");
}

TEST_CASE("a schema is written as the JSON Schema text the document publishes", "[schema]") {
  CHECK(object({required("n", integer(0, 9))}).text() ==
        R"({"type":"object","additionalProperties":false,"properties":{"n":{"type":"integer",)"
        R"("minimum":0,"maximum":9}},"required":["n"]})");
}

TEST_CASE("describing a part that has a description keeps one description with both",
          "[schema]") {
  const Schema s = shanghai_time().described("from where it is");
  int descriptions = 0;
  for (const auto& [name, value] : s.members()) descriptions += name == "description" ? 1 : 0;
  CHECK(descriptions == 1);
  CHECK(s.text().find("from where it is") != std::string::npos);
}
