#include "seeds/demo.hpp"

#include <gd.h>
#include <gdfontl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>

#include "alleviation/monitoring.hpp"
#include "core/assert.hpp"
#include "core/json.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/registry.hpp"
#include "payments/refunds.hpp"
#include "seeds/loader.hpp"

namespace cunhuo::seeds::demo {

namespace {

// ---- the county ----------------------------------------------------------------------

struct Township {
  const char* suffix;  // the three digits after 620621 (invented codes, as in the fixture)
  const char* name;
  const char* code;  // node code part
  int lat_e6, lon_e6;
  bool cold_store;  // a pre-cooling cold store of its own (besides 西渠镇's, in the fixture)
};

// 民勤县's 18 townships; the first five are the fixture's, with its codes.
constexpr std::array<Township, kTownships> kTownshipList = {{
    {"101", "三雷镇", "SL", 38700000, 103140000, false},
    {"102", "东坝镇", "DB", 38560000, 103180000, false},
    {"103", "泉山镇", "QS", 38650000, 103020000, false},
    {"104", "西渠镇", "XQ", 38820000, 103400000, false},
    {"105", "红沙梁镇", "HS", 38900000, 103250000, false},
    {"106", "东湖镇", "DH", 39010000, 103560000, true},
    {"107", "红沙岗镇", "HG", 38780000, 102650000, false},
    {"108", "昌宁镇", "CN", 38420000, 102880000, false},
    {"109", "重兴镇", "CX", 38740000, 103300000, false},
    {"110", "蔡旗镇", "CQ", 38230000, 102760000, false},
    {"111", "薛百镇", "XB", 38560000, 103060000, false},
    {"112", "大坝镇", "DA", 38500000, 103010000, true},
    {"113", "苏武镇", "SW", 38600000, 103150000, false},
    {"114", "夹河镇", "JH", 38380000, 102930000, false},
    {"115", "大滩镇", "DT", 38630000, 103230000, false},
    {"116", "双茨科镇", "SC", 38600000, 103110000, false},
    {"117", "收成镇", "SH", 38950000, 103450000, true},
    {"118", "南湖镇", "NH", 38350000, 103600000, false},
}};
constexpr int kFixtureTownships = 5;

constexpr std::array<const char*, 36> kVillageNames = {
    "永丰", "红星", "东升", "建设", "团结", "富民", "丰收", "新河", "光明", "胜利", "和谐", "兴旺",
    "向阳", "金沙", "绿洲", "泉水", "沙湾", "长城", "双湖", "中渠", "上坝", "下坝", "新风", "前进",
    "东风", "西湖", "南渠", "北井", "花寨", "柳林", "杏园", "枣园", "瓜园", "黄岗", "沙井", "青松"};

constexpr std::array<const char*, 24> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                                                   "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
                                                   "何", "高", "罗", "郑", "梁", "谢", "宋", "唐"};
constexpr std::array<const char*, 40> kGiven = {
    "建国", "秀英", "明德", "桂兰", "志强", "玉梅", "国庆", "春花", "海军", "淑珍",
    "卫东", "红梅", "永生", "兰英", "德福", "翠萍", "振华", "金凤", "长青", "雪莲",
    "宏伟", "小红", "文斌", "丽娟", "天佑", "芳芳", "俊杰", "秀兰", "子豪", "雨涵",
    "建军", "美玲", "学文", "冬梅", "保平", "凤英", "立新", "艳霞", "家宝", "晓燕"};

// A village: its 12-digit code, name, township, and a service point node when it has one.
struct Village {
  std::string code, name, point;
  int township = 0;
};

struct HouseholdPlan {
  std::string key, village, name, phone;
  int township = 0;
  const char* status = "registered_poor";
};

struct ShopPlan {
  std::string key, name, village;
  bool cooperative = false;
  std::vector<int> members;  // indexes into the households
};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  int between(int lo, int hi) {
    return lo + static_cast<int>(gen_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return between(1, 100) <= percent; }
  template <class List>
  const auto& pick(const List& list) {
    return list[static_cast<std::size_t>(between(0, static_cast<int>(std::size(list)) - 1))];
  }

 private:
  std::mt19937_64 gen_;
};

std::string township_code(int t) { return std::string("620621") + kTownshipList[t].suffix; }

// The fixture's villages keep their codes and points; every other township gets two.
std::vector<Village> villages() {
  std::vector<Village> out = {
      {"620621101201", "红旗村", "MQ-VP-SL01", 0}, {"620621101202", "中陶村", "MQ-VP-SL02", 0},
      {"620621102201", "东湖村", "MQ-VP-DB01", 1}, {"620621103201", "和平村", "MQ-VP-QS01", 2},
      {"620621104201", "致力村", "MQ-VP-XQ01", 3}, {"620621104202", "首好村", "MQ-VP-XQ02", 3},
      {"620621105201", "新沟村", "MQ-VP-HS01", 4}};
  std::size_t name = 0;
  for (int t = kFixtureTownships; t < kTownships; ++t)
    for (int v = 1; v <= 2; ++v)
      out.push_back({township_code(t) + "20" + std::to_string(v),
                     std::string(kVillageNames[name++ % kVillageNames.size()]) + "村",
                     std::string("MQ-VP-") + kTownshipList[t].code + "0" + std::to_string(v), t});
  return out;
}

}  // namespace

std::string id_number(std::string_view region6, int birth_year, int month, int day, int serial,
                      bool female) {
  constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  constexpr std::string_view kCheck = "10X98765432";
  // The 17th digit is odd for men, even for women.
  const int order = (serial % 499) * 2 + (female ? 0 : 1);
  char body[24];
  std::snprintf(body, sizeof body, "%.6s%04d%02d%02d%03d", std::string(region6).c_str(), birth_year,
                month, day, order);
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + kCheck[static_cast<std::size_t>(sum % 11)];
}

