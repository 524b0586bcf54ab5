// Notifications and the queue over real TCP: who is told what when an order is paid, a
// parcel leaves, a cold store warms or a household is at risk; that a repeated event tells
// nobody twice nor texts twice; the inbox's paging and reading; and that every item of
// every seed account's queue opens for that account.
#include <set>

#include "alleviation/exits.hpp"
#include "core/json.hpp"
#include "storefront/notifications.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kHelper = "13600000001", kTownshipOffice = "13900000010";

Json get_json(HttpClient& c, const std::string& path, const std::string& token) {
  auto r = c.request("GET", path, "", bearer(token));
  INFO(path << " → " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  REQUIRE(doc.ok());
  return *doc;
}

// Notifications of `kind` to the account with `phone`, in the store.
std::int64_t notified(TestServer& server, const std::string& kind, const std::string& phone) {
  return server.count(
      "SELECT COUNT(*) FROM notifications n JOIN accounts a ON a.id = n.account_id WHERE n.kind "
      "= '" +
      kind + "' AND a.phone = '" + phone + "'");
}

std::int64_t texts(TestServer& server, const std::string& template_code, const std::string& phone) {
  return server.count("SELECT COUNT(*) FROM sms_queue WHERE template_code = '" + template_code +
                      "' AND phone = '" + phone + "'");
}

// Delivers every event of `topic` to `handler` again, as after a lost record of its first
// delivery or a second process: the handler runs a second time on the same events.
void redeliver(TestServer& server, const std::string& topic, const std::string& handler) {
  auto reset = server.app().db().write([&](db::Session& tx) -> Result<int> {
    CUNHUO_TRY(tx.exec("DELETE FROM outbox_handled WHERE handler = ?", {handler}));
    CUNHUO_TRY(tx.exec("UPDATE outbox_events SET delivered_at = NULL WHERE topic = ?", {topic}));
    return 0;
  });
  REQUIRE(reset.ok());
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(server.count("SELECT COUNT(*) FROM outbox_handled WHERE handler = '" + handler + "'") >= 1);
}

// Household 1's card from the seed.
const std::string kCard =
    R"({"members":[{"name":"王建国","relationship":"head","birth_year":1978,"health":"healthy",)"
    R"("education":"junior","id_number":"620621197803150013","medical_insurance":true},)"
    R"({"name":"刘桂芳","relationship":"spouse","birth_year":1980,"health":"chronic_illness",)"
    R"("education":"primary","id_number":"620621198001230024","medical_insurance":true},)"
    R"({"name":"王小军","relationship":"child","birth_year":2008,"health":"healthy",)"
    R"("education":"in_school","id_number":"620621200805060016","medical_insurance":true},)"
    R"({"name":"王秀兰","relationship":"parent","birth_year":1950,"health":"serious_illness",)"
    R"("education":"none","id_number":"620621195002020025","medical_insurance":true}],)"
    R"("causes":["illness","water_shortage"],"land_mu_hundredths":1250,"housing":"safe",)"
    R"("drinking_water":"safe","income":{"year":2025,"wages_fen":1200000,)"
    R"("own_business_fen":800000,"property_fen":0,"transfers_fen":300000},)"
    R"("helper":{"name":"陈志刚","phone":"13600000001"}})";

// The county office puts household 1 at risk and records a large medical expense: the
// monitoring rules raise an alert for its helper.
void raise_alert(HttpClient& c, const std::string& office) {
  auto at_risk =
      c.request("PATCH", "/api/v1/households/1",
                R"({"card":)" + kCard + R"(,"status":"at_risk","reason":"illness in the family"})",
                bearer(office));
  REQUIRE(at_risk.status == 200);
  REQUIRE(post_json(c, "/api/v1/households/1/expenses",
                    R"({"kind":"medical","amount_fen":3000000,"note":"住院手术"})", bearer(office))
              .status == 201);
}

std::vector<Json> items_of(const Json& inbox) {
  const auto& list = inbox.find("notifications")->as_array();
  return std::vector<Json>(list.begin(), list.end());
}

// Adds `n` notifications of one kind to the account with `phone`, straight to the store.
void fill_inbox(TestServer& server, const std::string& phone, int n) {
  auto done = server.app().db().write([&](db::Session& tx) -> Result<int> {
    auto row = CUNHUO_TRY(tx.query_one("SELECT id FROM accounts WHERE phone = ?", {phone}));
    for (int i = 0; i < n; ++i)
      CUNHUO_TRY(storefront::notify(
          tx,
          storefront::NewNotification{.account_id = row->i64(0),
                                      .kind = "payout_sent",
                                      .title = "payout " + std::to_string(i),
                                      .body = "",
                                      .link = "/api/v1/households/1/balance",
                                      .dedupe_key = "test:" + phone + ":" + std::to_string(i)},
          server.clock()));
    return 0;
  });
  REQUIRE(done.ok());
}

// Proposes household `id`'s exit, as re-scoring does when its score reaches the threshold.
std::int64_t propose(TestServer& server, std::int64_t household) {
  auto made = server.app().db().write(
      [&](db::Session& tx) { return alleviation::propose_exit(tx, household, 1, server.clock()); });
  REQUIRE(made.ok());
  REQUIRE(made->has_value());
  return **made;
}

// The offices review and approve proposal `id` (its public notice opens), and someone
// objects to it.
void notice_and_object(HttpClient& c, std::int64_t id, const std::string& township,
                       const std::string& county) {
  const std::string proposal = "/api/v1/exit-proposals/" + std::to_string(id);
  for (const char* level : {"village", "township"})
    REQUIRE(post_json(c, proposal + "/review",
                      R"({"level":")" + std::string(level) + R"(","approve":true,"reason":"ok"})",
                      bearer(township))
                .status == 200);
  REQUIRE(post_json(c, proposal + "/decision", R"({"approve":true,"reason":"县级审定，公示"})",
                    bearer(county))
              .status == 200);
  REQUIRE(post_json(c, proposal + "/objections", R"({"text":"他家还有外债未还"})").status == 201);
}

}  // namespace

