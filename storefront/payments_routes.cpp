#include "storefront/payments_routes.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "logistics/shipments.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "payments/accounts.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/payouts.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "payments/statement_keys.hpp"
#include "payments/statements.hpp"
#include "storefront/checkout_flow.hpp"
#include "storefront/pages.hpp"
#include "storefront/refund_evidence.hpp"
#include "storefront/web/page_table.hpp"
#include "storefront/centre_moves.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {

Result<payments::Payable> payable_of(db::Session& s, const marketplace::Checkout& checkout) {
  namespace mk = cunhuo::marketplace;
  namespace pay = cunhuo::payments;
  pay::Payable p{checkout.id.value, checkout.buyer, checkout.total, {}};
  for (const auto& o : checkout.orders) {
    if (o.status != mk::OrderStatus::pending_payment)
      return make_error(
          ErrorKind::conflict, "checkout_not_payable",
          "order " + std::to_string(o.id.value) + " is " + std::string(mk::to_string(o.status)),
          "checkout_id");
    auto shop = CUNHUO_TRY(mk::find_shop(s, o.shop));
    pay::PayableOrder po{.order_id = o.id.value,
                         .shop_id = o.shop.value,
                         .cooperative = shop && shop->kind == mk::ShopKind::cooperative,
                         .total = o.total,
                         .lines = {},
                         .region_code = shop ? shop->village_code : std::string()};
    for (const auto& l : o.lines) {
      pay::PayableLine line{l.product.value, l.title, l.quantity, l.line_total,
                            std::nullopt,    "",      false,      {}};
      if (l.campaign) {
        line.campaign_id = l.campaign->value;
        if (auto kind = CUNHUO_TRY(mk::campaign_kind(s, *l.campaign))) {
          line.campaign_kind = std::string(mk::to_string(*kind));
          line.alleviation_campaign = mk::is_alleviation_campaign(*kind);
        }
      }
      for (const auto& share : l.producers)
        line.producers.push_back({share.household.value, share.share_bps});
      po.lines.push_back(std::move(line));
    }
    p.orders.push_back(std::move(po));
  }
  return p;
}

namespace {

namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;

constexpr std::int64_t kMaxNotificationBody = 64 << 10;  // a provider's notice is small

// A refused money operation leaves a line in the log, with who asked and why not.
Result<Response> logged(Result<Response> r, const Request& req) {
  if (!r.ok() && r.error().kind != ErrorKind::internal)
    spdlog::warn("refused {} {}: {} ({})", req.method, req.path, r.error().code, r.error().message);
  return r;
}

// An intent as write_intent writes it.
schema::Schema intent_schema() {
  using namespace schema;
  const Schema status = choice(
      {pay::to_string(pay::IntentStatus::open), pay::to_string(pay::IntentStatus::succeeded),
       pay::to_string(pay::IntentStatus::failed), pay::to_string(pay::IntentStatus::returned)});
  return object({
      required("id", id()),
      required("checkout_id", id()),
      required("amount_fen", fen()),
      required("currency", text()),
      required("status", status),
      required("provider", text()),
      required("pay_url", text().described("where the buyer pays")),
      required("created_at", utc_time()),
      required("paid_at", nullable(utc_time())),
  });
}

void write_intent(JsonWriter& w, const pay::Intent& i) {
  w.begin_object()
      .field("id", i.id)
      .field("checkout_id", i.checkout_id)
      .field("amount_fen", i.amount.fen());
  w.field("currency", i.currency)
      .field("status", pay::to_string(i.status))
      .field("provider", i.provider);
  w.field("pay_url", i.pay_url).field("created_at", format_utc(i.created_at_ms));
  w.key("paid_at");
  if (i.paid_at_ms)
    w.value(format_utc(*i.paid_at_ms));
  else
    w.null();
  w.end_object();
}

// The intent is opened and handed to the provider before the idempotent answer is
// recorded: the provider is called outside any transaction. Both steps are idempotent
// themselves (one open intent per checkout; the provider keys by intent).
Result<Response> pay_checkout(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& buyer = call.caller();
  const mk::CheckoutId id{CUNHUO_TRY(path_id(req))};
  if (!ctx.provider
           .configured())  // checked first: no intent is opened for a provider that is not there
    return make_error(ErrorKind::unavailable, std::string(pay::kProviderUnavailable),
                      "no payment provider is configured: paying is not possible yet");
  if (!req.header("idempotency-key"))
    return make_error(ErrorKind::invalid, "missing_idempotency_key",
                      "send an Idempotency-Key header", "Idempotency-Key");
  if (!req.body.empty()) {
    const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
    auto body = CUNHUO_TRY(FieldReader::root(doc));
    CUNHUO_CHECK(body.only({}));
  }
  if (auto earlier = CUNHUO_TRY(ctx.idempotency.replay(req, buyer.id))) return std::move(*earlier);
  const auto intent = CUNHUO_TRY(open_payment(ctx.db, ctx.provider, ctx.clock, buyer, id));
  return ctx.idempotency.run(req, buyer.id, [&, intent](db::Session& tx) -> Result<Response> {
    CUNHUO_CHECK(pay::attach_provider_payment(
        tx, intent.id, pay::ProviderPayment{intent.provider_ref, intent.pay_url}));
    JsonWriter w;
    write_intent(w, intent);
    return Response::json(201, w.take());
  });
}

Result<Response> get_payment(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  auto intent = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return pay::find_intent(s, id); }));
  if (!intent || (intent->buyer_id != account.id && account.role != Role::admin))
    return no_such("payment");
  JsonWriter w;
  write_intent(w, *intent);
  return Response::json(200, w.take());
}

// ---- the provider's callback -------------------------------------------------------

