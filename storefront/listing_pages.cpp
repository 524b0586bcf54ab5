// The farmer's and the cooperative's listings on pages: a new listing with a photo taken by
// the phone's camera (a cooperative's names each member's share), and the list of listings
// with their stock to change. A listing sent twice with the same form key (a retry after a
// dropped connection) appears once.
#include <charconv>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/work_queue.hpp"
#include "payments/signing.hpp"
#include "storefront/farm_pages.hpp"
#include "storefront/listing_form.hpp"
#include "storefront/page_words.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
using web::Page;
using web::PageCall;
using web::View;
using web::ViewList;

constexpr std::size_t kFormKeyBytes = 16;  // random, hex: the form's idempotency key
// A cooperative's members with the percent typed for each: the form's share fields.
Result<ViewList> member_shares(db::Session& s, const mk::Shop& shop, const ListingForm& typed) {
  ViewList out;
  for (auto member : shop.members) {
    auto h = CUNHUO_TRY(mk::find_household(s, member));
    if (!h) continue;
    View v;
    v.set("id", std::to_string(member.value));
    v.set("name", mask_name(h->head_name));
    for (const auto& [household, percent] : typed.shares)
      if (household == std::to_string(member.value)) v.set("share", percent);
    out.push_back(v);
  }
  return out;
}

Result<Page> listing_form(const FarmPageContext& ctx, const Desk& desk, const PageCall& call,
                          const ListingForm& typed, const std::string& key,
                          const std::string& error) {
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto shop = CUNHUO_TRY(desk.listing_shop(s, call.caller()));
    View out;
    if (desk.shares) out.set("members", CUNHUO_TRY(member_shares(s, shop, typed)));
    return out;
  }));
  set_desk(v, desk, call.lang);
  v.set("title", typed.title);
  v.set("price", typed.price);
  v.set("stock", typed.stock);
  v.set("harvest_date", typed.harvest_date);
  v.set("units", choices(kListingUnits, typed.unit, call.lang, true));
  v.set("categories", choices(kListingCategories, typed.category, call.lang, false));
  v.set("chilled", typed.temperature == "chilled");
  v.set("frozen", typed.temperature == "frozen");
  v.set("key", key.empty() ? payments::random_hex(kFormKeyBytes) : key);
  if (!error.empty()) v.set("error", error);
  return Page::show("listing_new", "title_listing_new", std::move(v));
}

Result<Page> show_new_listing(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  return listing_form(ctx, desk, call,
                      ListingForm{.unit = std::string(kListingUnits[0]),
                                  .category = std::string(kListingCategories[0])},
                      "", "");
}

// The photo chosen, if any: a browser sends an empty file part when none was.
std::string_view photo_of(const PageCall& call) {
  for (const auto& f : call.files)
    if (f.field == "photo" && !f.bytes.empty()) return f.bytes;
  return {};
}

// The request Idempotency keys "the same listing" by: the form's key and digest.
Request keyed_request(const Desk& desk, const PageCall& call, const ListingForm& form,
                      std::string_view photo) {
  Request r;
  r.method = "POST";
  r.path = desk.base + "/list";
  r.body = listing_request_digest(form, photo);
  r.headers.emplace_back("idempotency-key", call.field("key"));
  return r;
}

Result<std::int64_t> created_id(const Response& answer) {
  if (answer.status != 201) {
    auto doc = Json::parse(answer.body);
    const Json* error = doc.ok() ? doc->find("error") : nullptr;
    const Json* code = error ? error->find("code") : nullptr;
    return make_error(answer.status == 409 ? ErrorKind::conflict : ErrorKind::invalid,
                      code ? code->as_string() : "listing_refused", "the listing was refused");
  }
  auto doc = CUNHUO_TRY(Json::parse(answer.body));
  return doc.find("id")->as_integer();
}

// The listing and its photo in one transaction; the photo's files, written before, are
// removed when it does not commit or when an earlier answer for the same key stands.
// The listing's producers: the cooperative's members by their shares, else the household.
Result<std::vector<mk::ProducerShare>> producers_of(const Desk& desk, const PageCall& call,
                                                    const ListingForm& form, const mk::Shop& shop) {
  if (desk.shares) return shares_of(form, shop.members);
  return std::vector<mk::ProducerShare>{
      {.household = mk::HouseholdId{*call.caller().household_id}, .share_bps = mk::kFullShare}};
}