STORE_TEST("a paid order tells its farmer to pack it by a time, once, with one text message",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer);
  const Bought b = buy_and_pay(server, c, consumer);
  REQUIRE(server.app().dispatcher().drain().ok());
  REQUIRE(notified(server, "order_to_pack", kFarmer) == 1);
  CHECK(texts(server, "order_to_pack", kFarmer) == 1);
  // The same event delivered again adds nothing: no second notification, no second text.
  redeliver(server, "order.paid", "notify.order_to_pack");
  redeliver(server, "order.paid", "notify.order_to_pack");
  CHECK(notified(server, "order_to_pack", kFarmer) == 1);
  CHECK(texts(server, "order_to_pack", kFarmer) == 1);
  CHECK(server.count("SELECT COUNT(*) FROM notifications") == 1);  // nobody else is told
  auto inbox = get_json(c, "/api/v1/notifications", farmer);
  const auto items = items_of(inbox);
  REQUIRE(items.size() == 1);
  const Json& n = items.front();
  CHECK(n.find("kind")->as_string() == "order_to_pack");
  CHECK(n.find("link")->as_string() == "/api/v1/orders/" + std::to_string(b.order));
  CHECK(n.find("body")->as_string().find("+08:00") != std::string::npos);  // the pack-by time
  CHECK(n.find("read_at")->is_null());
  // The text says by when, in a few characters ("12-08 10:00").
  CHECK(server.count(
            "SELECT COUNT(*) FROM sms_queue WHERE params LIKE '%\"pack_by\":\"__-__ __:__\"%'") ==
        1);
  CHECK(inbox.find("unread")->as_integer() == 1);
  // The sender sends it once, as the template reads.
  REQUIRE(server.app().sms() != nullptr);
  REQUIRE(server.app().sms()->run_once().ok());
  REQUIRE(server.app().sms()->run_once().ok());
  CHECK(server.count("SELECT COUNT(*) FROM sandbox_sms WHERE phone = '" + kFarmer +
                     "' AND template_code = 'order_to_pack' AND text LIKE '%订单" +
                     std::to_string(b.order) + "已付款%'") == 1);
  // The link opens for the farmer.
  CHECK(c.request("GET", n.find("link")->as_string(), "", bearer(farmer)).status == 200);
  // The buyer's inbox is empty.
  CHECK(items_of(get_json(c, "/api/v1/notifications", consumer)).empty());
}

