#include <catch2/catch.hpp>

#include "core/json.hpp"

using cunhuo::FieldReader;
using cunhuo::Json;
using cunhuo::JsonWriter;

namespace {
FieldReader reader_for(const Json& doc) {
  auto r = FieldReader::root(doc);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("json parses objects, arrays, numbers and Chinese text", "[json]") {
  auto doc =
      Json::parse(R"({"title":"民勤蜜瓜","price":1280,"ok":true,"tags":["甜","沙漠"],"w":1.5})");
  REQUIRE(doc.ok());
  auto r = reader_for(*doc);
  CHECK(*r.string("title") == "民勤蜜瓜");
  CHECK(*r.integer("price", 1, 100000) == 1280);
  CHECK(*r.boolean("ok"));
  CHECK(r.strings("tags", 10, 10)->size() == 2);
}

TEST_CASE("malformed json is reported as malformed", "[json]") {
  auto doc = Json::parse(R"({"a":1,)");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().code == "malformed_json");
  CHECK(doc.error().kind == cunhuo::ErrorKind::invalid);
}

TEST_CASE("invalid utf-8 is refused", "[json]") {
  auto doc = Json::parse(std::string("{\"a\":\"\xff\xfe\"}"));
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().code == "invalid_utf8");
}

TEST_CASE("duplicate fields are refused", "[json]") {
  auto doc = Json::parse(R"({"a":1,"a":2})");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().code == "duplicate_field");
  CHECK(doc.error().field == "a");
}

TEST_CASE("nesting deeper than the limit is refused", "[json]") {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto doc = Json::parse(deep);
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.error().code == "too_deep");
}

TEST_CASE("a wrong type names the field and both types", "[json]") {
  auto doc = Json::parse(R"({"items":[{"product_id":1,"quantity":"two"}]})");
  REQUIRE(doc.ok());
  auto items = reader_for(*doc).objects("items", 10);
  REQUIRE(items.ok());
  auto q = (*items)[0].integer("quantity", 1, 100);
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().code == "invalid_type");
  CHECK(q.error().field == "items[0].quantity");
  CHECK(q.error().message == "expected integer, got string");
}

TEST_CASE("a missing field is named", "[json]") {
  auto doc = Json::parse(R"({"a":{}})");
  auto inner = reader_for(*doc).object("a");
  REQUIRE(inner.ok());
  auto missing = inner->string("name");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "missing_field");
  CHECK(missing.error().field == "a.name");
}

TEST_CASE("integers are range-checked and fractions refused", "[json]") {
  auto doc = Json::parse(R"({"n":-1,"f":2.5,"w":3.0,"big":18446744073709551615})");
  auto r = reader_for(*doc);
  CHECK(r.integer("n", 0, 10).error().code == "out_of_range");
  CHECK(r.integer("f", 0, 10).error().code == "invalid_type");
  CHECK(*r.integer("w", 0, 10) == 3);
  CHECK(r.integer("big", 0, 10).error().code == "out_of_range");
}

TEST_CASE("unknown fields are refused when a reader lists what it takes", "[json]") {
  auto doc = Json::parse(R"({"phone":"1","pasword":"x"})");
  auto st = reader_for(*doc).only({"phone", "password"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().field == "pasword");
}

TEST_CASE("a body that is not an object is refused", "[json]") {
  auto doc = Json::parse("[1,2]");
  REQUIRE(doc.ok());
  CHECK(FieldReader::root(*doc).error().code == "invalid_type");
}

TEST_CASE("the writer escapes quotes, control characters and html", "[json]") {
  JsonWriter w;
  w.begin_object().field("s", std::string("a\"b\\c\n\x01</script>&")).end_object();
  CHECK(w.str() == R"({"s":"a\"b\\c\n\u0001\u003c/script\u003e\u0026"})");
}

TEST_CASE("the writer keeps valid utf-8 and replaces invalid bytes", "[json]") {
  JsonWriter w;
  w.begin_array()
      .value(std::string("苁蓉"))
      .value(std::string("x\xc3("))
      .value(std::string("\xed\xa0\x80"))
      .end_array();
  CHECK(w.str() == "[\"苁蓉\",\"x\\ufffd(\",\"\\ufffd\\ufffd\\ufffd\"]");
  auto back = Json::parse(w.str());
  REQUIRE(back.ok());
}

TEST_CASE("the writer escapes line separators for javascript", "[json]") {
  JsonWriter w;
  w.value(std::string("a\u2028b"));
  CHECK(w.str() == "\"a\\u2028b\"");
}

TEST_CASE("writer output round-trips through the parser", "[json]") {
  JsonWriter w;
  w.begin_object().field("n", std::int64_t{-42}).field("b", false).key("z").null();
  w.key("list").begin_array().value(1).value(2).end_array().end_object();
  auto doc = Json::parse(w.str());
  REQUIRE(doc.ok());
  JsonWriter again;
  again.value(*doc);
  CHECK(again.str() == w.str());
}
