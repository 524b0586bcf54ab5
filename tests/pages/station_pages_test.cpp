// The station operator's pages over HTTP: the scan box in its four moves and three ways in
// (typed, a tracking URL, a photo of the label's QR code read on the server), the lists
// the parcel moves between, the refusals in the order they take precedence, the pickup code
// and the handover against it, and the printed route sheet of the day's pickup runs.
#include <gd.h>
#include <qrencode.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <memory>
#include <regex>
#include <sstream>

#include "core/json.hpp"
#include "logistics/pickup_codes.hpp"
#include "storefront/station_moves.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kStationCode = "MQ-TS-XQ";        // the fixture's operator's station
const std::string kRecipientPhone = "13711112222";  // the address buy() ships to
const std::string kAdmin = "13900000008";

// A PNG of `text` as a QR code, 6 pixels a module with its quiet zone: a photo of a label.
std::string qr_png(const std::string& text) {
  QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  REQUIRE(code != nullptr);
  constexpr int kModulePx = 6, kQuiet = 4;
  const int side = (code->width + 2 * kQuiet) * kModulePx;
  gdImagePtr im = gdImageCreate(side, side);
  const int white = gdImageColorAllocate(im, 255, 255, 255);
  const int black = gdImageColorAllocate(im, 0, 0, 0);
  gdImageFilledRectangle(im, 0, 0, side - 1, side - 1, white);
  for (int y = 0; y < code->width; ++y)
    for (int x = 0; x < code->width; ++x)
      if (code->data[y * code->width + x] & 1)
        gdImageFilledRectangle(im, (x + kQuiet) * kModulePx, (y + kQuiet) * kModulePx,
                               (x + kQuiet + 1) * kModulePx - 1, (y + kQuiet + 1) * kModulePx - 1,
                               black);
  int size = 0;
  void* png = gdImagePngPtr(im, &size);
  std::string out(static_cast<const char*>(png), static_cast<std::size_t>(size));
  gdFree(png);
  gdImageDestroy(im);
  QRcode_free(code);
  return out;
}

// The text of a section of the page: from its id to the next section.
std::string section(const std::string& body, const std::string& id) {
  const auto at = body.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const auto end = body.find("</section>", at);
  return body.substr(at, end - at);
}

struct Parcel {
  std::int64_t order = 0;
  std::string number, origin, destination;
};

// A paid melon order's parcel, on its way from its village point through the station.
Parcel paid_parcel(TestServer& server, HttpClient& c) {
  const Bought b = buy_and_pay(server, c, server.login(kConsumer));
  const std::string centre = server.login(kCentre);
  const auto numbers = tracking_numbers(c, centre, b.order);
  REQUIRE(numbers.size() == 1);
  auto shipments = c.request("GET", "/api/v1/orders/" + std::to_string(b.order) + "/shipments", "",
                             bearer(centre));
  auto doc = Json::parse(shipments.body);
  REQUIRE(doc.ok());
  const Json& s = doc->find("shipments")->as_array().front();
  return Parcel{b.order, numbers.front(), s.find("origin")->as_string(),
                s.find("destination")->as_string()};
}

// The parcel's events as its order's shipments show them: "step@node disposition".
std::vector<std::string> events(TestServer& server, HttpClient& c, const Parcel& p) {
  auto r = c.request("GET", "/api/v1/orders/" + std::to_string(p.order) + "/shipments", "",
                     bearer(server.login(kCentre)));
  auto doc = Json::parse(r.body);
  REQUIRE(doc.ok());
  std::vector<std::string> out;
  for (const auto& e : doc->find("shipments")->as_array().front().find("events")->as_array())
    out.push_back(e.find("biz_step")->as_string() + "@" + e.find("read_point")->as_string() + " " +
                  e.find("disposition")->as_string());
  return out;
}

std::string status_of(HttpClient& c, const Parcel& p) {
  auto r = c.request("GET", "/api/v1/tracking/" + p.number);
  return str_field(r.body, "status");
}