// The notification is WeChat Pay's envelope: id, create_time, event_type, resource_type,
// resource {algorithm, ciphertext, associated_data, nonce} and summary. The provider opens it
// (signature, timestamp, decryption) before anything is read, so an unsigned body is a 401
// whatever it holds. Its fields are described, not listed: the route table's malformed-body
// test sends each listed field a value past kMaxNotificationBody, and the 413 closes the
// connection that test goes on using.
schema::Schema notification_schema() {
  return schema::map_of(schema::any())
      .described(
          "WeChat Pay v3's signed notification (headers Wechatpay-Serial, -Timestamp, -Nonce, "
          "-Signature): an envelope whose resource is the transaction (TRANSACTION.SUCCESS) or "
          "the refund (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED), AEAD_AES_256_GCM under "
          "the APIv3 key");
}

// What notify answers a notification it took.
schema::Schema notified_schema() {
  using namespace schema;
  return object({required("code", choice({"SUCCESS"}))});
}

// A refusal as WeChat Pay reads it ({"code":"FAIL","message":…}, any 4xx or 5xx: it sends the
// notification again), with the platform's own error object beside it.
Response notice_refused(const Error& e) {
  const Response standard = error_response(e);
  const bool internal = e.kind == ErrorKind::internal;
  JsonWriter w;
  w.begin_object().field("code", "FAIL").field("message", internal ? "internal error" : e.message);
  w.key("error").begin_object().field("code", internal ? std::string("internal") : e.code);
  w.field("message", internal ? "internal error" : e.message);
  if (!internal && !e.field.empty()) w.field("field", e.field);
  w.end_object().end_object();
  Response r = Response::json(standard.status, w.take());
  r.headers = standard.headers;
  return r;
}

// A refund's outcome, recorded on the refund the platform sent (refunds.hpp): one it never
// asked for is refused; an abnormal or closed one is left for staff.
Response refund_noticed(PaymentsContext& ctx, const pay::Notification& opened) {
  auto outcome = pay::decode_refund_notice(opened.body);
  if (!outcome.ok()) return notice_refused(outcome.error());
  auto applied = ctx.db.write([&](db::Session& tx) {
    return pay::apply_refund_outcome(tx, ctx.provider, *outcome, ctx.clock);
  });
  if (!applied.ok()) return notice_refused(applied.error());
  return Response::json(200, R"({"code":"SUCCESS"})");
}

// Answers fast whatever happens downstream (that goes through the outbox): one transaction.
// A notification that fails verification or cannot be applied gets a 4xx, so the provider
// sends it again; nothing is written for it.
Response notify(PaymentsContext& ctx, const Request& req) {
  // Header names are looked up lower-case (http1.cpp keeps them so).
  const pay::Notification received{req.header("wechatpay-serial").value_or(""),
                                   req.header("wechatpay-timestamp").value_or(""),
                                   req.header("wechatpay-nonce").value_or(""),
                                   req.header("wechatpay-signature").value_or(""), req.body};
  auto opened = ctx.provider.open_notification(received);
  if (!opened.ok()) return notice_refused(opened.error());
  if (opened->body.find(R"("event_type":"REFUND.)") != std::string::npos)
    return refund_noticed(ctx, *opened);
  auto outcome = ctx.db.write([&](db::Session& tx) {
    return pay::apply_notification(tx, *opened, ctx.provider.name(), ctx.clock);
  });
  if (!outcome.ok()) return notice_refused(outcome.error());
  if (*outcome == pay::NoticeOutcome::captured || *outcome == pay::NoticeOutcome::returned)
    ctx.dispatcher.wake();
  return Response::json(200, R"({"code":"SUCCESS"})");
}

// ---- refunds -----------------------------------------------------------------------

// The names of who may bear a refund's loss, from the module's table.
std::vector<std::string> bearer_names() {
  std::vector<std::string> names;
  for (auto b : {pay::LossBearer::none, pay::LossBearer::shop, pay::LossBearer::logistics})
    names.emplace_back(pay::to_string(b));
  return names;
}

// A claim as write_claim writes it.
schema::Schema claim_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("order_id", id()),
      required("amount_fen", fen()),
      required("reason", text()),
      required("status", choice({"requested", "approved", "rejected"})),
      required("bearer", choice(bearer_names())),
      required("created_at", utc_time()),
      optional("photo_url", text().described("the photo of the spoiled goods, when one was "
                                             "sent (a claim made on the pages)")),
  });
}

std::string claim_photo_url(std::int64_t claim) {
  return "/api/v1/refund-claims/" + std::to_string(claim) + "/photo";
}

void write_claim(JsonWriter& w, const pay::RefundClaim& c, bool with_photo = false) {
  w.begin_object()
      .field("id", c.id)
      .field("order_id", c.order_id)
      .field("amount_fen", c.amount.fen())
      .field("reason", c.reason);
  w.field("status", c.status)
      .field("bearer", pay::to_string(c.bearer))
      .field("created_at", format_utc(c.created_at_ms));
  if (with_photo) w.field("photo_url", claim_photo_url(c.id));
  w.end_object();
}

// The body claim_refund reads; claim_refund refuses an amount of 0 or an empty reason.
schema::Schema claim_request_schema() {
  using namespace schema;
  return object(
      {required("amount_fen", fen()), required("reason", text(pay::kMaxRefundReasonBytes))});
}

Result<Response> claim_refund(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& buyer = call.caller();
  const std::int64_t order = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"amount_fen", "reason"}));
  const Money amount = Money::fen(CUNHUO_TRY(body.integer("amount_fen", INT64_MIN, INT64_MAX)));
  const std::string reason = CUNHUO_TRY(body.string("reason", 500));
  return ctx.idempotency.run(
      req, buyer.id, [&, amount, reason, order](db::Session& tx) -> Result<Response> {
        auto claim = pay::claim_refund(tx, order, buyer.id, amount, reason, ctx.clock);
        if (!claim.ok()) {
          spdlog::warn("refused refund claim on order {} for {} fen: {}", order, amount.fen(),
                       claim.error().message);
          return claim.error();
        }
        JsonWriter w;
        write_claim(w, *claim);
        return Response::json(201, w.take());
      });
}