STORE_TEST("a cooperative's paid order tells its manager, not its member farmers",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string manager = "13900000002";
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login(manager)));
  REQUIRE(listed.status == 201);
  const std::string consumer = server.login(kConsumer);
  const std::string order_body =
      R"({"items":[{"product_id":)" + std::to_string(json_int(listed.body, "id")) +
      R"(,"quantity":1}],"shipping_address":{"name":"张三明","phone":"13711112222",)"
      R"("address":"兰州市城关区某路1号","region_code":"620102"}})";
  auto ordered = post_json(c, "/api/v1/orders", order_body,
                           bearer(consumer, {{"Idempotency-Key", "coop-order"}}));
  REQUIRE(ordered.status == 201);
  auto intent = start_payment(c, consumer, json_int(ordered.body, "checkout_id"), "coop-pay");
  REQUIRE(intent.status == 201);
  REQUIRE(on_pay_page(str_field(intent.body, "pay_url")).status == 200);
  REQUIRE(eventually([&] {
    return server.count(
               "SELECT COUNT(*) FROM orders WHERE status = "
               "'paid'") == 1;
  }));
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "order_to_pack", manager) == 1);
  CHECK(texts(server, "order_to_pack", manager) == 1);
  CHECK(notified(server, "order_to_pack", kFarmer) == 0);  // a member does not open its orders
}

STORE_TEST("a parcel on its way tells the next station; a warm cold store tells the centre by SMS",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    station = server.login(kStation);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string number = tracking_numbers(c, consumer, b.order).front();
  REQUIRE(scan_parcel(c, centre, number, "MQ-VP-XQ01", "departing").status == 201);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "parcel_arriving", kStation) == 1);
  auto arriving = items_of(get_json(c, "/api/v1/notifications", station));
  REQUIRE(arriving.size() == 1);
  CHECK(arriving.front().find("link")->as_string() == "/api/v1/tracking/" + number);

  REQUIRE(scan_parcel(c, station, number, "MQ-TS-XQ", "arriving").status == 201);
  REQUIRE(scan_parcel(c, centre, number, "MQ-CS-XQ", "storing", "in_progress").status == 201);
  const std::int64_t now = SystemClock().now_ms();
  REQUIRE(post_json(c, "/api/v1/telemetry",
                    sensor_readings("MQ-CS-XQ-T1", now - 45 * 60'000, 1, 1, 300), bearer(centre))
              .status == 200);
  REQUIRE(post_json(c, "/api/v1/telemetry",
                    sensor_readings("MQ-CS-XQ-T1", now - 40 * 60'000, 9, 5, 1200), bearer(centre))
              .status == 200);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "excursion_opened", kCentre) == 1);
  CHECK(texts(server, "excursion_opened", kCentre) == 1);
  redeliver(server, "excursion.raised", "notify.excursion_opened");
  CHECK(notified(server, "excursion_opened", kCentre) == 1);
  CHECK(texts(server, "excursion_opened", kCentre) == 1);
  for (const auto& n : items_of(get_json(c, "/api/v1/notifications", centre)))
    CHECK(c.request("GET", n.find("link")->as_string(), "", bearer(centre)).status == 200);
}

STORE_TEST("a station's pickup plan tells the shops whose parcels it collects",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer);
  const Bought b = buy_and_pay(server, c, consumer);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM shipments") == 1; }));
  const std::string body =
      R"({"date":")" + format_date(shanghai_date(SystemClock().now_ms())) + R"("})";
  REQUIRE(
      post_json(c, "/api/v1/stations/MQ-TS-XQ/pickup-runs", body, bearer(server.login(kStation)))
          .status == 201);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "pickup_run_planned", kFarmer) == 1);
  CHECK(server.count("SELECT COUNT(*) FROM notifications WHERE kind = 'pickup_run_planned'") == 1);
  redeliver(server, "pickup.planned", "notify.pickup_run_planned");
  CHECK(notified(server, "pickup_run_planned", kFarmer) == 1);
  std::vector<Json> pickups;
  for (const auto& n : items_of(get_json(c, "/api/v1/notifications", farmer)))
    if (n.find("kind")->as_string() == "pickup_run_planned") pickups.push_back(n);
  REQUIRE(pickups.size() == 1);
  CHECK(pickups.front().find("link")->as_string() == "/api/v1/orders/" + std::to_string(b.order));
  CHECK(pickups.front().find("body")->as_string().find("MQ-VP-XQ01") != std::string::npos);
  CHECK(c.request("GET", pickups.front().find("link")->as_string(), "", bearer(farmer)).status ==
        200);
}