// The pickup code in the newest text to the recipient: the digits after 取件码.
std::string pickup_code_sent(TestServer& server) {
  const std::string text = sandbox_text(server, kRecipientPhone);
  const auto at = text.find("取件码");
  REQUIRE(at != std::string::npos);
  return text.substr(at + std::string("取件码").size(), logistics::kPickupCodeDigits);
}

// The parcel scanned in at its destination (the city hub, as admin: the hub has no operator
// in the fixture), and the code the recipient was sent.
std::string in_for_pickup(TestServer& server, HttpClient& c, Browser& admin, const Parcel& p) {
  const std::string q = "?node=" + p.destination;
  admin.get("/station" + q);
  auto in = admin.post("/station/scan",
                       {{"node", p.destination}, {"label", p.number}, {"kind", "arriving"}});
  REQUIRE(in.status == 303);
  REQUIRE(status_of(c, p) == "at_node");
  REQUIRE(server.app().dispatcher().drain().ok());
  return pickup_code_sent(server);
}

// What the server logs while it lives: a sink added to the default logger, taken off again.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() {
    spdlog::default_logger()->flush();
    return text_.str();
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace

TEST_CASE("a label is read as its tracking number, alone or at the end of a URL",
          "[pages][station]") {
  using storefront::label_number;
  CHECK(label_number("CH123456789012") == std::optional<std::string>("CH123456789012"));
  CHECK(label_number("  ch123456789012\n") == std::optional<std::string>("CH123456789012"));
  CHECK(label_number("https://cunhuo.example/track/CH123456789012") ==
        std::optional<std::string>("CH123456789012"));
  CHECK(label_number("https://cunhuo.example/api/v1/tracking/CH123456789012/?x=1") ==
        std::optional<std::string>("CH123456789012"));
  CHECK_FALSE(label_number("hello"));
  CHECK_FALSE(label_number("CH12ab"));
  CHECK_FALSE(label_number(""));
  CHECK_FALSE(label_number(std::string(300, '1')));
}

STORE_TEST("a typed label scanned arriving moves the parcel from arriving to in store",
           "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  auto home = op.get("/station");
  REQUIRE(home.status == 200);
  CHECK(has(section(home.body, "arriving"), p.number));
  CHECK_FALSE(has(section(home.body, "in_store"), p.number));
  auto scanned = op.post("/station/scan", {{"label", p.number}, {"kind", "arriving"}});
  REQUIRE(scanned.status == 303);
  CHECK(scanned.header("location") ==
        std::optional<std::string>("/station?done=" + p.number + "&kind=arriving"));
  home = op.get("/station?done=" + p.number + "&kind=arriving");
  CHECK(has(home.body, "已记录"));
  CHECK_FALSE(has(section(home.body, "arriving"), p.number));
  CHECK(has(section(home.body, "in_store"), p.number));
  CHECK(events(server, c, p).back() == "arriving@" + kStationCode + " in_progress");
}

STORE_TEST("each move of the scan box records its EPCIS business step", "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  op.get("/station");
  REQUIRE(op.post("/station/scan", {{"label", p.number}, {"kind", "stored"}}).status == 303);
  CHECK(events(server, c, p).back() == "storing@" + kStationCode + " in_progress");
  CHECK(status_of(c, p) == "at_node");
  REQUIRE(op.post("/station/scan", {{"label", p.number}, {"kind", "departing"}}).status == 303);
  CHECK(events(server, c, p).back() == "departing@" + kStationCode + " in_transit");
  CHECK(status_of(c, p) == "in_transit");
  // Delivered where it is collected: admin at its destination.
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  admin.get("/station?node=" + p.destination);
  REQUIRE(admin
              .post("/station/scan",
                    {{"node", p.destination}, {"label", p.number}, {"kind", "delivered"}})
              .status == 303);
  CHECK(events(server, c, p).back() == "delivering@" + p.destination + " delivered");
  CHECK(status_of(c, p) == "delivered");
}