// The body decide_claim reads. An approval names who bears the loss, shop or logistics
// (parse_loss_bearer refuses "none", the answer's word for a claim without a bearer); a
// rejection's bearer is not read, so any of the table's names passes here.
schema::Schema decision_schema() {
  using namespace schema;
  const Schema bearer = choice(bearer_names()).described("of an approval: shop or logistics");
  return object({required("approve", boolean()), optional("bearer", bearer)});
}

Result<Response> decide_claim(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"approve", "bearer"}));
  const bool approve = CUNHUO_TRY(body.boolean("approve"));
  pay::LossBearer bearer = pay::LossBearer::none;
  if (approve) bearer = CUNHUO_TRY(pay::parse_loss_bearer(CUNHUO_TRY(body.string("bearer", 20))));
  auto response = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    JsonWriter w;
    write_claim(w,
                CUNHUO_TRY(decide_claim_as(tx, account, id, approve, bearer, ctx.fees, ctx.clock)));
    return Response::json(200, w.take());
  });
  ctx.dispatcher.wake();
  return response;
}

// A claim its buyer or the county centre that decides it may see; to anyone else it does
// not exist.
Result<std::optional<pay::RefundClaim>> visible_claim(db::Session& s, const Account& account,
                                                      std::int64_t id) {
  auto claim = CUNHUO_TRY(pay::find_claim(s, id));
  if (!claim || (claim->buyer_id != account.id &&
                 !CUNHUO_TRY(centre_covers_order(s, account, claim->order_id))))
    return std::optional<pay::RefundClaim>();
  return claim;
}

Result<Response> get_claim(PaymentsContext& ctx, const Call& call) {
  const std::int64_t id = CUNHUO_TRY(path_id(call.request));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto claim = CUNHUO_TRY(visible_claim(s, call.caller(), id));
    if (!claim) return no_such("refund claim");
    JsonWriter w;
    write_claim(w, *claim, CUNHUO_TRY(claim_photo(s, id)).has_value());
    return Response::json(200, w.take());
  });
}

// The evidence is personal: never cached by a shared cache.
Result<Response> get_claim_photo(PaymentsContext& ctx, const Call& call) {
  const std::int64_t id = CUNHUO_TRY(path_id(call.request));
  auto photo = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<ClaimPhoto>> {
    if (!CUNHUO_TRY(visible_claim(s, call.caller(), id))) return std::optional<ClaimPhoto>();
    return claim_photo(s, id);
  }));
  if (!photo) return no_such("photo");
  std::ifstream in(claim_photo_path(ctx.photo_folder, *photo, false), std::ios::binary);
  if (!in) return no_such("photo");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = Response::text(200, std::move(bytes), "image/jpeg");
  r.headers.emplace_back("Cache-Control", "private, max-age=3600");
  return r;
}

// ---- households: statements, balances, payout accounts -----------------------------

// A statement with format=json: the document SignedStatement::document writes around the
// statement issue_statement writes (csv and html are the same statement in other forms).
schema::Schema statement_schema() {
  using namespace schema;
  const Schema line = object({
      required("date", date()),
      required("order_id", id()),
      required("line_no", integer(0)),
      required("product_id", id()),
      required("product", text()),
      required("quantity", integer(1)),
      required("share_bps", integer(1, mk::kFullShare)),
      required("gross_fen", fen()),
      required("fees_fen", fen()),
      required("net_fen", fen()),
      required("campaign_id", nullable(id())),
      required("campaign_kind", text()),
  });
  const Schema period =
      object({required("label", text()), required("from", date()), required("to", date())});
  const Schema totals = object({required("lines", integer(0)), required("gross_fen", fen()),
                                required("fees_fen", fen()), required("net_fen", fen())});
  const Schema statement = object({
      required("format", text()),
      required("household_id", id()),
      required("household_name", text()),
      required("village_code", text()),
      required("members", integer(1)),
      required("period", period),
      required("issued_at", utc_time().described("Shanghai time, +08:00")),
      required("lines", array(line)),
      required("totals", totals),
      required("net_per_member_fen", fen()),
  });
  return object({required("statement", statement.described("canonical JSON, as signed")),
                 required("sha256", text()), required("signature", text()),
                 required("key_serial", text())});
}

// The statement printable, its village named beside its code.
Result<Response> statement_page(PaymentsContext& ctx, const pay::SignedStatement& statement,
                                const Request& req) {
  const auto shown = CUNHUO_TRY(pay::statement_view(statement));
  const auto names = CUNHUO_TRY(ctx.db.read(
      [&](db::Session& s) { return marketplace::place_names(s, {shown.village_code}); }));
  const auto frame = web::page_frame(ctx.pages, req);
  auto r =
      Response::text(200, statement_html(shown, names, frame.chrome), "text/html; charset=utf-8");
  // Its cookies only: a statement is never stored (get_statement says so).
  for (const auto& c : frame.set_cookies) r.headers.emplace_back("Set-Cookie", c);
  return r;
}