namespace {

// ---- the static part as loader JSON ----------------------------------------------------

void write_member(JsonWriter& w, Rng& rng, const std::string& name, const char* relationship,
                  int birth_year, bool female, int serial, const char* education) {
  const char* health = rng.chance(80)
                           ? "healthy"
                           : rng.pick(std::array{"chronic_illness", "serious_illness", "disabled"});
  w.begin_object()
      .field("name", name)
      .field("relationship", relationship)
      .field("birth_year", birth_year)
      .field("health", health)
      .field("education", education)
      .field("id_number", id_number("620621", birth_year, rng.between(1, 12), rng.between(1, 28),
                                    serial, female))
      .field("medical_insurance", rng.chance(95))
      .end_object();
}

// A household's archive card: the head first, then spouse, children and perhaps a parent.
void write_household(JsonWriter& w, Rng& rng, const HouseholdPlan& h, int index,
                     const Village& village, const char* status) {
  const int head_year = rng.between(1955, 1990);
  const bool head_female = h.name == "李秀英" || rng.chance(20);
  const std::string surname = h.name.substr(0, 3);
  int serial = index * 7;
  const int children = rng.between(0, 3);
  const bool spouse = rng.chance(80), parent = rng.chance(35);
  const int count = 1 + (spouse ? 1 : 0) + children + (parent ? 1 : 0);
  w.begin_object().field("key", h.key).field("village_code", h.village).field("head_name", h.name);
  // Heads' birthdays differ by index, so their ID numbers never collide.
  const std::string head_id =
      id_number("620621", head_year, 1 + index % 12, 1 + (index / 12) % 28, serial, head_female);
  w.field("head_id_number", head_id).field("phone", h.phone).field("member_count", count);
  w.field("status", status).key("card").begin_object().key("members").begin_array();
  w.begin_object()
      .field("name", h.name)
      .field("relationship", "head")
      .field("birth_year", head_year)
      .field("health", rng.chance(75) ? "healthy" : "chronic_illness")
      .field("education", rng.pick(std::array{"primary", "junior", "senior"}))
      .field("id_number", head_id)
      .field("medical_insurance", true)
      .end_object();
  if (spouse)
    write_member(w, rng, std::string(rng.pick(kSurnames)) + rng.pick(kGiven), "spouse",
                 head_year + rng.between(-3, 3), !head_female, ++serial, "primary");
  for (int c = 0; c < children; ++c) {
    const int year = std::min(2022, head_year + rng.between(20, 32));
    write_member(w, rng, surname + rng.pick(kGiven), "child", year, rng.chance(50), ++serial,
                 year > 2006 ? "in_school" : "senior");
  }
  if (parent)
    write_member(w, rng, surname + rng.pick(kGiven), "parent", head_year - rng.between(22, 30),
                 rng.chance(60), ++serial, "none");
  w.end_array().key("causes").begin_array();
  w.value(rng.pick(std::array{"illness", "water_shortage", "labour_shortage", "capital_shortage",
                              "lack_of_technology", "land_shortage"}));
  if (rng.chance(40)) w.value("water_shortage");
  w.end_array();
  w.field("land_mu_hundredths", rng.between(300, 2500))
      .field("housing", rng.chance(70) ? "safe" : "renovated")
      .field("drinking_water", "safe");
  w.key("income")
      .begin_object()
      .field("year", 2025)
      .field("wages_fen", static_cast<std::int64_t>(rng.between(2000, 18000)) * 100)
      .field("own_business_fen", static_cast<std::int64_t>(rng.between(1000, 12000)) * 100)
      .field("property_fen", 0)
      .field("transfers_fen", static_cast<std::int64_t>(rng.between(1000, 6000)) * 100)
      .end_object();
  // 陈志刚 helps in 致力村 (his account is the fixture's 13600000001); elsewhere each
  // village has a helper of its own, without an account.
  const bool chen = village.code == "620621104201";
  w.key("helper")
      .begin_object()
      .field("name", chen ? std::string("陈志刚") : village.name + "帮扶干部")
      .field("phone", chen ? std::string("13600000001")
                           : "1361" + std::to_string(1000000 + village.township * 100 +
                                                     static_cast<int>(village.code.back() - '0')))
      .end_object();
  w.end_object().end_object();
}

std::vector<HouseholdPlan> household_plans(Rng& rng, const std::vector<Village>& vs) {
  std::vector<HouseholdPlan> out = {{"wang", "620621104201", "王建国", "13800000001", 3},
                                    {"li", "620621104201", "李秀英", "13800000002", 3}};
  for (int i = 0; i < kGeneratedHouseholds; ++i) {
    const auto& v = vs[static_cast<std::size_t>(i) % vs.size()];
    const int roll = rng.between(1, 100);
    const char* status = roll <= 55   ? "registered_poor"
                         : roll <= 70 ? "at_risk"
                         : roll <= 95 ? "exited"
                                      : "not_registered";
    out.push_back({"h" + std::to_string(i + 3), v.code,
                   std::string(rng.pick(kSurnames)) + rng.pick(kGiven),
                   "1381" + std::to_string(2000000 + i), v.township, status});
  }
  return out;
}

// The fixture's two shops of 西渠镇 first (the walkthrough's), then a cooperative in every
// township and household shops.
std::vector<ShopPlan> shop_plans(Rng& rng, const std::vector<HouseholdPlan>& hs) {
  std::vector<ShopPlan> out = {
      {"wang-shop", "王家蜜瓜小店（示例）", "620621104201", false, {0}},
      {"xiqu-coop", "西渠镇蜜瓜专业合作社（示例）", "620621104201", true, {0, 1}}};
  for (int t = 0; t < kTownships; ++t) {
    ShopPlan coop{"coop-" + std::string(kTownshipList[t].code),
                  std::string(kTownshipList[t].name) + "特色农产品专业合作社（示例）",
                  "",
                  true,
                  {}};
    for (std::size_t i = 2; i < hs.size(); ++i)
      if (hs[i].township == t && coop.members.size() < 8) coop.members.push_back(int(i));
    if (t == 3) coop.members.clear();  // 西渠镇's is the fixture's
    if (coop.members.empty()) continue;
    coop.village = hs[static_cast<std::size_t>(coop.members.front())].village;
    out.push_back(coop);
  }
  for (int s = 0; s < 16; ++s) {
    const int member = 2 + rng.between(0, kGeneratedHouseholds - 1);
    const auto& h = hs[static_cast<std::size_t>(member)];
    out.push_back({"shop-" + std::to_string(s), h.name.substr(0, 3) + "家农庄（示例）", h.village,
                   false, std::vector<int>{member}});
  }
  for (std::size_t i = 2; i < hs.size(); i += 9)  // more 西渠镇 members in its cooperative
    if (hs[i].township == 3) out[1].members.push_back(static_cast<int>(i));
  return out;
}

void write_nodes(JsonWriter& w, const Json& fixture, const std::vector<Village>& vs) {
  w.key("nodes").begin_array();
  for (const auto& n : fixture.find("nodes")->as_array()) w.value(n);
  for (int t = kFixtureTownships; t < kTownships; ++t) {
    const auto& ts = kTownshipList[t];
    w.begin_object()
        .field("code", std::string("MQ-TS-") + ts.code)
        .field("kind", "township_station")
        .field("name", std::string(ts.name) + "电商服务站（示例）")
        .field("region_code", township_code(t))
        .field("lat_e6", ts.lat_e6)
        .field("lon_e6", ts.lon_e6)
        .end_object();
    if (ts.cold_store)
      w.begin_object()
          .field("code", std::string("MQ-CS-") + ts.code)
          .field("kind", "cold_store")
          .field("name", std::string(ts.name) + "预冷库（示例）")
          .field("region_code", township_code(t))
          .field("cold_capacity_crates", 200)
          .field("min_centi", 0)
          .field("max_centi", 400)
          .end_object();
  }
  for (const auto& v : vs)
    if (v.township >= kFixtureTownships)
      w.begin_object()
          .field("code", v.point)
          .field("kind", "village_point")
          .field("name", std::string(kTownshipList[v.township].name) + v.name + "服务点（示例）")
          .field("region_code", v.code)
          .end_object();
  w.end_array();
}

void write_link(JsonWriter& w, const std::string& from, const std::string& to, const char* mode,
                int minutes, int cost, const char* timetable = nullptr,
                const char* back = nullptr) {
  w.begin_object()
      .field("from", from)
      .field("to", to)
      .field("mode", mode)
      .field("duration_min", minutes)
      .field("cost_fen", cost);
  if (timetable) w.field("timetable", timetable);
  if (back) w.field("return_timetable", back);
  w.end_object();
}

void write_links(JsonWriter& w, Rng& rng, const Json& fixture, const std::vector<Village>& vs) {
  w.key("links").begin_array();
  for (const auto& l : fixture.find("links")->as_array()) w.value(l);
  for (int t = kFixtureTownships; t < kTownships; ++t) {
    const std::string station = std::string("MQ-TS-") + kTownshipList[t].code;
    write_link(w, station, "MQ-CC-01", "van", rng.between(50, 110), 800, "Mon-Sun 08:00,14:00",
               "Mon-Sun 07:00,13:00");
    if (kTownshipList[t].cold_store) {
      const std::string store = std::string("MQ-CS-") + kTownshipList[t].code;
      write_link(w, station, store, "tricycle", 10, 100);
      write_link(w, store, "MQ-CS-01", "refrigerated_van", rng.between(50, 100), 1500,
                 "Mon-Sun 10:00,16:00", "Mon-Sun 12:30");
    }
  }
  for (const auto& v : vs)
    if (v.township >= kFixtureTownships)
      write_link(w, v.point, std::string("MQ-TS-") + kTownshipList[v.township].code, "tricycle",
                 rng.between(15, 40), 300);
  w.end_array();
}

void write_shops(JsonWriter& w, const std::vector<ShopPlan>& shops,
                 const std::vector<HouseholdPlan>& hs) {
  w.key("shops").begin_array();
  for (const auto& s : shops) {
    w.begin_object()
        .field("key", s.key)
        .field("name", s.name)
        .field("kind", s.cooperative ? "cooperative" : "household")
        .field("village_code", s.village)
        .key("members")
        .begin_array();
    for (int m : s.members) w.value(hs[static_cast<std::size_t>(m)].key);
    w.end_array().end_object();
  }
  w.end_array();
}

void write_accounts(JsonWriter& w, const Json& fixture) {
  constexpr std::array<const char*, 6> kCities = {"620102", "620103", "620104",
                                                  "620105", "620602", "620402"};
  w.key("accounts").begin_array();
  for (const auto& a : fixture.find("accounts")->as_array()) w.value(a);
  for (int c = 1; c <= kConsumers; ++c)
    w.begin_object()
        .field("phone", "137" + std::to_string(10000000 + c))
        .field("password", "cunhuo-demo")
        .field("display_name", "示例消费者" + std::to_string(c))
        .field("role", "consumer")
        .field("region_code", kCities[static_cast<std::size_t>(c) % kCities.size()])
        .end_object();
  w.end_array();
}

// ---- listings ------------------------------------------------------------------------

struct ProductKind {
  const char* title;
  const char* category;
  const char* unit;
  int price_fen;
  TemperatureClass temperature;
  int shelf_life_days;
  int r, g, b;  // the colour its drawn photo shows
};

constexpr std::array<ProductKind, 14> kProducts = {{
    {"民勤沙漠蜜瓜", "水果", "box", 3980, TemperatureClass::chilled, 20, 214, 200, 70},
    {"民勤滩羊肉", "肉类", "kg", 8800, TemperatureClass::chilled, 7, 190, 60, 60},
    {"肉苁蓉", "滋补", "jin", 12800, TemperatureClass::ambient, 720, 150, 100, 60},
    {"锁阳", "滋补", "jin", 6800, TemperatureClass::ambient, 720, 160, 50, 40},
    {"枸杞", "干果", "jin", 4500, TemperatureClass::ambient, 365, 220, 40, 40},
    {"人参果", "水果", "box", 5900, TemperatureClass::chilled, 15, 240, 220, 150},
    {"沙葱", "蔬菜", "jin", 1800, TemperatureClass::chilled, 5, 60, 150, 60},
    {"白牦牛肉", "肉类", "kg", 13800, TemperatureClass::chilled, 7, 170, 40, 50},
    {"民勤葡萄酒", "酒水", "piece", 9800, TemperatureClass::ambient, 1825, 110, 20, 60},
    {"糯玉米", "粮油", "box", 3600, TemperatureClass::ambient, 90, 245, 210, 60},
    {"黑瓜子", "干果", "jin", 2800, TemperatureClass::ambient, 300, 40, 40, 40},
    {"红枣", "干果", "jin", 2500, TemperatureClass::ambient, 365, 170, 30, 30},
    {"小茴香", "调味", "jin", 2200, TemperatureClass::ambient, 365, 130, 150, 70},
    {"白兰瓜", "水果", "box", 4200, TemperatureClass::chilled, 20, 230, 235, 200},
}};
constexpr std::array<std::pair<const char*, int>, 4> kPacks = {
    {{"5斤装", 100}, {"10斤装", 190}, {"家庭装", 150}, {"礼盒装", 260}}};

// A simple drawn photo: the product's colour as a round fruit on a field, as PNG bytes.
std::string draw_photo(const ProductKind& p, int variant) {
  constexpr int kW = 400, kH = 300;
  gdImagePtr im = gdImageCreateTrueColor(kW, kH);
  gdImageFilledRectangle(im, 0, 0, kW, kH, gdTrueColor(235, 225, 200));           // sky
  gdImageFilledRectangle(im, 0, kH * 2 / 3, kW, kH, gdTrueColor(200, 170, 110));  // sand
  const int colour = gdTrueColor(p.r, p.g, p.b);
  const int x = 140 + (variant % 3) * 60, size = 120 + (variant % 4) * 15;
  gdImageFilledEllipse(im, x, kH / 2, size, size * 4 / 5, colour);
  gdImageFilledEllipse(
      im, x - size / 5, kH / 2 - size / 6, size / 4, size / 6,
      gdTrueColor(std::min(255, p.r + 40), std::min(255, p.g + 40), std::min(255, p.b + 40)));
  const std::string label = "SAMPLE " + std::to_string(variant);
  gdImageString(im, gdFontGetLarge(), 10, 10,
                reinterpret_cast<unsigned char*>(const_cast<char*>(label.c_str())),
                gdTrueColor(60, 60, 60));
  int size_bytes = 0;
  void* png = gdImagePngPtr(im, &size_bytes);
  std::string out(static_cast<const char*>(png), static_cast<std::size_t>(size_bytes));
  gdFree(png);
  gdImageDestroy(im);
  return out;
}

}  // namespace