STORE_TEST("a photo of the label's QR code is read on the server and scanned", "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  op.get("/station");
  auto scanned = op.post_multipart("/station/scan", {{"label", ""}, {"kind", "arriving"}}, "photo",
                                   qr_png(p.number));
  REQUIRE(scanned.status == 303);
  CHECK(events(server, c, p).back() == "arriving@" + kStationCode + " in_progress");
  // The tracking URL form of the label is taken as well.
  op.get("/station");
  scanned = op.post_multipart("/station/scan", {{"label", ""}, {"kind", "stored"}}, "photo",
                              qr_png("https://cunhuo.example/track/" + p.number));
  REQUIRE(scanned.status == 303);
  CHECK(events(server, c, p).back() == "storing@" + kStationCode + " in_progress");
}

STORE_TEST("a photo without a code is answered in Chinese and records nothing",
           "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  op.get("/station");
  const auto before = server.count("SELECT COUNT(*) FROM scan_events");
  auto refused = op.post_multipart("/station/scan", {{"label", p.number}, {"kind", "arriving"}},
                                   "photo", camera_jpeg(320, 240));
  CHECK(refused.status == 422);
  CHECK(has(refused.body, "照片里没有识别到二维码"));
  CHECK(server.count("SELECT COUNT(*) FROM scan_events") == before);
}

STORE_TEST("refused scans are answered in Chinese with nothing written, in precedence order",
           "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  const Parcel delivered = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  op.get("/station");
  REQUIRE(op.post("/station/scan", {{"label", delivered.number}, {"kind", "arriving"}}).status ==
          303);
  REQUIRE(scan_parcel(c, server.login(kAdmin), delivered.number, delivered.destination,
                      "delivering", "delivered")
              .status == 201);
  struct Case {
    std::string who, node, label, kind;
    int status;
    std::string words;  // of the Chinese answer
  };
  const std::vector<Case> cases = {
      {"an unknown number", "", "CH000000000000", "arriving", 404, "找不到这个面单"},
      {"not a label at all", "", "hello", "arriving", 404, "找不到这个面单"},
      // Another station's: admin at 三雷镇's station, which the parcel never passes.
      {"another station's parcel", "MQ-TS-SL", p.number, "arriving", 404, "不经过本站"},
      {"a delivered parcel", "", delivered.number, "stored", 409, "已交付"},
      {"delivered where it is not collected", "", p.number, "delivered", 409, "不在本站交付"},
      {"no move chosen", "", p.number, "flying", 400, "请点"},
      {"no label", "", "", "arriving", 400, "请输入或扫描面单号"},
  };
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  for (const auto& k : cases) {
    INFO(k.who);
    const auto before = server.count("SELECT COUNT(*) FROM scan_events");
    Browser& b = k.node.empty() ? op : admin;
    b.get(k.node.empty() ? "/station" : "/station?node=" + k.node);
    FormFields form = {{"label", k.label}, {"kind", k.kind}};
    if (!k.node.empty()) form.emplace_back("node", k.node);
    auto refused = b.post("/station/scan", form);
    CHECK(refused.status == k.status);
    CHECK(has(refused.body, k.words));
    CHECK(server.count("SELECT COUNT(*) FROM scan_events") == before);
  }
}

STORE_TEST("only station operators and admin open the station's pages", "[pages][station]") {
  TestServer server(store_kind);
  check_refusals(server,
                 {
                     {"a visitor", "", "GET", "/station", 303, "/login?next=/station"},
                     {"a consumer", server.login(kConsumer), "GET", "/station", 403, ""},
                     {"the centre", server.login(kCentre), "GET", "/station/runs", 403, ""},
                     {"admin without a station", server.login(kAdmin), "GET", "/station", 400, ""},
                 });
}

