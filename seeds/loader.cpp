#include "seeds/loader.hpp"

#include <spdlog/spdlog.h>

#include "core/json.hpp"
#include "core/region.hpp"
#include "logistics/network.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/organisations.hpp"
#include "marketplace/places.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::seeds {

extern const std::string_view kFixtureSeed;    // generated from fixture/seed.json at build time
extern const std::string_view kFixturePlaces;  // from fixture/places.json

namespace {

constexpr std::size_t kMaxItems = 100'000;

constexpr db::Migration kMigrations[] = {
    {"seeds", 1, "seed sets",
     "CREATE TABLE IF NOT EXISTS seed_sets (\n"
     "  name VARCHAR(100) NOT NULL PRIMARY KEY,\n"
     "  loaded_at BIGINT NOT NULL\n"
     ");\n"},
    // A set that says "sample_data": true is invented data: the service says so on every
    // answer while the store holds one.
    {"seeds", 2, "seed sets marked as sample data",
     "ALTER TABLE seed_sets ADD COLUMN sample_data INTEGER NOT NULL DEFAULT 0;\n"},
    // What the demo county made, under the key of what made it (seeds/demo.hpp): a resumed
    // load finds its listings, campaigns, photos and checkouts here instead of making them
    // twice. kind "checkout": (day_index, seq) is the day and the order's number in it.
    {"seeds", 3, "the demo county's keyed parts",
     "CREATE TABLE IF NOT EXISTS seed_demo_parts (\n"
     "  kind VARCHAR(20) NOT NULL,\n"
     "  day_index INTEGER NOT NULL,\n"
     "  seq INTEGER NOT NULL,\n"
     "  ref_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (kind, day_index, seq)\n"
     ");\n"},
    // The ids a set's households and shops were given, by their keys in the seed: a
    // generated set (the demo county) finds them here whatever ids the store handed out.
    {"seeds", 4, "seed keys of households and shops",
     "CREATE TABLE IF NOT EXISTS seed_keys (\n"
     "  seed_name VARCHAR(100) NOT NULL,\n"
     "  kind VARCHAR(20) NOT NULL,\n"
     "  seed_key VARCHAR(100) NOT NULL,\n"
     "  ref_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (seed_name, kind, seed_key)\n"
     ");\n"},
};

using Keys = std::map<std::string, std::int64_t>;

Result<std::optional<std::int64_t>> resolve(const FieldReader& item, std::string_view field,
                                            const Keys& keys) {
  auto key = CUNHUO_TRY(item.optional_string(field, 100));
  if (!key) return std::optional<std::int64_t>();
  auto it = keys.find(*key);
  if (it == keys.end())
    return make_error(ErrorKind::invalid, "unknown_reference", "no seed entry with key " + *key,
                      item.path() + "." + std::string(field));
  return std::optional<std::int64_t>(it->second);
}

// Links, and the sensors in cold stores: optional in a seed set.
Status load_links(db::Session& tx, const FieldReader& root, const Clock& clock,
                  LoadReport& report) {
  if (root.has("links"))
    for (const auto& item : CUNHUO_TRY(root.objects("links", kMaxItems))) {
      logistics::NewLink link;
      link.from_code = CUNHUO_TRY(item.string("from", 40));
      link.to_code = CUNHUO_TRY(item.string("to", 40));
      link.mode = CUNHUO_TRY(item.string("mode", 20));
      link.refrigerated = link.mode == "refrigerated_van" || link.mode == "refrigerated_trunk";
      link.duration_min = static_cast<int>(CUNHUO_TRY(item.integer("duration_min", 1, 10080)));
      link.cost_fen = CUNHUO_TRY(item.integer("cost_fen", 0, 100'000'000));
      link.timetable = CUNHUO_TRY(item.optional_string("timetable", 2000)).value_or("on_demand");
      CUNHUO_TRY(logistics::create_link(tx, link, clock));
      if (CUNHUO_TRY(item.optional_boolean("both_ways")).value_or(true)) {
        std::swap(link.from_code, link.to_code);
        link.timetable =
            CUNHUO_TRY(item.optional_string("return_timetable", 2000)).value_or(link.timetable);
        CUNHUO_TRY(logistics::create_link(tx, link, clock));
      }
      ++report.links;
    }
  if (root.has("sensors"))
    for (const auto& item : CUNHUO_TRY(root.objects("sensors", kMaxItems)))
      CUNHUO_CHECK(logistics::register_sensor(tx, CUNHUO_TRY(item.string("code", 40)),
                                              CUNHUO_TRY(item.string("node", 40)), clock));
  return {};
}

// "places": [{"code": "620621104", "name": "西渠镇"}, ...]
Status load_places(db::Session& tx, const FieldReader& root, LoadReport& report) {
  if (!root.has("places")) return {};
  for (const auto& item : CUNHUO_TRY(root.objects("places", kMaxItems))) {
    CUNHUO_CHECK(marketplace::name_place(tx, CUNHUO_TRY(item.string("code", kVillageCodeDigits)),
                                         CUNHUO_TRY(item.string("name", 200))));
    ++report.places;
  }
  return {};
}

Status load_nodes(db::Session& tx, const FieldReader& root, const Clock& clock, Keys& nodes,
                  LoadReport& report) {
  if (!root.has("nodes")) return {};  // a later version of a set may add other parts only
  for (const auto& item : CUNHUO_TRY(root.objects("nodes", kMaxItems))) {
    logistics::NewNode node;
    node.code = CUNHUO_TRY(item.string("code", 40));
    node.kind = CUNHUO_TRY(logistics::parse_node_kind(CUNHUO_TRY(item.string("kind", 40))));
    node.name = CUNHUO_TRY(item.string("name", 200));
    node.region_code = CUNHUO_TRY(item.string("region_code", 12));
    node.cold_capacity_crates = static_cast<int>(
        CUNHUO_TRY(item.optional_integer("cold_capacity_crates", 0, 1'000'000)).value_or(0));
    node.lat_e6 = CUNHUO_TRY(item.optional_integer("lat_e6", -90'000'000, 90'000'000));
    node.lon_e6 = CUNHUO_TRY(item.optional_integer("lon_e6", -180'000'000, 180'000'000));
    if (auto v = CUNHUO_TRY(item.optional_integer("min_centi", -8000, 8000)))
      node.min_centi = static_cast<int>(*v);
    if (auto v = CUNHUO_TRY(item.optional_integer("max_centi", -8000, 8000)))
      node.max_centi = static_cast<int>(*v);
    nodes[node.code] = CUNHUO_TRY(logistics::create_node(tx, node, clock)).value;
    ++report.nodes;
  }
  return {};
}

Status load_households(db::Session& tx, const FieldReader& root, const Clock& clock,
                       Keys& households, LoadReport& report) {
  if (!root.has("households")) return {};  // a later version of a set may add other parts only
  for (const auto& item : CUNHUO_TRY(root.objects("households", kMaxItems))) {
    marketplace::NewHousehold h;
    h.village_code = CUNHUO_TRY(item.string("village_code", 12));
    h.head_name = CUNHUO_TRY(item.string("head_name", 100));
    h.head_id_number = CUNHUO_TRY(item.string("head_id_number", 18));
    h.phone = CUNHUO_TRY(item.string("phone", 20));
    h.member_count = static_cast<int>(CUNHUO_TRY(item.integer("member_count", 1, 30)));
    h.status = CUNHUO_TRY(marketplace::parse_poverty_status(CUNHUO_TRY(item.string("status", 40))));
    marketplace::HouseholdId id;
    if (item.has("card")) {
      auto card = CUNHUO_TRY(marketplace::archive_card_from_json(CUNHUO_TRY(item.object("card"))));
      id = CUNHUO_TRY(marketplace::register_household(tx, h, card, "seed", clock));
    } else {
      id = CUNHUO_TRY(marketplace::create_household(tx, h, clock));
    }
    households[CUNHUO_TRY(item.string("key", 100))] = id.value;
    ++report.households;
  }
  return {};
}

Status load_shops(db::Session& tx, const FieldReader& root, const Clock& clock,
                  const Keys& households, Keys& shops, LoadReport& report) {
  if (!root.has("shops")) return {};  // a later version of a set may add other parts only
  for (const auto& item : CUNHUO_TRY(root.objects("shops", kMaxItems))) {
    marketplace::NewShop shop;
    shop.name = CUNHUO_TRY(item.string("name", 200));
    shop.kind = CUNHUO_TRY(item.string("kind", 20)) == "cooperative"
                    ? marketplace::ShopKind::cooperative
                    : marketplace::ShopKind::household;
    shop.village_code = CUNHUO_TRY(item.string("village_code", 12));
    for (const auto& key : CUNHUO_TRY(item.strings("members", 1000, 100))) {
      auto it = households.find(key);
      if (it == households.end())
        return make_error(ErrorKind::invalid, "unknown_reference", "no household with key " + key,
                          item.path() + ".members");
      shop.members.push_back(marketplace::HouseholdId{it->second});
    }
    shops[CUNHUO_TRY(item.string("key", 100))] =
        CUNHUO_TRY(marketplace::create_shop(tx, shop, clock)).value;
    ++report.shops;
  }
  return {};
}

Status load_accounts(db::Session& tx, const FieldReader& root, const Keys& households,
                     const Keys& shops, const Keys& nodes, const AccountCreator& create,
                     Keys& accounts, LoadReport& report) {
  if (!root.has("accounts")) return {};
  for (const auto& item : CUNHUO_TRY(root.objects("accounts", kMaxItems))) {
    SeedAccount a;
    a.phone = CUNHUO_TRY(item.string("phone", 20));
    a.password = CUNHUO_TRY(item.string("password", 128));
    a.display_name = CUNHUO_TRY(item.string("display_name", 100));
    a.role = CUNHUO_TRY(item.string("role", 40));
    a.region_code = CUNHUO_TRY(item.string("region_code", 12));
    a.household_id = CUNHUO_TRY(resolve(item, "household", households));
    a.shop_id = CUNHUO_TRY(resolve(item, "shop", shops));
    a.node_id = CUNHUO_TRY(resolve(item, "node", nodes));
    accounts[a.phone] = CUNHUO_TRY(create(tx, a));
    // A helper's account serves the households whose cards name them by phone.
    if (a.role == "helper")
      CUNHUO_TRY(marketplace::link_helper_account(tx, a.phone, accounts[a.phone], a.region_code));
    ++report.accounts;
  }
  return {};
}

Status load_organisations(db::Session& tx, const FieldReader& root, const Keys& accounts,
                          const Clock& clock, LoadReport& report) {
  if (!root.has("organisations")) return {};
  for (const auto& item : CUNHUO_TRY(root.objects("organisations", kMaxItems))) {
    marketplace::NewOrganisation o;
    o.name = CUNHUO_TRY(item.string("name", 200));
    o.kind = CUNHUO_TRY(item.string("kind", 20)) == "public_unit"
                 ? marketplace::OrganisationKind::public_unit
                 : marketplace::OrganisationKind::enterprise;
    o.region_code = CUNHUO_TRY(item.string("region_code", 12));
    o.budget = Money::fen(CUNHUO_TRY(item.integer("budget_fen", 0, INT64_MAX)));
    o.required_share_bps = static_cast<int>(
        CUNHUO_TRY(item.optional_integer("required_share_bps", 0, 10000)).value_or(0));
    o.paired_villages = CUNHUO_TRY(item.strings("paired_villages", 1000, 12));
    for (const auto& phone : CUNHUO_TRY(item.strings("buyers", 1000, 20))) {
      auto it = accounts.find(phone);
      if (it == accounts.end())
        return make_error(ErrorKind::invalid, "unknown_reference",
                          "no seed account with phone " + phone, item.path() + ".buyers");
      o.buyer_accounts.push_back(it->second);
    }
    CUNHUO_TRY(marketplace::create_organisation(tx, o, clock));
    ++report.organisations;
  }
  return {};
}

}  // namespace

