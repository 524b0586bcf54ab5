#include "storefront/page_forms.hpp"

#include "core/assert.hpp"
#include "core/json.hpp"
#include "payments/signing.hpp"
#include "storefront/page_words.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::string_view kRequestInProgress = "request_in_progress";  // Idempotency's 409

}  // namespace

Error page_not_found(const char* what) {
  return make_error(ErrorKind::not_found, "not_found", std::string("no such ") + what);
}

Result<std::int64_t> answered_id(const Response& answer, const char* field) {
  auto doc = Json::parse(answer.body);
  if (answer.status != 201 || !doc.ok()) {
    const Json* error = doc.ok() ? doc->find("error") : nullptr;
    const Json* code = error ? error->find("code") : nullptr;
    const ErrorKind kind = answer.status == 409   ? ErrorKind::conflict
                           : answer.status == 404 ? ErrorKind::not_found
                           : answer.status >= 500 ? ErrorKind::unavailable
                                                  : ErrorKind::invalid;
    return make_error(kind, code ? code->as_string() : "refused", "refused");
  }
  const Json* id = doc->find(field);
  CUNHUO_ASSERT(id != nullptr);
  return id->as_integer();
}

Request keyed_request(const web::PageCall& call, std::string path, std::string digest) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(digest);
  r.headers.emplace_back("idempotency-key", call.field("key"));
  return r;
}

std::string key_after(const web::PageCall& call, const Error* why) {
  const std::string key = call.field("key");
  const bool in_flight = why && why->code == kRequestInProgress;
  return key.empty() || !in_flight ? payments::random_hex(kFormKeyBytes) : key;
}

Status need_key(const web::PageCall& call) {
  const std::string key = call.field("key");
  if (key.empty() || key.size() > 2 * kFormKeyBytes)
    return make_error(ErrorKind::forbidden, std::string(web::kBadFormToken), "no form key");
  return {};
}

Result<marketplace::ShippingAddress> address_of(const web::PageCall& call) {
  marketplace::ShippingAddress a{call.field("name"), call.field("phone"), call.field("address"),
                                 call.field("region_code")};
  for (const auto* f : {&a.name, &a.phone, &a.address, &a.region_code})
    if (f->find_first_not_of(" \t\r\n") == std::string::npos)
      return make_error(ErrorKind::invalid, "missing_address",
                        "the name, phone, address and region code are needed", "address");
  if (a.name.size() > kMaxRecipientBytes || a.address.size() > kMaxShipAddressBytes)
    return make_error(ErrorKind::invalid, "invalid_length", "too long", "address");
  return a;
}

std::string word(const std::string& key, std::string_view raw, web::Lang lang) {
  const auto known = web::text(key, lang);
  return known == key ? std::string(raw) : std::string(known);
}

std::string status_word(marketplace::OrderStatus s, web::Lang lang) {
  const std::string raw(marketplace::to_string(s));
  return word("order_status_" + raw, raw, lang);
}

web::View order_row(const marketplace::OrderSummary& o, web::Lang lang) {
  web::View v;
  v.set("id", std::to_string(o.id.value));
  v.set("title", o.first_title);
  v.set("more", o.item_count > 1);
  v.set("total", yuan(o.total));
  v.set("status", status_word(o.status, lang));
  v.set("created", page_time(o.created_at_ms));
  return v;
}

}  // namespace cunhuo::storefront