std::string places_json() {
  auto fixture = Json::parse(updates_of("fixture").at(0));  // its places come first
  CUNHUO_ASSERT(fixture.ok());
  std::map<std::string, std::string> names;
  for (const auto& p : fixture->find("places")->as_array())
    names[std::string(p.find("code")->as_string())] = std::string(p.find("name")->as_string());
  for (int t = 0; t < kTownships; ++t) names[township_code(t)] = kTownshipList[t].name;
  for (const auto& v : villages()) names[v.code] = v.name;
  JsonWriter w;
  w.begin_object()
      .field("sample_data_notice",
             "SAMPLE DATA. The county, prefecture and district codes and the township names "
             "are real; the township and village codes and the village names are invented.")
      .field("name", std::string(kName) + ":places:1")
      .field("sample_data", true);
  w.key("places").begin_array();
  for (const auto& [code, name] : names)
    w.begin_object().field("code", code).field("name", name).end_object();
  w.end_array().end_object();
  return w.take();
}

std::string county_json() {
  auto fixture = Json::parse(*builtin("fixture"));
  CUNHUO_ASSERT(fixture.ok());
  Rng rng(kRandomSeed);
  const auto vs = villages();
  const auto hs = household_plans(rng, vs);
  const auto shops = shop_plans(rng, hs);
  JsonWriter w;
  w.begin_object()
      .field("sample_data_notice",
             "SAMPLE DATA. Only the county code 620621 (Minqin County) and the township names "
             "are real. Every township and village code, node code, person, ID number, phone "
             "number, shop, listing, order and password is invented for demonstration.")
      .field("name", kName)
      .field("sample_data", true);
  w.key("county").value(*fixture->find("county"));
  w.key("poor_counties").value(*fixture->find("poor_counties"));
  write_nodes(w, *fixture, vs);
  write_links(w, rng, *fixture, vs);
  w.key("sensors").begin_array();
  for (const auto& sensor : fixture->find("sensors")->as_array()) w.value(sensor);
  for (const auto& t : kTownshipList)
    if (t.cold_store)
      w.begin_object()
          .field("code", std::string("MQ-CS-") + t.code + "-T1")
          .field("node", std::string("MQ-CS-") + t.code)
          .end_object();
  w.end_array();
  w.key("households").begin_array();
  std::map<std::string, const Village*> by_code;
  for (const auto& v : vs) by_code[v.code] = &v;
  for (std::size_t i = 0; i < hs.size(); ++i)
    write_household(w, rng, hs[i], static_cast<int>(i), *by_code.at(hs[i].village), hs[i].status);
  w.end_array();
  write_shops(w, shops, hs);
  write_accounts(w, *fixture);
  w.key("organisations").value(*fixture->find("organisations"));
  w.end_object();
  return w.take();
}