Result<Response> get_statement(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const auto period = CUNHUO_TRY(pay::parse_period(req.params.at("period")));
  const std::string format = req.query_param("format").value_or("json");
  if (format != "json" && format != "csv" && format != "html")
    return make_error(ErrorKind::invalid, "invalid_format", "format is json, csv or html",
                      "format");
  auto statement = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<pay::SignedStatement> {
    auto h = CUNHUO_TRY(household_for(s, account, id));
    if (!h) return no_such("household");
    const pay::StatementSubject subject{h->id.value, mask_name(h->head_name), h->village_code,
                                        std::max(1, h->member_count)};
    return pay::issue_statement(s, subject, period, ctx.statement_key, ctx.clock);
  }));
  const std::string file = "statement-" + std::to_string(id) + "-" + period.label;
  Response r;
  if (format == "json")
    r = Response::text(200, statement.document(), "application/json; charset=utf-8");
  else if (format == "csv")
    r = Response::text(200, CUNHUO_TRY(pay::statement_csv(statement)), "text/csv; charset=utf-8");
  else
    r = CUNHUO_TRY(statement_page(ctx, statement, req));
  if (format != "html")
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + file + "." + format + "\"");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// What verify_statement answers; the reason is there when the statement is not genuine.
schema::Schema verdict_schema() {
  using namespace schema;
  return object(
      {required("genuine", boolean()), optional("reason", text()), required("key_serial", text())});
}

// The serial a downloaded statement names, "" when it names none.
std::string serial_named(std::string_view document) {
  auto doc = Json::parse(document);
  if (!doc.ok() || doc->type() != Json::Type::object) return "";
  const Json* serial = doc->find("key_serial");
  return serial && serial->type() == Json::Type::string ? serial->as_string() : "";
}

// Anyone may check a statement: it carries no more than its holder chose to show. A
// statement signed by a key since retired is checked against that key, as published.
Result<Response> verify_statement(PaymentsContext& ctx, const Request& req) {
  std::string public_key = ctx.statement_key.public_key();
  if (const auto serial = serial_named(req.body);
      !serial.empty() && serial != ctx.statement_key.serial()) {
    auto published =
        CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return pay::statement_key(s, serial); }));
    if (published) public_key = published->public_key;
  }
  const auto verdict = pay::verify_statement(req.body, public_key);
  if (!verdict.genuine) spdlog::warn("statement verification failed: {}", verdict.reason);
  JsonWriter w;
  w.begin_object().field("genuine", verdict.genuine);
  if (!verdict.genuine) w.field("reason", verdict.reason);
  w.field("key_serial", pay::key_serial(public_key)).end_object();
  return Response::json(200, w.take());
}

// The published statement keys as write_key writes them.
schema::Schema published_key_schema() {
  using namespace schema;
  return object({required("serial", text()), required("public_key", text()),
                 required("public_key_pem", text()), required("in_use", boolean()),
                 required("first_used_at", utc_time()),
                 required("retired_at", nullable(utc_time()))});
}

void write_key(JsonWriter& w, const pay::PublishedKey& k) {
  w.begin_object().field("serial", k.serial).field("public_key", k.public_key);
  w.field("public_key_pem", pay::public_key_pem(k.public_key)).field("in_use", !k.retired_ms);
  w.field("first_used_at", format_utc(k.first_used_ms)).key("retired_at");
  if (k.retired_ms)
    w.value(format_utc(*k.retired_ms));
  else
    w.null();
  w.end_object();
}

Result<Response> list_statement_keys(PaymentsContext& ctx, const Call&) {
  auto keys = CUNHUO_TRY(ctx.db.read([](db::Session& s) { return pay::statement_keys(s); }));
  JsonWriter w;
  w.begin_object().key("keys").begin_array();
  for (const auto& k : keys) write_key(w, k);
  w.end_array().end_object();
  auto r = Response::json(200, w.take());
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

Result<Response> get_statement_key(PaymentsContext& ctx, const Call& call) {
  const std::string serial = call.request.params.at("serial");
  auto key = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return pay::statement_key(s, serial); }));
  if (!key) return no_such("statement key");
  const auto format = call.request.query_param("format").value_or("json");
  Response r;
  if (format == "pem") {
    r = Response::text(200, pay::public_key_pem(key->public_key), "application/x-pem-file");
  } else if (format == "json") {
    JsonWriter w;
    write_key(w, *key);
    r = Response::json(200, w.take());
  } else {
    return make_error(ErrorKind::invalid, "invalid_format", "format is json or pem", "format");
  }
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

// What get_balance answers. A household's account may not go negative (the ledger's
// conditional debit), so its balances are fen; a posting is signed.
schema::Schema balance_schema() {
  using namespace schema;
  const Schema posting = object(
      {required("amount_fen", integer().described("fen; a credit is positive, a debit negative")),
       required("reference", text()), required("memo", text()), required("at", utc_time())});
  return object({
      required("household_id", id()),
      required("balance_fen", fen()),
      required("available_fen", fen()),
      required("on_hold_fen", fen()),
      required("postings", array(posting).described("the latest first")),
  });
}

Result<Response> get_balance(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    const std::string code = pay::accounts::household(id);
    auto balance = CUNHUO_TRY(pay::find_account(s, code)).value_or(pay::AccountBalance{code});
    JsonWriter w;
    w.begin_object()
        .field("household_id", id)
        .field("balance_fen", balance.balance())
        .field("available_fen", balance.available());
    w.field("on_hold_fen", balance.debits_pending).key("postings").begin_array();
    for (const auto& p : CUNHUO_TRY(pay::postings(s, code, 50)))
      w.begin_object()
          .field("amount_fen", p.amount)
          .field("reference", p.reference)
          .field("memo", p.memo)
          .field("at", format_utc(p.at_ms))
          .end_object();
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

// A payout account as write_payout_account writes it.
schema::Schema payout_account_schema() {
  using namespace schema;
  return object({required("household_id", id()), required("bank", text()),
                 required("account_number", text().described("masked")),
                 required("holder", text().described("masked"))});
}

// The body put_payout_account reads; set_payout_account checks what the fields hold.
schema::Schema payout_account_request_schema() {
  using namespace schema;
  return object({required("bank", text(pay::kMaxBankBytes)),
                 required("account_number", text(pay::kMaxAccountNumberDigits)),
                 required("holder", text(pay::kMaxHolderBytes))});
}

void write_payout_account(JsonWriter& w, const pay::PayoutAccount& a) {
  w.begin_object()
      .field("household_id", a.household_id)
      .field("bank", a.bank)
      .field("account_number", mask_account(a.account_number));
  w.field("holder", mask_name(a.holder)).end_object();
}

Result<Response> put_payout_account(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"bank", "account_number", "holder"}));
  const pay::PayoutAccount a{id, CUNHUO_TRY(body.string("bank", 60)),
                             CUNHUO_TRY(body.string("account_number", 30)),
                             CUNHUO_TRY(body.string("holder", 100))};
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(tx, account, id))) return no_such("household");
    CUNHUO_CHECK(pay::set_payout_account(tx, a, account.id, ctx.clock));
    spdlog::info("payout account of household {} set to {} by account {}", id,
                 mask_account(a.account_number), account.id);
    JsonWriter w;
    write_payout_account(w, a);
    return Response::json(200, w.take());
  });
}

