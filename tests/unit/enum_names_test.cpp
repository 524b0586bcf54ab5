#include <catch2/catch.hpp>

#include "alleviation/evaluation.hpp"
#include "alleviation/exits.hpp"
#include "logistics/network.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/orders.hpp"
#include "storefront/auth.hpp"

using namespace cunhuo;

// Every value has a name, and every name reads back as its value.
template <class E, class Parse>
void round_trip(std::initializer_list<E> values, Parse parse) {
  for (E v : values) {
    auto name = marketplace::to_string(v);
    REQUIRE_FALSE(name.empty());
    auto back = parse(name);
    REQUIRE(back.ok());
    CHECK(*back == v);
  }
}

TEST_CASE("every enumeration reads back from its name", "[enum]") {
  using namespace marketplace;
  round_trip({PovertyStatus::registered_poor, PovertyStatus::at_risk, PovertyStatus::exited,
              PovertyStatus::returned_to_poverty, PovertyStatus::not_registered},
             parse_poverty_status);
  round_trip({TemperatureClass::ambient, TemperatureClass::chilled, TemperatureClass::frozen},
             parse_temperature_class);
  round_trip(
      {CampaignKind::consumption, CampaignKind::festival, CampaignKind::anti_season,
       CampaignKind::special_price, CampaignKind::flash_sale, CampaignKind::enterprise_pairing},
      parse_campaign_kind);
  round_trip({OrderStatus::pending_payment, OrderStatus::paid, OrderStatus::packed,
              OrderStatus::shipped, OrderStatus::delivered, OrderStatus::completed,
              OrderStatus::cancelled, OrderStatus::refunded},
             parse_order_status);
  for (auto s :
       {CertificationStatus::applied, CertificationStatus::township_reviewed,
        CertificationStatus::approved, CertificationStatus::rejected, CertificationStatus::revoked})
    CHECK_FALSE(to_string(s).empty());
  for (auto k : {logistics::NodeKind::village_point, logistics::NodeKind::township_station,
                 logistics::NodeKind::county_centre, logistics::NodeKind::cold_store,
                 logistics::NodeKind::city_hub})
    CHECK(*logistics::parse_node_kind(logistics::to_string(k)) == k);
  for (auto r :
       {storefront::Role::farmer, storefront::Role::shop_manager, storefront::Role::consumer,
        storefront::Role::org_buyer, storefront::Role::station_operator,
        storefront::Role::county_centre, storefront::Role::poverty_office, storefront::Role::helper,
        storefront::Role::admin})
    CHECK(*storefront::parse_role(storefront::to_string(r)) == r);
  CHECK_FALSE(parse_order_status("shipped ").ok());
}

TEST_CASE("orders move only along the documented life cycle", "[orders]") {
  using marketplace::OrderStatus;
  using marketplace::transition_allowed;
  CHECK(transition_allowed(OrderStatus::pending_payment, OrderStatus::paid));
  CHECK(transition_allowed(OrderStatus::shipped, OrderStatus::delivered));
  CHECK(transition_allowed(OrderStatus::delivered, OrderStatus::refunded));
  CHECK_FALSE(transition_allowed(OrderStatus::pending_payment, OrderStatus::shipped));
  CHECK_FALSE(transition_allowed(OrderStatus::packed, OrderStatus::cancelled));
  CHECK_FALSE(transition_allowed(OrderStatus::cancelled, OrderStatus::paid));
  CHECK_FALSE(transition_allowed(OrderStatus::refunded, OrderStatus::refunded));
}

TEST_CASE("the operations lists' views, stages and bands read back from their names", "[enum]") {
  using logistics::ShipmentView;
  for (auto v :
       {ShipmentView::arriving, ShipmentView::in_store, ShipmentView::to_dispatch,
        ShipmentView::late, ShipmentView::held, ShipmentView::unroutable, ShipmentView::excursion})
    CHECK(*logistics::parse_shipment_view(logistics::to_string(v)) == v);
  CHECK(logistics::parse_shipment_view("Arriving").error().code == "invalid_view");
  using alleviation::ExitStage;
  for (auto s : {ExitStage::village_review, ExitStage::township_review, ExitStage::county_decision,
                 ExitStage::notice, ExitStage::objected, ExitStage::decided})
    CHECK(*alleviation::parse_exit_stage(alleviation::to_string(s)) == s);
  CHECK(alleviation::parse_exit_stage("").error().code == "invalid_stage");
  using alleviation::Band;
  for (auto b : {Band::impoverished, Band::likely_impoverished, Band::lifted_out})
    CHECK(*alleviation::parse_band(alleviation::to_string(b)) == b);
  using marketplace::CertificationStatus;
  for (auto s :
       {CertificationStatus::applied, CertificationStatus::township_reviewed,
        CertificationStatus::approved, CertificationStatus::rejected, CertificationStatus::revoked})
    CHECK(*marketplace::parse_certification_status(marketplace::to_string(s)) == s);
}