STORE_TEST("a monitoring alert tells the household's helper, by SMS too", "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  raise_alert(c, server.login(kOffice));
  REQUIRE(server.app().dispatcher().drain().ok());
  // One notification and one text per alert raised (the expense, and the income it leaves).
  const std::int64_t alerts = server.count("SELECT COUNT(*) FROM monitoring_alerts");
  REQUIRE(alerts >= 1);
  CHECK(notified(server, "monitoring_alert", kHelper) == alerts);
  CHECK(texts(server, "monitoring_alert", kHelper) == alerts);
  redeliver(server, "alert.raised", "notify.monitoring_alert");
  CHECK(notified(server, "monitoring_alert", kHelper) == alerts);
  CHECK(texts(server, "monitoring_alert", kHelper) == alerts);
  const std::string helper = server.login(kHelper);
  auto inbox = items_of(get_json(c, "/api/v1/notifications", helper));
  REQUIRE(static_cast<std::int64_t>(inbox.size()) == alerts);
  for (const auto& n : inbox) {
    CHECK(n.find("kind")->as_string() == "monitoring_alert");
    CHECK(n.find("link")->as_string() == "/api/v1/households/1");
  }
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(helper)).status == 200);
  // The text names the alert and its rule, never the household's people.
  auto params = server.app().db().read([](db::Session& s) {
    return s.query_one("SELECT params FROM sms_queue WHERE template_code = 'monitoring_alert'");
  });
  REQUIRE(params.ok());
  CHECK((*params)->str(0).find("王建国") == std::string::npos);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue WHERE template_code = 'monitoring_alert' "
                     "AND params LIKE '%large_expense%'") == 1);
}

STORE_TEST("an exit notice and an objection to it tell the offices over the household",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string township = server.login(kTownshipOffice), county = server.login(kOffice);
  notice_and_object(c, propose(server, 1), township, county);
  REQUIRE(server.app().dispatcher().drain().ok());
  for (const auto& office : {kTownshipOffice, kOffice}) {
    CHECK(notified(server, "exit_notice_opened", office) == 1);
    CHECK(notified(server, "exit_objection", office) == 1);
  }
  CHECK(server.count("SELECT COUNT(*) FROM notifications") == 4);  // nobody else is told
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == 0);      // nothing urgent
  for (const auto& token : {township, county})
    for (const auto& n : items_of(get_json(c, "/api/v1/notifications", token)))
      CHECK(c.request("GET", n.find("link")->as_string(), "", bearer(token)).status == 200);
}

STORE_TEST("a payout the bank paid tells the household's farmer", "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    farmer = server.login(kFarmer);
  // A sale settles to household 1, and the centre pays its earnings out.
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order + "/status", R"({"status":"packed"})", bearer(farmer)).status == 200);
  deliver_by_scans(server, c, b.order);  // the order follows its parcels
  REQUIRE(c.request("POST", order + "/confirm-receipt", "", bearer(consumer)).status == 200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  REQUIRE(c.request("PUT", "/api/v1/households/1/payout-account",
                    R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018",)"
                    R"("holder":"王建国"})",
                    bearer(server.login(kOffice)))
              .status == 200);
  auto batch = c.request("POST", "/api/v1/payout-batches", "",
                         bearer(centre, {{"Idempotency-Key", "batch-1"}}));
  REQUIRE(batch.status == 201);
  const std::string path = "/api/v1/payout-batches/" + std::to_string(json_int(batch.body, "id"));
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "payout_sent", kFarmer) == 0);  // not before the bank confirms
  REQUIRE(post_json(c, path + "/confirmation", R"({})", bearer(centre)).status == 200);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(notified(server, "payout_sent", kFarmer) == 1);
  CHECK(server.count("SELECT COUNT(*) FROM notifications WHERE kind = 'payout_sent'") == 1);
  std::vector<Json> payouts;
  for (const auto& n : items_of(get_json(c, "/api/v1/notifications", farmer)))
    if (n.find("kind")->as_string() == "payout_sent") payouts.push_back(n);
  REQUIRE(payouts.size() == 1);
  CHECK(payouts.front().find("title")->as_string().find("71.22") != std::string::npos);
  CHECK(payouts.front().find("body")->as_string().find("6228480402564890018") == std::string::npos);
  CHECK(c.request("GET", payouts.front().find("link")->as_string(), "", bearer(farmer)).status ==
        200);
}