Result<Response> get_payout_account(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    auto a = CUNHUO_TRY(pay::payout_account(s, id));
    if (!a) return no_such("payout account");
    JsonWriter w;
    write_payout_account(w, *a);
    return Response::json(200, w.take());
  });
}

// ---- payout batches (the county centre) --------------------------------------------

// A batch as write_batch writes it.
schema::Schema batch_schema() {
  using namespace schema;
  const Schema payout =
      object({required("household_id", id()), required("amount_fen", fen()),
              required("bank", text()), required("account_number", text().described("masked")),
              required("status", choice({"pending", "paid", "failed"}))});
  return object({required("id", id()), required("status", choice({"pending", "confirmed"})),
                 required("total_fen", fen()), required("created_at", utc_time()),
                 required("payouts", array(payout))});
}

void write_batch(JsonWriter& w, const pay::PayoutBatch& b) {
  w.begin_object().field("id", b.id).field("status", b.status).field("total_fen", b.total.fen());
  w.field("created_at", format_utc(b.created_at_ms)).key("payouts").begin_array();
  for (const auto& p : b.payouts)
    w.begin_object()
        .field("household_id", p.household_id)
        .field("amount_fen", p.amount.fen())
        .field("bank", p.bank)
        .field("account_number", mask_account(p.account_number))
        .field("status", p.status)
        .end_object();
  w.end_array().end_object();
}

Result<Response> create_batch(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  return ctx.idempotency.run(req, account.id, [&](db::Session& tx) -> Result<Response> {
    std::vector<std::int64_t> ids;
    for (const auto& h : CUNHUO_TRY(mk::households_in(tx, account.region_code)))
      ids.push_back(h.id.value);
    JsonWriter w;
    write_batch(w, CUNHUO_TRY(pay::create_payout_batch(tx, ids, ctx.sandbox, ctx.clock)));
    return Response::json(201, w.take());
  });
}

// A batch holds payouts to the centre's own county only, so any of its payouts tells.
Result<std::optional<pay::PayoutBatch>> batch_for(db::Session& s, const Account& a,
                                                  std::int64_t id) {
  auto batch = CUNHUO_TRY(pay::find_payout_batch(s, id));
  if (!batch || batch->payouts.empty()) return batch;
  auto h = CUNHUO_TRY(mk::find_household(s, mk::HouseholdId{batch->payouts.front().household_id}));
  if (h && region_within(h->village_code, a.region_code)) return batch;
  return std::optional<pay::PayoutBatch>();
}

Result<Response> get_batch(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  auto batch = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return batch_for(s, account, id); }));
  if (!batch) return no_such("payout batch");
  JsonWriter w;
  write_batch(w, *batch);
  return Response::json(200, w.take());
}

// The payout record for the bank: the one place account numbers appear whole.
Result<Response> bank_file(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  auto batch = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return batch_for(s, account, id); }));
  if (!batch) return no_such("payout batch");
  spdlog::info("bank file of payout batch {} downloaded by account {}", id, account.id);
  auto r = Response::text(200, CUNHUO_TRY(pay::bank_file_csv(*batch, ctx.sandbox)),
                          "text/csv; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// The body confirm_batch reads: the failed payouts' household ids, as strings.
schema::Schema confirmation_schema() {
  using namespace schema;
  return object({optional("failed_household_ids",
                          array(text().described("a household id"), pay::kMaxPayoutsPerBatch))});
}

Result<Response> confirm_batch(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"failed_household_ids"}));
  std::vector<std::int64_t> failed;
  if (body.has("failed_household_ids"))
    for (const auto& s :
         CUNHUO_TRY(body.strings("failed_household_ids", pay::kMaxPayoutsPerBatch, 20)))
      failed.push_back(std::atoll(s.c_str()));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    if (!CUNHUO_TRY(batch_for(tx, account, id))) return no_such("payout batch");
    JsonWriter w;
    write_batch(w, CUNHUO_TRY(pay::confirm_payout_batch(tx, id, failed, ctx.clock)));
    return Response::json(200, w.take());
  });
}

// ---- reconciliation ----------------------------------------------------------------

// A report as write_reconciliation writes it.
schema::Schema reconciliation_schema() {
  using namespace schema;
  const Schema difference = object(
      {required("kind", choice({"missing_in_books", "missing_at_provider", "amount_mismatch"})),
       required("type", choice({"payment", "refund"})), required("reference", text()),
       required("intent_id", integer(0)), required("books_fen", fen()),
       required("provider_fen", fen())});
  return object(
      {required("id", id()), required("date", date()), required("provider", text()),
       required("county", nullable(text(kCountyCodeDigits))
                              .described("the county whose part it covers; null: the whole bill")),
       required("matched", integer(0)), required("run_at", utc_time()),
       required("differences", array(difference))});
}

