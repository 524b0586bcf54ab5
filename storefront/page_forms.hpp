// What the pages that place orders share: a form's idempotency key (the same form sent
// twice is done once, as an Idempotency-Key does for the API), reading the answer it
// recorded, a shipping address typed in a form, and how an order is said in a list.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/orders.hpp"
#include "storefront/http.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr std::size_t kFormKeyBytes = 16;        // random, hex: a form's idempotency key
inline constexpr std::size_t kMaxRecipientBytes = 100;  // as the order module keeps them
inline constexpr std::size_t kMaxShipAddressBytes = 500;

// A page that does not exist for this caller: 404, saying no such `what`.
Error page_not_found(const char* what);
// The answer Idempotency recorded, as the page's result: the created id, or the refusal.
Result<std::int64_t> answered_id(const Response& answer, const char* field);
// A POST keyed for Idempotency by its form key (field "key"), over `digest` of its fields.
Request keyed_request(const web::PageCall& call, std::string path, std::string digest);
// The key a form shown again carries: the same while its first sending may still be running
// (a double tap must not place twice), else a fresh one, since a refusal is kept under its
// key and the corrected form is another request. `why` is null on a first showing.
std::string key_after(const web::PageCall& call, const Error* why);
// A form without its key (or with a forged one) is refused like a bad form token.
Status need_key(const web::PageCall& call);
// The shipping address of fields name, phone, address, region_code; missing_address when
// one is blank, invalid_length when too long (the order module checks the rest).
Result<marketplace::ShippingAddress> address_of(const web::PageCall& call);
// A text key's words, or `raw` itself when there is no such text.
std::string word(const std::string& key, std::string_view raw, web::Lang lang);
std::string status_word(marketplace::OrderStatus s, web::Lang lang);
// An order in a list: id, title (more: of several lines), total, status, created.
web::View order_row(const marketplace::OrderSummary& o, web::Lang lang);

}  // namespace cunhuo::storefront