STORE_TEST("the recipient is sent a pickup code and the right code hands the parcel over",
           "[pages][station]") {
  LogCapture log;
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  const std::string code = in_for_pickup(server, c, admin, p);
  CHECK(code.size() == 6);
  // Delivered by the scan box while the recipient holds a code: refused.
  admin.get("/station?node=" + p.destination);
  auto bypass = admin.post("/station/scan",
                           {{"node", p.destination}, {"label", p.number}, {"kind", "delivered"}});
  CHECK(bypass.status == 409);
  CHECK(has(bypass.body, "凭取件码交付"));
  auto page = admin.get("/station/handover?node=" + p.destination);
  REQUIRE(page.status == 200);
  CHECK(has(section(page.body, "waiting"), p.number));  // waiting here, its code sent
  CHECK(has(section(page.body, "waiting"), "已发送"));
  CHECK_FALSE(has(page.body, code));
  auto done = admin.post("/station/handover",
                         {{"node", p.destination}, {"label", p.number}, {"code", code}});
  REQUIRE(done.status == 303);
  CHECK(status_of(c, p) == "delivered");
  CHECK(events(server, c, p).back() == "delivering@" + p.destination + " delivered");
  CHECK(server.count("SELECT COUNT(*) FROM shipments WHERE note LIKE '%pickup code%'") == 1);
  // The code is kept nowhere in clear: not in its hash's table, not in the sent message.
  CHECK(server.count("SELECT COUNT(*) FROM pickup_codes WHERE code_hash = '" + code + "'") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue WHERE params LIKE '%" + code + "%'") == 0);
  CHECK_FALSE(has(admin.get(*done.header("location")).body, code));
  const std::string logged = log.text();
  CHECK(has(logged, p.number));  // the capture works: the scan's parcel was logged
  // The code as a number of its own (not inside a longer run of digits: a tracking number).
  CHECK_FALSE(std::regex_search(logged, std::regex("(^|[^0-9])" + code + "([^0-9]|$)")));
}

STORE_TEST("a wrong pickup code is refused in Chinese and writes no delivery", "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  const std::string code = in_for_pickup(server, c, admin, p);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  admin.get("/station/handover?node=" + p.destination);
  const auto before = server.count("SELECT COUNT(*) FROM scan_events");
  auto refused = admin.post("/station/handover",
                            {{"node", p.destination}, {"label", p.number}, {"code", wrong}});
  CHECK(refused.status == 422);
  CHECK(has(refused.body, "取件码不对"));
  CHECK_FALSE(has(refused.body, code));
  CHECK(server.count("SELECT COUNT(*) FROM scan_events") == before);
  CHECK(status_of(c, p) == "at_node");
}

STORE_TEST("after too many wrong codes the parcel locks until a new code is sent",
           "[pages][station]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  const std::string code = in_for_pickup(server, c, admin, p);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  const FormFields with_wrong = {{"node", p.destination}, {"label", p.number}, {"code", wrong}};
  for (int i = 0; i < logistics::kPickupCodeTries; ++i) {
    admin.get("/station/handover?node=" + p.destination);
    CHECK(admin.post("/station/handover", with_wrong).status == 422);
  }
  admin.get("/station/handover?node=" + p.destination);
  auto locked = admin.post("/station/handover",
                           {{"node", p.destination}, {"label", p.number}, {"code", code}});
  CHECK(locked.status == 409);
  CHECK(has(locked.body, "已锁定"));
  CHECK(
      has(section(admin.get("/station/handover?node=" + p.destination).body, "waiting"), "已锁定"));
  CHECK(status_of(c, p) == "at_node");
  // A new code, sent a while later, hands it over.
  server.advance(std::chrono::milliseconds(logistics::kPickupCodeResendMs));
  auto sent = admin.post("/station/handover/code", {{"node", p.destination}, {"label", p.number}});
  REQUIRE(sent.status == 303);
  const std::string fresh = pickup_code_sent(server);
  admin.get("/station/handover?node=" + p.destination);
  CHECK(admin
            .post("/station/handover",
                  {{"node", p.destination}, {"label", p.number}, {"code", fresh}})
            .status == 303);
  CHECK(status_of(c, p) == "delivered");
}

STORE_TEST("an expired pickup code is refused until a new one is sent", "[pages][station]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  const std::string code = in_for_pickup(server, c, admin, p);
  server.advance(std::chrono::milliseconds(logistics::kPickupCodeLifetimeMs));
  admin.get("/station/handover?node=" + p.destination);
  auto expired = admin.post("/station/handover",
                            {{"node", p.destination}, {"label", p.number}, {"code", code}});
  CHECK(expired.status == 409);
  CHECK(has(expired.body, "已过期"));
  CHECK(status_of(c, p) == "at_node");
}

STORE_TEST("the API resends a pickup code without showing it and hands over against it",
           "[http][station]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser admin(server);
  admin.sign_in(server.login(kAdmin));
  const std::string first = in_for_pickup(server, c, admin, p);
  const std::string token = server.login(kAdmin);
  const std::string at = "/api/v1/shipments/" + p.number;
  auto too_soon = c.request("POST", at + "/pickup-code", "", bearer(token));
  CHECK(too_soon.status == 409);
  CHECK(error_code(too_soon) == "pickup_code_too_soon");
  server.advance(std::chrono::milliseconds(logistics::kPickupCodeResendMs));
  auto sent = c.request("POST", at + "/pickup-code", "", bearer(token));
  REQUIRE(sent.status == 201);
  const std::string code = pickup_code_sent(server);
  CHECK_FALSE(has(sent.body, code));
  auto old = post_json(c, at + "/handover", R"({"code":")" + first + R"("})", bearer(token));
  if (first != code) CHECK(error_code(old) == "wrong_pickup_code");
  auto handed = post_json(c, at + "/handover", R"({"code":")" + code + R"("})", bearer(token));
  REQUIRE(handed.status == 200);
  CHECK(str_field(handed.body, "status") == "delivered");
  // The operator of another station does not see the parcel.
  auto theirs = post_json(c, at + "/handover", R"({"code":")" + code + R"("})",
                          bearer(server.login(kStation)));
  CHECK(theirs.status == 404);
}

STORE_TEST("the day's pickup runs print as a route sheet with a QR code per stop",
           "[pages][station]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const Parcel p = paid_parcel(server, c);
  Browser op(server);
  op.sign_in(server.login(kStation));
  auto runs = op.get("/station/runs");
  REQUIRE(runs.status == 200);
  auto planned = op.post("/station/runs", {{"capacity", "40"}});
  REQUIRE(planned.status == 303);
  runs = op.get("/station/runs");
  const std::string sheet_path = first_match(runs.body, "href=\"(/station/runs/[0-9-]+/sheet)\"");
  auto sheet = op.get(sheet_path);
  REQUIRE(sheet.status == 200);
  CHECK(has(sheet.body, p.origin));
  CHECK(has(sheet.body, p.number));
  CHECK(has(sheet.body, "<svg"));
  CHECK(!first_match(sheet.body, "<td>([0-2][0-9]:[0-5][0-9])</td>").empty());
  // The stop's QR code opens its parcel list.
  const std::string date = first_match(sheet_path, "/station/runs/([0-9-]+)/sheet");
  auto stop = op.get("/station/runs/" + date + "/stops/" + p.origin);
  REQUIRE(stop.status == 200);
  CHECK(has(stop.body, p.number));
  CHECK(op.get("/station/runs/" + date + "/stops/MQ-VP-SL01").status == 404);  // not its township
}

STORE_TEST("a first visit to the station page stays under 150 KB with its assets",
           "[pages][station]") {
  TestServer server(store_kind);
  Browser op(server);
  op.sign_in(server.login(kStation));
  auto home = op.get("/station");
  REQUIRE(home.status == 200);
  std::size_t total = home.body.size();
  for (const auto& pattern :
       {"href=\"(/assets/site[^\"]*\\.css)\"", "src=\"(/assets/site[^\"]*\\.js)\"",
        "src=\"(/assets/station.js)\""}) {
    auto asset = op.get(first_match(home.body, pattern));
    REQUIRE(asset.status == 200);
    total += asset.body.size();
  }
  CHECK(total < 150 * 1024);
  CHECK_FALSE(has(home.body, "<script>"));  // no inline script (CSP)
}
