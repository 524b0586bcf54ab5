// Steps many tests take the same way, over HTTP as users take them: list, buy, pay in
// the sandbox, wait for what the outbox does in the background.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tests/support/server.hpp"

namespace cunhuo::test {

extern const std::string kMelon;  // a chilled melon listing by household 1 in 西渠镇
extern const std::string kFarmer, kOtherFarmer, kConsumer, kCentre, kOffice, kStation;

std::string str_field(const std::string& body, const char* key);

// The farmer (or `lister`) lists `listing`: the new product's id.
std::int64_t list_for_sale(TestServer& server, HttpClient& c, const std::string& listing = kMelon,
                           const std::string& lister = kFarmer);
// The body of POST /api/v1/orders: `quantity` of `product`, to an address in 兰州.
std::string order_request_body(std::int64_t product, int quantity = 1);

struct Bought {
  std::int64_t checkout = 0, order = 0;
};
// The farmer (or `lister`) lists `listing`, the consumer orders `quantity` of it.
Bought buy(TestServer& server, HttpClient& c, const std::string& consumer, int quantity = 2,
           const std::string& listing = kMelon, const std::string& lister = kFarmer);
HttpReply start_payment(HttpClient& c, const std::string& consumer, std::int64_t checkout,
                        const std::string& key);
// Polls for up to 10 s.
bool eventually(const std::function<bool()>& done);
std::string order_status(HttpClient& c, const std::string& token, std::int64_t order);
// The tracking numbers of an order's shipments, once the outbox has made them (polls).
std::vector<std::string> tracking_numbers(HttpClient& c, const std::string& token,
                                          std::int64_t order);
// A scan of a parcel at a node, over HTTP.
HttpReply scan_parcel(HttpClient& c, const std::string& token, const std::string& number,
                      const std::string& node, const char* step,
                      const char* disposition = "in_transit");
// A telemetry batch: `count` readings of `sensor` every `step_min` minutes from `from_ms`,
// each `centi` hundredths of a degree.
std::string sensor_readings(const std::string& sensor, std::int64_t from_ms, int count,
                            int step_min, int centi);
// An order's parcels leave their village point (the centre scans them) and reach the
// buyer's city (admin scans them there: the city hub is outside the county); the order
// follows them. Returns once it is delivered.
void deliver_by_scans(TestServer& server, HttpClient& c, std::int64_t order);

// Certifies a listing as a poverty-alleviation product: its farmer applies, the township
// office reviews, the county office approves (certificate `number`).
void certify(TestServer& server, HttpClient& c, std::int64_t product,
             const std::string& number = "MQ-2026-101");

// Buys and pays in the sandbox; returns once the order is paid.
Bought buy_and_pay(TestServer& server, HttpClient& c, const std::string& consumer,
                   const std::string& listing = kMelon, const std::string& lister = kFarmer);

}  // namespace cunhuo::test