// The body run_reconciliation reads; reconcile says whether the date is one.
schema::Schema reconciliation_request_schema() {
  using namespace schema;
  return object({required("date", date())});
}

void write_reconciliation(JsonWriter& w, const pay::Reconciliation& r) {
  w.begin_object().field("id", r.id).field("date", r.date).field("provider", r.provider);
  if (r.county_code.empty())
    w.key("county").null();
  else
    w.field("county", r.county_code);
  w.field("matched", r.matched);
  w.field("run_at", format_utc(r.run_at_ms));
  w.key("differences").raw(pay::differences_json(r.differences)).end_object();
}

// ---- refunds the provider did not deliver -------------------------------------------

schema::Schema undelivered_refunds_schema() {
  using namespace schema;
  const Schema item = object(
      {required("id", id()), required("order_id", integer(0).described("0: a second payment")),
       required("intent_id", id()), required("amount_fen", integer(1)),
       required("status", choice({"abnormal", "closed"})), required("reason", text()),
       required("region_code", text()), required("sent_at", utc_time())});
  return object({required("refunds", array(item)), required("next_cursor", nullable(text()))});
}

// A centre sees the refunds of its own county's shops; an admin every one (and the
// returns of a second payment, which belong to no order). Newest first, paged by id.
Result<Response> list_undelivered_refunds(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  CUNHUO_ASSERT(ctx.cursors != nullptr);
  const std::string list = "undelivered-refunds:" + std::to_string(account.id);
  const auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), *ctx.cursors, list, 1));
  auto rows = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return pay::undelivered_refunds(
        s, account.role == Role::admin ? std::string() : account.region_code,
        page.after ? std::optional(page.after->front()) : std::nullopt,
        static_cast<int>(page.limit) + 1);
  }));
  std::optional<std::string> next;
  if (static_cast<std::int64_t>(rows.size()) > page.limit) {
    rows.resize(static_cast<std::size_t>(page.limit));
    next = ctx.cursors->seal(list, {rows.back().id});
  }
  JsonWriter w;
  w.begin_object().key("refunds").begin_array();
  for (const auto& r : rows) {
    w.begin_object().field("id", r.id).field("order_id", r.order_id);
    w.field("intent_id", r.intent_id).field("amount_fen", r.amount_fen);
    w.field("status", r.status).field("reason", r.reason).field("region_code", r.region_code);
    w.field("sent_at", format_utc(r.sent_at_ms)).end_object();
  }
  w.end_array().key("next_cursor");
  if (next)
    w.value(*next);
  else
    w.null();
  w.end_object();
  return Response::json(200, w.take());
}

// The body settle_refund reads. Its shape (a named method, a reference) is checked at the
// edge; the amount against what the refund owes, once the refund is known to be owed.
schema::Schema settlement_request_schema() {
  using namespace schema;
  return object(
      {required("method", choice(pay::offline_refund_method_names())
                              .described("how staff paid the buyer outside WeChat Pay")),
       required("reference",
                text(pay::kMaxSettlementReferenceBytes, 1)
                    .described("the bank transfer's reference, or who paid the cash where")),
       required("amount_fen", integer(1).described("the whole amount owed"))});
}

schema::Schema settled_refund_schema() {
  using namespace schema;
  const Schema settlement =
      object({required("method", choice(pay::offline_refund_method_names())),
              required("reference", text()), required("amount_fen", integer(1)),
              required("settled_by", id().described("the staff account")),
              required("settled_at", utc_time())});
  return object({required("id", id()),
                 required("order_id", integer(0).described("0: a second payment")),
                 required("intent_id", id()), required("amount_fen", integer(1)),
                 required("status", choice({"abnormal", "closed"})), required("reason", text()),
                 required("region_code", text()), required("sent_at", utc_time()),
                 required("settlement", settlement)});
}

// A centre settles the refunds of its own county's shops; an admin any (and the returns of
// a second payment, which belong to no shop). To anyone else the refund does not exist.
bool settles_in_area(const Account& account, const pay::UndeliveredRefund& refund) {
  if (account.role == Role::admin) return true;
  // An account without an area settles nothing: an empty area would be a prefix of every code.
  return account.role == Role::county_centre && !refund.region_code.empty() &&
         !account.region_code.empty() && region_within(refund.region_code, account.region_code);
}

Result<pay::ProviderRefundRecord> settle_refund_as(db::Session& tx, const Account& account,
                                                   const pay::SettlementRequest& request,
                                                   const Clock& clock) {
  auto found = CUNHUO_TRY(pay::find_provider_refund(tx, request.refund_id));
  if (!found || !settles_in_area(account, found->refund)) return no_such("refund");
  return pay::settle_undelivered_refund(tx, request, clock);
}

void write_settled_refund(JsonWriter& w, const pay::ProviderRefundRecord& r) {
  CUNHUO_ASSERT(r.settlement);
  const auto& u = r.refund;
  const auto& s = *r.settlement;
  w.begin_object().field("id", u.id).field("order_id", u.order_id);
  w.field("intent_id", u.intent_id).field("amount_fen", u.amount_fen);
  w.field("status", u.status).field("reason", u.reason).field("region_code", u.region_code);
  w.field("sent_at", format_utc(u.sent_at_ms)).key("settlement").begin_object();
  w.field("method", pay::to_string(s.method)).field("reference", s.reference);
  w.field("amount_fen", s.amount_fen).field("settled_by", s.settled_by);
  w.field("settled_at", format_utc(s.settled_at_ms)).end_object().end_object();
}