STORE_TEST("the inbox pages by cursor, newest first, and filters the unread",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  fill_inbox(server, kFarmer, 5);
  const std::string farmer = server.login(kFarmer);
  std::vector<std::string> titles;
  std::string path = "/api/v1/notifications?limit=2";
  int pages = 0;
  for (;; ++pages) {
    REQUIRE(pages < 5);
    auto page = get_json(c, path, farmer);
    for (const auto& n : items_of(page)) titles.push_back(n.find("title")->as_string());
    if (page.find("next_cursor")->is_null()) break;
    path = "/api/v1/notifications?limit=2&cursor=" + page.find("next_cursor")->as_string();
  }
  CHECK(pages == 2);  // three pages: 2, 2, 1
  CHECK(titles ==
        std::vector<std::string>{"payout 4", "payout 3", "payout 2", "payout 1", "payout 0"});
  auto first = get_json(c, "/api/v1/notifications?limit=2", farmer);
  const std::string cursor = first.find("next_cursor")->as_string();
  // A cursor of the whole list does not page the unread list, nor another account's.
  CHECK(error_code(c.request("GET", "/api/v1/notifications?unread=true&cursor=" + cursor, "",
                             bearer(farmer))) == "invalid_cursor");
  CHECK(error_code(c.request("GET", "/api/v1/notifications?cursor=" + cursor, "",
                             bearer(server.login(kOtherFarmer)))) == "invalid_cursor");
  CHECK(error_field(c.request("GET", "/api/v1/notifications?unread=yes", "", bearer(farmer))) ==
        "unread");
}

STORE_TEST("a notification is marked read by its own account only; read-all marks the rest",
           "[http][notifications]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  fill_inbox(server, kFarmer, 3);
  const std::string farmer = server.login(kFarmer), other = server.login(kOtherFarmer);
  const auto newest = items_of(get_json(c, "/api/v1/notifications", farmer)).front();
  const std::string read =
      "/api/v1/notifications/" + std::to_string(newest.find("id")->as_integer()) + "/read";
  // Another account's notification is as unknown as one that does not exist.
  CHECK(c.request("POST", read, "", bearer(other)).status == 404);
  CHECK(c.request("POST", "/api/v1/notifications/999999/read", "", bearer(farmer)).status == 404);
  auto marked = c.request("POST", read, "", bearer(farmer));
  REQUIRE(marked.status == 200);
  CHECK(str_field(marked.body, "read_at").find("+08:00") != std::string::npos);
  auto unread = get_json(c, "/api/v1/notifications?unread=true", farmer);
  CHECK(items_of(unread).size() == 2);
  CHECK(unread.find("unread")->as_integer() == 2);
  auto all = c.request("POST", "/api/v1/notifications/read-all", "", bearer(farmer));
  REQUIRE(all.status == 200);
  CHECK(json_int(all.body, "marked_read") == 2);
  CHECK(items_of(get_json(c, "/api/v1/notifications?unread=true", farmer)).empty());
  CHECK(items_of(get_json(c, "/api/v1/notifications", farmer)).size() == 3);
  CHECK(c.request("GET", "/api/v1/notifications").status == 401);
}