namespace {

namespace lg = cunhuo::logistics;
namespace mk = cunhuo::marketplace;

constexpr std::int64_t kHourMs = 3'600'000, kDayMs = 24 * kHourMs;
constexpr std::int64_t kStock = 100'000;
constexpr int kCertifiedPercent = 40;
constexpr int kCampaignSharePercent = 60;  // of orders for a listing in a running campaign

void move_to(ManualClock& clock, std::int64_t ms) {
  if (ms > clock.now_ms()) clock.advance(std::chrono::milliseconds(ms - clock.now_ms()));
}

// A part of the demo recorded as done, so a restart skips it.
Result<bool> done(db::Database& db, const std::string& part) {
  return db.read([&](db::Session& s) -> Result<bool> {
    return CUNHUO_TRY(s.query_one("SELECT name FROM seed_sets WHERE name = ?", {part})).has_value();
  });
}
Status record(db::Session& tx, const std::string& part, const Clock& clock) {
  CUNHUO_TRY(tx.exec("INSERT INTO seed_sets (name, loaded_at, sample_data) VALUES (?, ?, 1)",
                     {part, clock.now_ms()}));
  return {};
}

// What the demo made, under the key of what made it ("listing" n, "campaign" n, "photo" n,
// "checkout" (day, n)), written in the transaction that made it: a resumed load finds it
// there instead of making it twice, and reads ids back from here, not from memory.
Result<std::optional<std::int64_t>> find_part(db::Session& s, std::string_view kind, int day,
                                              int n) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT ref_id FROM seed_demo_parts WHERE kind = ? AND day_index = ? AND seq = ?",
                  {std::string(kind), day, n}));
  if (!row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(row->i64(0));
}
Status keep_part(db::Session& tx, std::string_view kind, int day, int n, std::int64_t ref) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO seed_demo_parts (kind, day_index, seq, ref_id) VALUES (?, ?, ?, ?)",
              {std::string(kind), day, n, ref}));
  return {};
}

struct OrderKey {
  int day = 0, n = 0;  // the day's nth order
};

