#include <catch2/catch.hpp>

#include "core/privacy.hpp"
#include "core/region.hpp"

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

TEST_CASE("free text is redacted of id numbers, phones and card numbers", "[privacy]") {
  std::string text = "id 62062119850409004X phone 13800000004 card 6222021234567890123 at 1732500000000 qty 12";
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