STORE_TEST("every item of every seed account's queue opens for that account",
           "[http][notifications][queue]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer),
                    centre = server.login(kCentre);
  // Something waits on most roles: an order to pack, a parcel on its way to the station, an
  // alert for the helper and the offices, a listing for the township to certify.
  const Bought b = buy_and_pay(server, c, consumer);
  REQUIRE(scan_parcel(c, centre, tracking_numbers(c, consumer, b.order).front(), "MQ-VP-XQ01",
                      "departing")
              .status == 201);
  const Bought delivered = buy_and_pay(server, c, consumer);  // for its buyer to confirm
  REQUIRE(post_json(c, "/api/v1/orders/" + std::to_string(delivered.order) + "/status",
                    R"({"status":"packed"})", bearer(farmer))
              .status == 200);
  deliver_by_scans(server, c, delivered.order);
  const Bought second = buy_and_pay(server, c, consumer);  // still to pack
  REQUIRE(post_json(c, "/api/v1/orders/" + std::to_string(second.order) + "/refund-claims",
                    R"({"amount_fen":100,"reason":"bruised"})",
                    bearer(consumer, {{"Idempotency-Key", "claim-1"}}))
              .status == 201);
  raise_alert(c, server.login(kOffice));
  // An exit proposal for the township to review, and a notice with an objection for the
  // county to resolve.
  propose(server, 2);
  notice_and_object(c, propose(server, 3), server.login(kTownshipOffice), server.login(kOffice));
  // Money paid to a household that has exited poverty: a fund flag for the county office.
  const std::string county = server.login(kOffice);
  REQUIRE(post_json(c, "/api/v1/fund-projects",
                    R"({"name":"2026年产业扶持","kind":"industry","budget_fen":10000000})",
                    bearer(county, {{"Idempotency-Key", "project-1"}}))
              .status == 201);
  REQUIRE(post_json(c, "/api/v1/fund-projects/1/allocations",
                    R"({"document_number":"民财扶〔2026〕7号","amount_fen":1000000})",
                    bearer(county, {{"Idempotency-Key", "alloc-1"}}))
              .status == 201);
  REQUIRE(post_json(c, "/api/v1/fund-allocations/1/disbursements",
                    R"({"document_number":"MQ-D-0001","amount_fen":300000,"household_id":5})",
                    bearer(county, {{"Idempotency-Key", "pay-1"}}))
              .status == 201);
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed.status == 201);
  REQUIRE(post_json(
              c,
              "/api/v1/products/" + std::to_string(json_int(listed.body, "id")) + "/certification",
              R"({"benefit_mechanism":"收益归王建国户"})", bearer(farmer))
              .status == 201);

  auto phones = server.app().db().read(
      [](db::Session& s) { return s.query("SELECT phone FROM accounts ORDER BY id"); });
  REQUIRE(phones.ok());
  REQUIRE(phones->size() >= 10);
  // The groups with items, by phone.
  std::map<std::string, std::set<std::string>> waiting;
  for (const auto& row : *phones) {
    const std::string phone = row.str(0), token = server.login(phone);
    auto queue = get_json(c, "/api/v1/queue", token);
    for (const auto& group : queue.find("groups")->as_array())
      for (const auto& item : group.find("items")->as_array()) {
        const std::string link = item.find("link")->as_string();
        INFO(phone << " (" << queue.find("role")->as_string() << ") " << link);
        CHECK(c.request("GET", link, "", bearer(token)).status == 200);
        waiting[phone].insert(group.find("kind")->as_string());
      }
  }
  using Groups = std::set<std::string>;
  CHECK(waiting[kFarmer] == Groups{"orders_to_pack"});
  CHECK(waiting[kStation] == Groups{"parcels_arriving"});
  CHECK(waiting[kCentre] == Groups{"refund_claims_to_decide"});
  CHECK(waiting[kHelper] == Groups{"open_alerts"});
  CHECK(waiting[kConsumer] == Groups{"deliveries_to_confirm"});
  CHECK(waiting[kTownshipOffice] ==
        Groups{"certifications_to_review", "exit_proposals_to_review", "open_alerts"});
  CHECK(waiting[kOffice] == Groups{"objections_to_resolve", "open_alerts", "fund_flags"});
  CHECK(waiting["13900000008"] == Groups{"refund_claims_to_decide", "open_alerts"});  // admin
}