// The buyer's own choices after delivery come from the order's key, not from a random state
// carried through the run: a resumed load makes the same choices.
Rng buyer_rng(OrderKey key) {
  const auto mixed =
      (static_cast<std::uint64_t>(key.day) << 32 | static_cast<std::uint32_t>(key.n));
  return Rng(kRandomSeed ^ (mixed * 0x9E37'79B9'7F4A'7C15ULL));
}

struct Listing {
  mk::ProductId id;
  mk::ShopId shop;
  const ProductKind* kind = nullptr;
};

struct CampaignWindow {
  mk::CampaignId id;
  std::int64_t from_ms = 0, to_ms = 0;
  std::vector<std::int64_t> products;
};

struct Parcel {
  std::string tracking;
  std::int64_t order_id = 0;
  OrderKey key;
  std::int64_t due_ms = 0;
};

struct CampaignPlan {
  const char* name;
  mk::CampaignKind kind;
  std::int64_t from_ms, to_ms;
  int discount_bps;
  std::vector<std::string> categories;
};

// The campaigns, their windows from the history's first day and end: the same on a resume.
std::vector<CampaignPlan> campaign_plans(std::int64_t history_start, std::int64_t end_ms) {
  return {
      {"民勤蜜瓜消费帮扶季（示例）",
       mk::CampaignKind::consumption,
       end_ms - 30 * kDayMs,
       end_ms + 30 * kDayMs,
       1000,
       {"水果"}},
      {"沙漠滋补年货节（示例）",
       mk::CampaignKind::festival,
       end_ms - 10 * kDayMs,
       end_ms + 20 * kDayMs,
       800,
       {"滋补", "干果"}},
      {"兰州对口帮扶采购周（示例）",
       mk::CampaignKind::enterprise_pairing,
       history_start,
       end_ms + 60 * kDayMs,
       500,
       {"粮油", "调味", "酒水"}},
      {"国庆特惠（示例）",
       mk::CampaignKind::special_price,
       history_start + 20 * kDayMs,
       history_start + 27 * kDayMs,
       1500,
       {"肉类", "蔬菜"}},
  };
}

struct Confirmation {
  std::int64_t order_id = 0, at_ms = 0;
};

std::string part_name(const std::string& part) { return std::string(kName) + ":" + part; }

class Demo {
 public:
  Demo(db::Database& db, ManualClock& clock, lg::Planner& planner, const Hooks& hooks)
      : db_(db), clock_(clock), planner_(planner), hooks_(hooks), rng_(kRandomSeed) {
    vs_ = villages();
    hs_ = household_plans(rng_, vs_);
    shops_ = shop_plans(rng_, hs_);
  }

  // ---- listings, photos, certificates, campaigns -----------------------------------

  // The ids the loader gave the county's households and shops, by their seed keys (not
  // by position: a store may skip ids, e.g. MariaDB after a load cut short).
  Status resolve_ids() {
    return db_.read([&](db::Session& s) -> Status {
      household_ids_ = CUNHUO_TRY(seeded_ids(s, kName, "household"));
      shop_ids_ = CUNHUO_TRY(seeded_ids(s, kName, "shop"));
      CUNHUO_ASSERT(household_ids_.size() == hs_.size() && shop_ids_.size() == shops_.size());
      return {};
    });
  }

  // Listings, their certificates and the campaigns, in one transaction with the part's
  // record: a crash leaves all of it or none.
  Status listings_and_campaigns(std::int64_t history_start, std::int64_t end_ms) {
    const Rng before = rng_;
    return db_.write([&](db::Session& tx) -> Status {
      rng_ = before;  // a retried transaction draws the same prices
      std::vector<Listing> made;
      for (int i = 0; i < kListings; ++i) {
        made.push_back(CUNHUO_TRY(create_listing(tx, i)));
        CUNHUO_CHECK(keep_part(tx, "listing", 0, i, made.back().id.value));
        CUNHUO_CHECK(certify(tx, made.back().id, i));
      }
      const auto plans = campaign_plans(history_start, end_ms);
      for (std::size_t k = 0; k < plans.size(); ++k)
        CUNHUO_CHECK(create_campaign(tx, plans[k], made, static_cast<int>(k)));
      return record(tx, part_name("listings"), clock_);
    });
  }

  // The listings and the campaigns' windows and items, read back (made now or before).
  Status reload(std::int64_t history_start, std::int64_t end_ms, Report& report) {
    listings_.clear();
    campaigns_.clear();
    CUNHUO_CHECK(db_.read([&](db::Session& s) -> Status {
      for (int i = 0; i < kListings; ++i) {
        const auto id = CUNHUO_TRY(find_part(s, "listing", 0, i));
        CUNHUO_ASSERT(id.has_value());
        const auto p = CUNHUO_TRY(mk::find_product(s, mk::ProductId{*id}));
        CUNHUO_ASSERT(p.has_value());
        listings_.push_back({p->id, p->shop, &kind_of(i)});
      }
      const auto plans = campaign_plans(history_start, end_ms);
      for (std::size_t k = 0; k < plans.size(); ++k) {
        const auto id = CUNHUO_TRY(find_part(s, "campaign", 0, static_cast<int>(k)));
        CUNHUO_ASSERT(id.has_value());
        campaigns_.push_back({mk::CampaignId{*id}, plans[k].from_ms, plans[k].to_ms, {}});
        for (const auto& l : in_categories(plans[k], listings_))
          campaigns_.back().products.push_back(l.id.value);
      }
      return {};
    }));
    report.listings = static_cast<int>(listings_.size());
    report.campaigns = static_cast<int>(campaigns_.size());
    return {};
  }

  // Each listing's photo, recorded with its part: a resumed load draws only those missing.
  Status photos(const std::string& photo_folder, Report& report) {
    for (std::size_t i = 0; i < listings_.size(); ++i) {
      const int n = static_cast<int>(i);
      if (CUNHUO_TRY(db_.read([&](db::Session& s) { return find_part(s, "photo", 0, n); })))
        continue;
      auto image = CUNHUO_TRY(mk::process_image(draw_photo(*listings_[i].kind, n + 1)));
      auto key = CUNHUO_TRY(mk::store_photo_files(image, photo_folder));
      CUNHUO_CHECK(db_.write([&](db::Session& tx) -> Status {
        const auto photo = CUNHUO_TRY(mk::record_photo(tx, listings_[i].id, key, image, clock_));
        return keep_part(tx, "photo", 0, n, photo.id.value);
      }));
      ++report.photos;
    }
    return {};
  }

  // Parcels on their way and buyers' confirmations still to come, read back from the
  // orders made before (a resumed load; nothing on a fresh one). The late parcel the
  // demo leaves open is not followed, as when it was made.
  Status resume_following() {
    auto keyed = CUNHUO_TRY(db_.read([](db::Session& s) {
      return s.query(
          "SELECT day_index, seq, ref_id FROM seed_demo_parts WHERE kind = 'checkout' "
          "ORDER BY day_index, seq");
    }));
    for (const auto& row : keyed) {
      const OrderKey key{static_cast<int>(row.i64(0)), static_cast<int>(row.i64(1))};
      CUNHUO_CHECK(follow_checkout(mk::CheckoutId{row.i64(2)}, key, stuck(key)));
    }
    return {};
  }

  // ---- the days of orders ----------------------------------------------------------

  Status day(int d, std::int64_t day_start, std::int64_t end_ms, Report& report) {
    Rng rng(kRandomSeed + static_cast<std::uint64_t>(d));  // a resumed day is the same day
    std::vector<std::int64_t> times;
    const int count = rng.between(kMinOrdersPerDay, kMaxOrdersPerDay);
    for (int i = 0; i < count; ++i)
      times.push_back(day_start + 7 * kHourMs + rng.between(0, 16 * 60 - 1) * 60'000LL);
    std::sort(times.begin(), times.end());
    std::size_t next = 0;
    for (int hour = 0; hour < 24; ++hour) {
      const std::int64_t hour_end = std::min(day_start + (hour + 1) * kHourMs, end_ms);
      for (; next < times.size() && times[next] < hour_end; ++next) {
        move_to(clock_, times[next]);
        const OrderKey key{d, static_cast<int>(next)};
        CUNHUO_CHECK(order(rng, key));
        ++report.orders;
      }
      move_to(clock_, hour_end);
      CUNHUO_CHECK(scan_due());
      CUNHUO_CHECK(confirm_due());
      if (hour_end >= end_ms) break;
    }
    CUNHUO_TRY(mk::confirm_delivered_orders(db_, clock_, hooks_.auto_confirm, 10'000));
    CUNHUO_CHECK(hooks_.drain());
    ++report.days;
    return db_.write(
        [&](db::Session& tx) { return record(tx, part_name("day:" + std::to_string(d)), clock_); });
  }

  // ---- what is left open -----------------------------------------------------------

  Status exceptions() {
    CUNHUO_CHECK(excursion());
    CUNHUO_CHECK(refund_claim());
    return db_.write([&](db::Session& tx) -> Status {
      // A large medical expense on an at-risk household: monitoring opens an alert.
      for (std::size_t i = 0; i < hs_.size(); ++i)
        if (std::string_view(hs_[i].status) == "at_risk") {
          const std::int64_t id = household_ids_.at(hs_[i].key);
          CUNHUO_CHECK(alleviation::record_expense(tx, id, "medical", Money::fen(3'000'000),
                                                   "住院手术（示例）", "seed", clock_));
          CUNHUO_TRY(alleviation::monitor_household(tx, id, clock_));
          break;
        }
      return record(tx, part_name("exceptions"), clock_);
    });
  }

 private:
  // Chilled goods come from townships with a cold store on the way; the rest anywhere.
  const ProductKind& kind_of(int i) {
    if (i == 0) return kProducts[0];  // 王建国's melon
    const auto& shop = shops_[static_cast<std::size_t>(i) % shops_.size()];
    const int township = hs_[static_cast<std::size_t>(shop.members.front())].township;
    const bool cold = township == 3 || kTownshipList[static_cast<std::size_t>(township)].cold_store;
    const std::size_t k = static_cast<std::size_t>(i * 7 + i / 14) % kProducts.size();
    for (std::size_t step = 0; step < kProducts.size(); ++step) {
      const auto& p = kProducts[(k + step) % kProducts.size()];
      if (cold || p.temperature == TemperatureClass::ambient) return p;
    }
    return kProducts[2];
  }

  Result<Listing> create_listing(db::Session& tx, int i) {
    const auto& shop = shops_[static_cast<std::size_t>(i) % shops_.size()];
    const auto& kind = kind_of(i);
    const auto& pack = kPacks[static_cast<std::size_t>(i) % kPacks.size()];
    std::vector<mk::ProducerShare> producers;
    const std::size_t n = std::min<std::size_t>(shop.members.size(), 3);
    const auto member = [&](std::size_t m) {
      return static_cast<std::size_t>(
          shop.members[(m + static_cast<std::size_t>(i)) % shop.members.size()]);
    };
    for (std::size_t m = 0; m < n; ++m)
      producers.push_back({mk::HouseholdId{household_ids_.at(hs_[member(m)].key)},
                           mk::kFullShare / static_cast<int>(n)});
    producers.front().share_bps += mk::kFullShare % static_cast<int>(n);
    const auto& origin = hs_[member(0)];
    const auto& township = kTownshipList[static_cast<std::size_t>(origin.township)];
    mk::ListingFields f;
    f.title = std::string(kind.title) + " " + pack.first + "（示例）";
    f.category = kind.category;
    f.unit = kind.unit;
    f.lot = "MQ-" + std::to_string(2026'000 + i);
    f.origin_code = origin.village;
    f.origin_name = std::string("甘肃民勤") + township.name;
    f.description =
        std::string("民勤县") + township.name + "农户种养，产地直发。示例数据，仅供演示。";
    f.price = Money::fen(kind.price_fen * pack.second / 100 + rng_.between(0, 20) * 10);
    f.stock = kStock;
    f.temperature = kind.temperature;
    f.shelf_life_days = kind.shelf_life_days;
    f.producers = producers;
    const mk::ShopId shop_id{shop_ids_.at(shop.key)};
    return Listing{CUNHUO_TRY(mk::create_product(tx, shop_id, f, clock_)), shop_id, &kind};
  }

  // Two in five listings are certified; two more wait for the township's review: listings 1
  // and 36 are the 西渠镇 cooperative's (shop 2), so the demo's 西渠镇 office has them to review.
  Status certify(db::Session& tx, mk::ProductId id, int i) {
    const bool pending = i == 1 || i == 36;
    if (!pending && rng_.between(1, 100) > kCertifiedPercent) return {};
    const auto c = CUNHUO_TRY(mk::apply_for_certification(
        tx, id, "收益按股份分配给合作社成员脱贫户（示例）", "seed", clock_));
    if (pending) return {};
    CUNHUO_TRY(mk::review_certification(tx, c, true, "乡镇审核通过（示例）", "seed", clock_));
    CUNHUO_TRY(mk::approve_certification(tx, c, "MQ-FP-2026-" + std::to_string(1000 + i),
                                         "民勤县乡村振兴局（示例）", "seed", clock_));
    return {};
  }

  static std::vector<Listing> in_categories(const CampaignPlan& p,
                                            const std::vector<Listing>& listings) {
    std::vector<Listing> out;
    for (const auto& l : listings)
      if (std::find(p.categories.begin(), p.categories.end(), l.kind->category) !=
          p.categories.end())
        out.push_back(l);
    return out;
  }

  Status create_campaign(db::Session& tx, const CampaignPlan& p,
                         const std::vector<Listing>& listings, int k) {
    mk::NewCampaign c{.name = p.name,
                      .kind = p.kind,
                      .starts_at_ms = p.from_ms,
                      .ends_at_ms = p.to_ms,
                      .discount_bps = p.discount_bps,
                      .per_buyer_limit = std::nullopt,
                      .items = {},
                      .villages = {},
                      .county_code = "620621"};
    std::vector<std::int64_t> shops;
    for (const auto& l : in_categories(p, listings)) {
      c.items.push_back(mk::CampaignItem{l.id, std::nullopt, std::nullopt});
      shops.push_back(l.shop.value);
    }
    const auto id = CUNHUO_TRY(mk::create_campaign(tx, c, clock_));
    std::sort(shops.begin(), shops.end());
    shops.erase(std::unique(shops.begin(), shops.end()), shops.end());
    for (auto shop : shops)
      CUNHUO_CHECK(mk::consent_to_campaign(tx, id, mk::ShopId{shop}, "seed", clock_));
    return keep_part(tx, "campaign", 0, k, id.value);
  }

  // The late parcel the demo leaves open: the first order four days before the end.
  bool stuck(OrderKey key) const { return key.day == hooks_.days - 4 && key.n == 0; }

  std::optional<mk::CampaignId> campaign_for(std::int64_t product, Rng& rng) {
    const auto now = clock_.now_ms();
    for (const auto& c : campaigns_)
      if (now >= c.from_ms && now < c.to_ms &&
          std::find(c.products.begin(), c.products.end(), product) != c.products.end() &&
          rng.chance(kCampaignSharePercent))
        return c.id;
    return std::nullopt;
  }

  // One buyer's checkout of one listing, paid in the sandbox; its parcels are followed
  // unless it is the late parcel the demo leaves open. The checkout is kept under its key
  // in its own transaction: a resumed day draws the same choices, finds the checkouts it
  // made before and only finishes paying them.
  Status order(Rng& rng, OrderKey key) {
    const auto& listing =
        listings_[static_cast<std::size_t>(rng.between(0, static_cast<int>(listings_.size()) - 1))];
    const std::int64_t buyer = hooks_.buyers[static_cast<std::size_t>(
        rng.between(0, static_cast<int>(hooks_.buyers.size()) - 1))];
    const int n = rng.between(1, 9999);
    mk::CheckoutRequest request{
        .buyer = buyer,
        .items = {{listing.id, rng.between(1, 3)}},
        .campaign = campaign_for(listing.id.value, rng),
        .ship_to = {.name = std::string(rng.pick(kSurnames)) + "先生（示例）",
                    .phone = "137" + std::to_string(20000000 + n),
                    .address = "兰州市城关区示例路" + std::to_string(n % 300 + 1) + "号",
                    .region_code = "620102"}};
    const auto checkout = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::int64_t> {
      if (auto made = CUNHUO_TRY(find_part(tx, "checkout", key.day, key.n))) return *made;
      const auto placed =
          CUNHUO_TRY(mk::place_checkout(tx, request, clock_, hooks_.payment_window));
      CUNHUO_CHECK(keep_part(tx, "checkout", key.day, key.n, placed.id.value));
      return placed.id.value;
    }));
    CUNHUO_CHECK(hooks_.pay(checkout));
    CUNHUO_CHECK(hooks_.drain());
    return follow_checkout(mk::CheckoutId{checkout}, key, stuck(key));
  }

  // Follows the checkout's parcels still on their way (each once), and schedules the
  // buyer's confirmation of an order already delivered.
  Status follow_checkout(mk::CheckoutId id, OrderKey key, bool stuck) {
    const auto checkout =
        CUNHUO_TRY(db_.read([&](db::Session& s) { return mk::find_checkout(s, id); }));
    CUNHUO_ASSERT(checkout.has_value());
    for (const auto& o : checkout->orders) {
      auto shipments = CUNHUO_TRY(
          db_.read([&](db::Session& s) { return lg::shipments_of_order(s, o.id.value); }));
      std::int64_t delivered_ms = 0;
      for (const auto& sh : shipments) {
        for (const auto& scan : sh.scans)
          if (scan.disposition == "delivered")
            delivered_ms = std::max(delivered_ms, scan.event_time_ms);
        if (stuck || sh.route.empty() || sh.status == "delivered" || sh.status == "held" ||
            followed(sh.tracking_number))
          continue;
        parcels_.push_back({sh.tracking_number, o.id.value, key, sh.route.front().arrive_ms});
      }
      // Delivered, or its parcel's delivery still to reach it through the outbox (the load
      // was cut short before the drain): the buyer may yet confirm it.
      const bool open = o.status == mk::OrderStatus::delivered ||
                        o.status == mk::OrderStatus::shipped || o.status == mk::OrderStatus::paid ||
                        o.status == mk::OrderStatus::packed;
      if (open && delivered_ms > 0) schedule_confirmation(o.id.value, key, delivered_ms);
    }
    return {};
  }

  bool followed(const std::string& tracking) const {
    return std::any_of(parcels_.begin(), parcels_.end(),
                       [&](const Parcel& p) { return p.tracking == tracking; });
  }

  // Six in ten buyers confirm receipt themselves, 6 to 72 hours after delivery.
  void schedule_confirmation(std::int64_t order_id, OrderKey key, std::int64_t delivered_ms) {
    Rng rng = buyer_rng(key);
    if (!rng.chance(60)) return;
    confirmations_.push_back({order_id, delivered_ms + rng.between(6, 72) * kHourMs});
  }

  Result<lg::Shipment> scan(const std::string& tracking, const std::string& node, const char* step,
                            const char* disposition, std::int64_t at_ms) {
    return db_.write([&](db::Session& tx) {
      return lg::record_scan(tx, planner_, tracking, lg::ScanInput{node, step, disposition, at_ms},
                             "seed", clock_);
    });
  }

  // Moves one parcel along its planned hops as far as the clock has come; false once it
  // needs no more following.
  Result<bool> advance(Parcel& p) {
    for (;;) {
      auto sh =
          CUNHUO_TRY(db_.read([&](db::Session& s) { return lg::find_shipment(s, p.tracking); }));
      if (!sh || sh->status == "delivered" || sh->status == "held" || sh->route.empty())
        return false;
      const auto hop = sh->route.front();
      if (hop.arrive_ms > clock_.now_ms()) {
        p.due_ms = hop.arrive_ms;
        return true;
      }
      if (sh->status != "in_transit")
        CUNHUO_TRY(scan(p.tracking, hop.from_code, "departing", "in_transit", hop.depart_ms));
      const bool last = hop.to_code == sh->destination_code;
      CUNHUO_TRY(scan(p.tracking, hop.to_code, last ? "delivering" : "arriving",
                      last ? "delivered" : "in_progress", hop.arrive_ms));
      if (last) {
        schedule_confirmation(p.order_id, p.key, hop.arrive_ms);
        return false;
      }
    }
  }

  Status scan_due() {
    bool moved = false;
    std::vector<Parcel> still;
    for (auto& p : parcels_) {
      if (p.due_ms > clock_.now_ms()) {
        still.push_back(p);
        continue;
      }
      moved = true;
      auto more = advance(p);
      if (!more.ok()) {
        spdlog::warn("demo: parcel {} stopped: {}", p.tracking, more.error().message);
        continue;
      }
      if (*more) still.push_back(p);
    }
    parcels_ = std::move(still);
    return moved ? hooks_.drain() : Status{};
  }

  // Buyers who confirm receipt themselves (the rest complete after the auto-confirm window).
  Status confirm_due() {
    bool any = false;
    std::vector<Confirmation> still;
    for (const auto& c : confirmations_) {
      if (c.at_ms > clock_.now_ms()) {
        still.push_back(c);
        continue;
      }
      any = true;
      CUNHUO_CHECK(db_.write([&](db::Session& tx) -> Status {
        auto o = CUNHUO_TRY(mk::find_order(tx, mk::OrderId{c.order_id}));
        if (!o || !mk::transition_allowed(o->status, mk::OrderStatus::completed)) return {};
        CUNHUO_TRY(mk::change_order_status(tx, o->id, mk::OrderStatus::completed, "buyer",
                                           "receipt confirmed", clock_));
        return {};
      }));
    }
    confirmations_ = std::move(still);
    return any ? hooks_.drain() : Status{};
  }

  // Forty warm minutes in a cold store where a parcel waits: the excursion holds it.
  Status excursion() {
    for (const auto& p : parcels_) {
      auto sh =
          CUNHUO_TRY(db_.read([&](db::Session& s) { return lg::find_shipment(s, p.tracking); }));
      if (!sh || sh->status != "at_node" || sh->current_code.rfind("MQ-CS-", 0) != 0) continue;
      std::vector<lg::Reading> warm;
      for (int m = 40; m >= 0; m -= 5)
        warm.push_back({sh->current_code + "-T1", clock_.now_ms() - m * 60'000LL, 1200});
      auto report = CUNHUO_TRY(db_.write([&](db::Session& tx) {
        return lg::ingest(tx, warm, lg::ReadingSender{.anywhere = true}, lg::ExcursionRules{},
                          clock_);
      }));
      if (!report.excursions.empty()) return hooks_.drain();
    }
    spdlog::warn("demo: no parcel waits in a cold store now: no open excursion");
    return {};
  }

  // The newest delivered order not yet completed (by its key, so a resumed load picks the
  // same one): its buyer claims half of it back.
  Status refund_claim() {
    auto keyed = CUNHUO_TRY(db_.read([](db::Session& s) {
      return s.query(
          "SELECT ref_id FROM seed_demo_parts WHERE kind = 'checkout' "
          "ORDER BY day_index DESC, seq DESC");
    }));
    for (const auto& row : keyed) {
      auto claimed = db_.write([&](db::Session& tx) -> Result<bool> {
        auto checkout = CUNHUO_TRY(mk::find_checkout(tx, mk::CheckoutId{row.i64(0)}));
        for (const auto& o : checkout ? checkout->orders : std::vector<mk::Order>{}) {
          if (o.status != mk::OrderStatus::delivered) continue;
          CUNHUO_TRY(payments::claim_refund(tx, o.id.value, o.buyer, Money::fen(o.total.fen() / 2),
                                            "到货时有两个破损（示例）", clock_));
          return true;
        }
        return false;
      });
      if (claimed.ok() && *claimed) return {};
    }
    spdlog::warn("demo: no delivered order to claim a refund on");
    return {};
  }

  db::Database& db_;
  ManualClock& clock_;
  lg::Planner& planner_;
  const Hooks& hooks_;
  Rng rng_;
  std::vector<Village> vs_;
  std::vector<HouseholdPlan> hs_;
  std::vector<ShopPlan> shops_;
  std::vector<Listing> listings_;
  std::map<std::string, std::int64_t> household_ids_, shop_ids_;  // by seed key
  std::vector<CampaignWindow> campaigns_;
  std::vector<Parcel> parcels_;
  std::vector<Confirmation> confirmations_;
};

}  // namespace

Status check_no_other_seed(db::Database& db) {
  auto other = CUNHUO_TRY(db.read([](db::Session& s) {
    return s.query_one("SELECT name FROM seed_sets WHERE name <> ? AND name NOT LIKE ?",
                       {std::string(kName), std::string(kName) + ":%"});
  }));
  if (other)
    return make_error(ErrorKind::conflict, "store_not_fresh",
                      "the demo county loads only into a store without another seed set (this "
                      "one holds " +
                          other->str(0) + ")",
                      "seed");
  return {};
}

Result<HistorySpan> history_span(db::Database& db, HistorySpan proposed) {
  return db.write([&](db::Session& tx) -> Result<HistorySpan> {
    const auto end_ms = CUNHUO_TRY(find_part(tx, "history_end", 0, 0));
    const auto days = CUNHUO_TRY(find_part(tx, "history_days", 0, 0));
    if (end_ms && days) return HistorySpan{*end_ms, static_cast<int>(*days)};
    CUNHUO_CHECK(keep_part(tx, "history_end", 0, 0, proposed.end_ms));
    CUNHUO_CHECK(keep_part(tx, "history_days", 0, 0, proposed.days));
    return proposed;
  });
}

Result<Report> build(db::Database& db, ManualClock& clock, std::int64_t end_ms,
                     logistics::Planner& planner, const std::string& photo_folder,
                     const Hooks& hooks) {
  CUNHUO_ASSERT(!hooks.buyers.empty());
  CUNHUO_ASSERT(hooks.days >= 1 && hooks.days <= kHistoryDays);
  Report report;
  if (CUNHUO_TRY(done(db, part_name("exceptions")))) return report;
  const std::int64_t first_day =
      shanghai_midnight_ms(shanghai_date(end_ms)) - (hooks.days - 1) * kDayMs;
  Demo demo(db, clock, planner, hooks);
  CUNHUO_CHECK(demo.resolve_ids());
  if (!CUNHUO_TRY(done(db, part_name("listings"))))
    CUNHUO_CHECK(demo.listings_and_campaigns(first_day, end_ms));
  CUNHUO_CHECK(demo.reload(first_day, end_ms, report));
  CUNHUO_CHECK(demo.photos(photo_folder, report));
  CUNHUO_CHECK(demo.resume_following());
  for (int d = 0; d < hooks.days; ++d) {
    if (CUNHUO_TRY(done(db, part_name("day:" + std::to_string(d))))) continue;
    CUNHUO_CHECK(demo.day(d, first_day + d * kDayMs, end_ms, report));
  }
  CUNHUO_CHECK(demo.exceptions());
  spdlog::info("demo county: {} listings, {} photos, {} campaigns, {} days, {} orders",
               report.listings, report.photos, report.campaigns, report.days, report.orders);
  return report;
}

}  // namespace cunhuo::seeds::demo