// Staff paid the buyer an undelivered refund another way: recorded once, with the ledger's
// transfer, in the idempotency key's transaction.
Result<Response> settle_refund(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"method", "reference", "amount_fen"}));
  // The edge checked the shape; the module judges the values (bytes, the amount owed).
  constexpr std::size_t kReadBytes = 4 * pay::kMaxSettlementReferenceBytes;
  const pay::SettlementRequest request{
      .refund_id = id,
      .method = CUNHUO_TRY(body.optional_string("method", kReadBytes)).value_or(""),
      .reference = CUNHUO_TRY(body.optional_string("reference", kReadBytes)).value_or(""),
      .amount_fen =
          CUNHUO_TRY(body.optional_integer("amount_fen", INT64_MIN, INT64_MAX)).value_or(0),
      .settled_by = account.id};
  return ctx.idempotency.run(
      req, account.id, [&ctx, account, request](db::Session& tx) -> Result<Response> {
        const auto settled = CUNHUO_TRY(settle_refund_as(tx, account, request, ctx.clock));
        spdlog::info("undelivered refund {} settled by account {}: {}", settled.refund.id,
                     account.id, pay::to_string(settled.settlement->method));
        JsonWriter w;
        write_settled_refund(w, settled);
        return Response::json(201, w.take());
      });
}

const QueryParam kReconciledCounty{
    .name = "county",
    .description =
        "the county whose part of the bill: a centre's own (the default); for an "
        "admin any, the whole bill by default"};

// The part of the bill a caller reconciles and reads: a centre its own county's (naming
// another county is acting outside its area); an admin the whole bill ("") or the county
// it names as ?county=.
Result<std::string> county_to_reconcile(const Account& account, const Request& req) {
  const auto named = req.query_param("county");
  if (account.role == Role::admin && !named) return std::string();
  const std::string county = named.value_or(account.region_code);
  if (county.size() != kCountyCodeDigits ||
      CUNHUO_TRY(region_level(county, "county")) != RegionLevel::county)
    return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code",
                      "county");
  if (account.role != Role::admin && !region_within(county, account.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "another county's payments are its own centre's to reconcile", "county");
  return county;
}

Result<pay::BillScope> bill_scope(db::Session& s, const std::string& county) {
  pay::BillScope scope{.county_code = county, .shop_ids = {}};
  if (scope.whole()) return scope;
  for (const auto& shop : CUNHUO_TRY(mk::shops_in(s, county))) scope.shop_ids.insert(shop.value);
  return scope;
}

Result<Response> run_reconciliation(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Json doc = CUNHUO_TRY(json_body(req));  // the reader points into it
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"date"}));
  const std::string date = CUNHUO_TRY(body.string("date", 10));
  const std::string county = CUNHUO_TRY(county_to_reconcile(call.caller(), req));
  const auto scope = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return bill_scope(s, county); }));
  JsonWriter w;
  write_reconciliation(w, CUNHUO_TRY(pay::reconcile(ctx.db, ctx.provider, date, scope, ctx.clock)));
  return Response::json(201, w.take());
}

Result<Response> get_reconciliation(PaymentsContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::string county = CUNHUO_TRY(county_to_reconcile(call.caller(), req));
  const std::string date = req.params.at("date");
  if (!parse_date(date))
    return make_error(ErrorKind::invalid, "invalid_date", "a date is YYYY-MM-DD", "date");
  auto r = CUNHUO_TRY(
      ctx.db.read([&](db::Session& s) { return pay::find_reconciliation(s, date, county); }));
  if (!r) return no_such("reconciliation");
  JsonWriter w;
  write_reconciliation(w, *r);
  return Response::json(200, w.take());
}

}  // namespace