std::span<const db::Migration> migrations() { return kMigrations; }

Result<bool> holds_sample_data(db::Session& s) {
  return CUNHUO_TRY(s.query_one("SELECT name FROM seed_sets WHERE sample_data = 1")).has_value();
}

Result<bool> holds_published_accounts(db::Session& s) {
  return CUNHUO_TRY(s.query_one("SELECT name FROM seed_sets WHERE name = ? OR sample_data = 1",
                                {std::string(kFixtureName)}))
      .has_value();
}

std::optional<std::string_view> builtin(std::string_view name) {
  if (name == "fixture") return kFixtureSeed;
  return std::nullopt;
}

std::vector<std::string_view> updates_of(std::string_view name) {
  if (name == "fixture") return {kFixturePlaces};
  return {};
}

namespace {

Status record_keys(db::Session& tx, const std::string& seed, std::string_view kind,
                   const Keys& keys) {
  for (const auto& [key, id] : keys)
    CUNHUO_TRY(
        tx.exec("INSERT INTO seed_keys (seed_name, kind, seed_key, ref_id) VALUES (?, ?, ?, ?)",
                {seed, std::string(kind), key, id}));
  return {};
}

}  // namespace

Result<std::map<std::string, std::int64_t>> seeded_ids(db::Session& s, std::string_view seed,
                                                       std::string_view kind) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row :
       CUNHUO_TRY(s.query("SELECT seed_key, ref_id FROM seed_keys WHERE seed_name = ? AND kind = ?",
                          {std::string(seed), std::string(kind)})))
    out[row.str(0)] = row.i64(1);
  return out;
}