Result<Page> create_listing(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  const ListingForm form = read_listing_form(call.form);
  const auto shop =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return desk.listing_shop(s, call.caller()); }));
  const auto fields = CUNHUO_TRY(
      listing_fields_of(form, CUNHUO_TRY(producers_of(desk, call, form, shop)), shop.village_code));
  const std::string_view photo = photo_of(call);
  const Request keyed = keyed_request(desk, call, form, photo);
  const std::int64_t account = call.caller().id;
  const std::string listings = desk.base + "/listings?new=";
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(keyed, account)))
    return Page::see_other(listings + std::to_string(CUNHUO_TRY(created_id(*earlier))));
  std::optional<mk::ProcessedImage> image;
  std::string file_key;
  if (!photo.empty()) {
    image = CUNHUO_TRY(mk::process_image(photo));  // slow: before any transaction
    file_key = CUNHUO_TRY(mk::store_photo_files(*image, ctx.photo_folder));
  }
  bool recorded = false;
  const Response answer =
      ctx.idempotency.run(keyed, account, [&](db::Session& tx) -> Result<Response> {
        recorded = false;
        const auto id = CUNHUO_TRY(mk::create_product(tx, shop.id, fields, ctx.clock));
        if (image) CUNHUO_TRY(mk::record_photo(tx, id, file_key, *image, ctx.clock));
        recorded = image.has_value();
        return Response::json(201, "{\"id\":" + std::to_string(id.value) + "}");
      });
  if (!recorded && !file_key.empty()) mk::remove_photo_files(ctx.photo_folder, file_key);
  return Page::see_other(listings + std::to_string(CUNHUO_TRY(created_id(answer))));
}

// --- <desk>/listings ----------------------------------------------------------------------

// Who made a cooperative's listing: "王** 60% · 李** 40%".
Result<std::string> shares_text(db::Session& s, const mk::Product& p) {
  std::string out;
  for (const auto& share : p.producers) {
    auto h = CUNHUO_TRY(mk::find_household(s, share.household));
    if (!out.empty()) out += " · ";
    out += (h ? mask_name(h->head_name) : std::to_string(share.household.value)) + " " +
           std::to_string(share.share_bps / 100) + "%";
  }
  return out;
}

Result<Page> show_listings(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  View view = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    const auto shop = CUNHUO_TRY(desk.listing_shop(s, call.caller()));
    ViewList items;
    for (const auto& p : CUNHUO_TRY(mk::products_of_shop(s, shop.id))) {
      View v;
      v.set("id", std::to_string(p.id.value));
      v.set("title", p.title);
      v.set("price", p.price.to_yuan());
      v.set("unit", unit_text(p.unit, call.lang));
      v.set("stock", std::to_string(p.stock));
      v.set("active", p.active);
      if (desk.shares) v.set("shares", CUNHUO_TRY(shares_text(s, p)));
      items.push_back(v);
    }
    View v;
    v.set("items", items);
    return v;
  }));
  if (auto fresh = call.request.query_param("new")) view.set("new", *fresh);
  set_desk(view, desk, call.lang);
  return Page::show("listings", "title_listings", std::move(view));
}

Result<Page> update_listing(const FarmPageContext& ctx, const Desk& desk, const PageCall& call) {
  const mk::ProductId id{CUNHUO_TRY(call.path_id("listing"))};
  ListingForm typed{.price = call.field("price"), .stock = call.field("stock")};
  mk::ListingFields changes;
  auto price = Money::parse_yuan(typed.price);
  if (!price.ok() || price->fen() <= 0 || price->fen() > mk::kMaxPriceFen)
    return make_error(ErrorKind::invalid, "invalid_price", "a price in yuan", "price");
  changes.price = *price;
  std::int64_t stock = 0;
  auto parsed = std::from_chars(typed.stock.data(), typed.stock.data() + typed.stock.size(), stock);
  if (parsed.ec != std::errc() || parsed.ptr != typed.stock.data() + typed.stock.size() ||
      stock < 0 || stock > mk::kMaxStock)
    return make_error(ErrorKind::invalid, "invalid_stock", "a whole number", "stock");
  changes.stock = stock;
  CUNHUO_TRY(ctx.db.write([&](db::Session& tx) -> Result<mk::Product> {
    const auto none = make_error(ErrorKind::not_found, "not_found", "no such listing");
    auto current = CUNHUO_TRY(mk::find_product(tx, id));
    if (!current || !CUNHUO_TRY(can_manage_shop(tx, call.caller(), current->shop))) return none;
    // Only this desk's shop: a household shop's listing is not changed on /coop.
    if (current->shop != CUNHUO_TRY(desk.listing_shop(tx, call.caller())).id) return none;
    return mk::update_product(tx, id, changes, ctx.clock);
  }));
  return Page::see_other(desk.base + "/listings");
}

}  // namespace

void add_listing_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk) {
  static constexpr DeskPage kListingPages[] = {
      {"GET", "/list", "A new listing: a few taps and a photo from the camera", show_new_listing},
      {"GET", "/listings", "The listings, their prices and stock", show_listings},
      {"POST", "/listings/:id", "Change a listing's price and stock", update_listing},
  };
  add_desk_pages(pages, ctx, desk, kListingPages);
  pages.add(
      {.method = "POST",
       .pattern = desk.base + "/list",
       .access = only({desk.role}),
       .summary = "List the product; the same form sent again lists it once",
       .handler = [ctx, desk](const PageCall& call) { return create_listing(ctx, desk, call); },
       .reshow = [ctx, desk](const PageCall& call, const Error& why) -> Result<Page> {
         return listing_form(ctx, desk, call, read_listing_form(call.form), call.field("key"),
                             web::refusal_message(why, call.lang));
       },
       .max_body = ctx.max_upload_body + static_cast<std::int64_t>(kMaxListingFormBytes),
       .multipart = true,
       .on_pool = true});
}

}  // namespace cunhuo::storefront