void add_payments_routes(RouteTable& table, PaymentsContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  // A refused money operation leaves a line in the log, with who asked and why not.
  auto bind_logged = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return logged(fn(ctx, call), call.request); };
  };
  table.add({.method = "POST",
             .pattern = "/api/v1/checkouts/:id/payments",
             // A station operator pays for what it ordered for a villager (proxy_selling.hpp).
             .access = only({Role::consumer, Role::org_buyer, Role::station_operator}),
             .response_schema = intent_schema(),
             .success_status = 201,
             .errors = {"checkout_not_payable", "provider_unavailable"},
             .summary = "Pay a checkout: opens a payment intent and says where to pay",
             .handler = bind_logged(pay_checkout),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/payments/:id",
             .access = signed_in(),
             .response_schema = intent_schema(),
             .summary = "A payment intent (its buyer)",
             .handler = bind(get_payment)});
  // The provider is not an account: the notification is authenticated by its signature.
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/payments/notify",
       .access = anyone(),
       .body = Body::json,
       .max_body = kMaxNotificationBody,
       .request_schema = notification_schema(),
       .response_schema = notified_schema(),
       .errors = {"unknown_serial", "bad_signature", "stale", "undecryptable", "bad_notification",
                  "bad_nonce", "replayed", "unknown_intent", "amount_mismatch", "unknown_refund"},
       .summary = "The payment provider's signed notification",
       .handler = [ctx](const Call& call) mutable -> Result<Response> {
         return notify(ctx, call.request);
       }});
  table.add({.method = "POST",
             .pattern = "/api/v1/orders/:id/refund-claims",
             .access = only({Role::consumer, Role::org_buyer}),
             .body = Body::json,
             .request_schema = claim_request_schema(),
             .response_schema = claim_schema(),
             .success_status = 201,
             .errors = {"exceeds_paid", "not_refundable", "invalid_length"},
             .summary = "Claim a full or partial refund of a paid order (its buyer)",
             .handler = bind_logged(claim_refund),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/refund-claims/:id",
             .access = signed_in(),
             .response_schema = claim_schema(),
             .summary = "A refund claim (its buyer, the county centre)",
             .handler = bind(get_claim)});
  table.add({.method = "GET",
             .pattern = "/api/v1/refund-claims/:id/photo",
             .access = signed_in(),
             .response_type = "image/jpeg",
             .summary = "The photo of spoiled goods a refund claim was made with (its buyer, "
                        "the county centre)",
             .handler = bind(get_claim_photo)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/refund-claims/:id/decision",
       .access = only({Role::county_centre, Role::admin}),
       .body = Body::json,
       .request_schema = decision_schema(),
       .response_schema = claim_schema(),
       .errors = {"already_decided"},
       .summary = "Approve (saying who bears the loss) or reject a refund claim (county centre)",
       .handler = bind_logged(decide_claim)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/statements/:period",
             .access = signed_in(),
             .response_schema = statement_schema(),
             .other_types = {"text/csv", "text/html"},
             .query = {{.name = "format", .description = "json (the default), csv or html"}},
             .summary = "A household's signed income statement for a month (2026-11), quarter "
                        "(2026-Q4) or year; format=json|csv|html",
             .handler = bind(get_statement)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/statements/verify",
       .access = anyone(),
       .body = Body::raw,  // the file as downloaded, whatever type the client names
       .response_schema = verdict_schema(),
       .summary = "Is this statement (the downloaded JSON, as the body) genuine and unaltered?",
       .handler = [ctx](const Call& call) mutable -> Result<Response> {
         return verify_statement(ctx, call.request);
       }});
  table.add({.method = "GET",
             .pattern = "/api/v1/statement-keys",
             .access = anyone(),
             .response_schema =
                 schema::object({schema::required("keys", schema::array(published_key_schema()))}),
             .summary = "The keys that sign income statements: the one in use and every one "
                        "used before, to verify a statement without the platform",
             .handler = bind(list_statement_keys)});
  table.add({.method = "GET",
             .pattern = "/api/v1/statement-keys/:serial",
             .access = anyone(),
             .response_schema = published_key_schema(),
             .other_types = {"application/x-pem-file"},
             .query = {{.name = "format", .description = "json (the default) or pem"}},
             .errors = {"not_found", "invalid_format"},
             .summary = "One statement key by serial; format=pem for openssl",
             .handler = bind(get_statement_key)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/balance",
             .access = signed_in(),
             .response_schema = balance_schema(),
             .summary = "A household's ledger balance and latest postings",
             .handler = bind(get_balance)});
  table.add({.method = "PUT",
             .pattern = "/api/v1/households/:id/payout-account",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = payout_account_request_schema(),
             .response_schema = payout_account_schema(),
             .summary = "Set a household's bank account for payouts (poverty office)",
             .handler = bind(put_payout_account)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/payout-account",
             .access = signed_in(),
             .response_schema = payout_account_schema(),
             .summary = "A household's payout account, masked",
             .handler = bind(get_payout_account)});
  table.add({.method = "POST",
             .pattern = "/api/v1/payout-batches",
             .access = only({Role::county_centre}),
             .response_schema = batch_schema(),
             .success_status = 201,
             .summary = "Batch payouts of the county's household balances (county centre)",
             .handler = bind(create_batch),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/payout-batches/:id",
             .access = only({Role::county_centre}),
             .response_schema = batch_schema(),
             .summary = "A payout batch, account numbers masked",
             .handler = bind(get_batch)});
  table.add({.method = "GET",
             .pattern = "/api/v1/payout-batches/:id/bank-file",
             .access = only({Role::county_centre}),
             .response_type = "text/csv",
             .summary = "The batch's payout record for the bank (whole account numbers)",
             .handler = bind(bank_file)});
  table.add({.method = "POST",
             .pattern = "/api/v1/payout-batches/:id/confirmation",
             .access = only({Role::county_centre}),
             .body = Body::json,
             .request_schema = confirmation_schema(),
             .response_schema = batch_schema(),
             .summary = "The bank's answer: paid, except failed_household_ids",
             .handler = bind(confirm_batch)});
  table.add({.method = "POST",
             .pattern = "/api/v1/reconciliations",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = reconciliation_request_schema(),
             .response_schema = reconciliation_schema(),
             .success_status = 201,
             .query = {kReconciledCounty},
             .errors = {"invalid_date", "invalid_region_code", "outside_your_area",
                        "provider_unavailable"},
             .summary = "Reconcile the provider's bill for a date against the books",
             .handler = bind(run_reconciliation)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/undelivered-refunds",
       .access = only({Role::county_centre, Role::admin}),
       .response_schema = undelivered_refunds_schema(),
       .query = {{.name = "limit", .type = "integer", .description = "1 to 100; 20 by default"},
                 {.name = "cursor", .description = "next_cursor of the page before"}},
       .errors = {"invalid_limit", "invalid_cursor"},
       .summary = "Refunds the provider reported ABNORMAL or CLOSED: the buyer has not "
                  "got the money, which the books hold as owed to them",
       .handler = bind(list_undelivered_refunds)});
  table.add({.method = "POST",
             .pattern = "/api/v1/undelivered-refunds/:id/settlement",
             .access = only({Role::county_centre, Role::admin}),
             .body = Body::json,
             .request_schema = settlement_request_schema(),
             .response_schema = settled_refund_schema(),
             .success_status = 201,
             .errors = {"not_found", std::string(pay::kNotUndelivered),
                        std::string(pay::kRefundAlreadySettled),
                        std::string(pay::kSettlementAmountMismatch), "invalid_length"},
             .summary = "Record that staff paid the buyer an undelivered refund another way "
                        "(bank transfer or cash): the books move it out of what is owed, once",
             .handler = bind_logged(settle_refund),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/reconciliations/:date",
             .access = only({Role::county_centre, Role::admin}),
             .response_schema = reconciliation_schema(),
             .query = {kReconciledCounty},
             .errors = {"invalid_date", "invalid_region_code", "outside_your_area"},
             .summary = "The latest reconciliation report for a date",
             .handler = bind(get_reconciliation)});
}

}  // namespace cunhuo::storefront