Result<LoadReport> load(db::Database& db, std::string_view seed, const Clock& clock,
                        const AccountCreator& create_account) {
  auto doc = CUNHUO_TRY(Json::parse(seed));
  auto root = CUNHUO_TRY(FieldReader::root(doc));
  const std::string name = CUNHUO_TRY(root.string("name", 100));
  return db.write([&](db::Session& tx) -> Result<LoadReport> {
    LoadReport report;
    const bool sample = CUNHUO_TRY(root.optional_boolean("sample_data")).value_or(false);
    auto claimed = CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                                          " INTO seed_sets (name, loaded_at, sample_data) "
                                          "VALUES (?, ?, ?)",
                                      {name, clock.now_ms(), sample ? 1 : 0}));
    if (claimed.affected_rows == 0) return report;  // loaded before
    Keys nodes, households, shops, accounts;
    if (root.has("poor_counties")) {
      for (const auto& county : CUNHUO_TRY(root.objects("poor_counties", 10'000)))
        CUNHUO_CHECK(marketplace::register_poor_county(tx, CUNHUO_TRY(county.string("code", 6)),
                                                       CUNHUO_TRY(county.string("name", 100))));
    }
    CUNHUO_CHECK(load_places(tx, root, report));
    CUNHUO_CHECK(load_nodes(tx, root, clock, nodes, report));
    CUNHUO_CHECK(load_links(tx, root, clock, report));
    CUNHUO_CHECK(load_households(tx, root, clock, households, report));
    CUNHUO_CHECK(load_shops(tx, root, clock, households, shops, report));
    CUNHUO_CHECK(record_keys(tx, name, "household", households));
    CUNHUO_CHECK(record_keys(tx, name, "shop", shops));
    CUNHUO_CHECK(
        load_accounts(tx, root, households, shops, nodes, create_account, accounts, report));
    CUNHUO_CHECK(load_organisations(tx, root, accounts, clock, report));
    report.loaded = true;
    spdlog::info("loaded seed set {}: {} places, {} nodes, {} households, {} shops, {} accounts",
                 name, report.places, report.nodes, report.households, report.shops,
                 report.accounts);
    return report;
  });
}

}  // namespace cunhuo::seeds
