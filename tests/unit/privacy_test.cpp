#include <catch2/catch.hpp>

#include "core/privacy.hpp"
#include "core/region.hpp"
#include "core/text.hpp"

TEST_CASE("names are masked by code point", "[privacy]") {
  CHECK(cunhuo::mask_name("张三明") == "张*明");
  CHECK(cunhuo::mask_name("张三") == "张*");
  CHECK(cunhuo::mask_name("欧阳小明") == "欧**明");
  CHECK(cunhuo::mask_name("李") == "李");
}

TEST_CASE("id numbers keep the region code and the last four", "[privacy]") {
  CHECK(cunhuo::mask_id_number("620621199001011234") == "620621********1234");
  CHECK(cunhuo::mask_phone("13812345678") == "138****5678");
  CHECK(cunhuo::mask_account("6222021234567890123") == "***************0123");
}

TEST_CASE("a masked id number shows no digit of the birth date", "[privacy]") {
  CHECK(cunhuo::mask_id_number("620621199001011234") == "620621********1234");
  CHECK(cunhuo::mask_id_number("620621900101123") == "620621******123");  // old 15-digit card
  CHECK(cunhuo::mask_id_number("62062119900101") == "**************");    // not an ID: all masked
}

TEST_CASE("phones with the +86 or 86 country code are redacted", "[privacy]") {
  for (const std::string text : {"call +8613812345678 now", "call 8613812345678 now",
                                 "call +86 13812345678 now", "call 86-13812345678 now"}) {
    CAPTURE(text);
    const std::string clean = cunhuo::redact(text);
    CHECK(clean.find("13812345678") == std::string::npos);
    CHECK(clean.find("138****5678") != std::string::npos);
  }
}

TEST_CASE("a csv field cannot start a formula, a tab or a carriage return", "[privacy]") {
  for (const std::string text : {"=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"}) {
    CAPTURE(text);
    CHECK(cunhuo::csv_field(text).substr(0, 2) == "\"'");
  }
  CHECK(cunhuo::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
}

TEST_CASE("free text is redacted of id numbers, phones and card numbers", "[privacy]") {
  std::string text =
      "id 62062119850409004X phone 13800000004 card 6222021234567890123 at 1732500000000 qty 12";
  std::string clean = cunhuo::redact(text);
  CHECK(clean.find("62062119850409004X") == std::string::npos);
  CHECK(clean.find("13800000004") == std::string::npos);
  CHECK(clean.find("6222021234567890123") == std::string::npos);
  CHECK(clean.find("620621********004X") != std::string::npos);
  CHECK(clean.find("1732500000000") != std::string::npos);  // a timestamp is not personal
  CHECK(clean.find("qty 12") != std::string::npos);
}

TEST_CASE("region codes are validated and nested", "[region]") {
  CHECK(*cunhuo::region_level("620621") == cunhuo::RegionLevel::county);
  CHECK(*cunhuo::region_level("620600") == cunhuo::RegionLevel::prefecture);
  CHECK(*cunhuo::region_level("620000") == cunhuo::RegionLevel::province);
  CHECK(*cunhuo::region_level("620621104") == cunhuo::RegionLevel::township);
  CHECK(*cunhuo::region_level("620621104201") == cunhuo::RegionLevel::village);
  CHECK_FALSE(cunhuo::region_level("62062").ok());
  CHECK_FALSE(cunhuo::region_level("62062a").ok());
  CHECK(cunhuo::county_of("620621104201") == "620621");
  CHECK(cunhuo::region_within("620621104201", "620000"));
  CHECK(cunhuo::region_within("620621104201", "620621104"));
  CHECK_FALSE(cunhuo::region_within("620622104201", "620621"));
}
