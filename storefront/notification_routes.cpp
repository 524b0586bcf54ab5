#include "storefront/notification_routes.hpp"

#include <string>
#include <vector>

#include "core/json.hpp"
#include "storefront/notifications.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

schema::Schema notification_schema() {
  using namespace schema;
  std::vector<std::string> kinds(notification_kinds().begin(), notification_kinds().end());
  return object({required("id", id()), required("kind", choice(kinds)), required("title", text()),
                 required("body", text()), required("link", text()),
                 required("created_at", shanghai_time()),
                 required("read_at", nullable(shanghai_time()))});
}

schema::Schema inbox_schema() {
  using namespace schema;
  return object({required("notifications", array(notification_schema(), kMaxPageSize)),
                 required("unread", integer(0)), required("next_cursor", nullable(text()))});
}

void write_notification(JsonWriter& w, const Notification& n) {
  w.begin_object().field("id", n.id).field("kind", n.kind).field("title", n.title);
  w.field("body", n.body).field("link", n.link);
  w.field("created_at", format_shanghai(n.created_at_ms)).key("read_at");
  if (n.read_at_ms)
    w.value(format_shanghai(*n.read_at_ms));
  else
    w.null();
  w.end_object();
}

// ?unread=true|false; anything else names the parameter.
Result<bool> unread_only(const Request& req) {
  auto text = req.query_param("unread");
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return make_error(ErrorKind::invalid, "invalid_type", "true or false", "unread");
}

Result<Response> list_notifications(NotificationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const bool unread = CUNHUO_TRY(unread_only(req));
  // A cursor belongs to one account's list with one filter.
  const std::string list =
      "notifications:" + std::to_string(account.id) + (unread ? ":unread" : ":all");
  const auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    // One more than asked says whether a next page exists.
    auto found = CUNHUO_TRY(notifications_of(
        s,
        NotificationQuery{.account_id = account.id,
                          .unread_only = unread,
                          .after_id = page.after ? std::optional((*page.after)[0]) : std::nullopt,
                          .limit = page.limit + 1}));
    const bool more = static_cast<std::int64_t>(found.size()) > page.limit;
    if (more) found.pop_back();
    JsonWriter w;
    w.begin_object().key("notifications").begin_array();
    for (const auto& n : found) write_notification(w, n);
    w.end_array().field("unread", CUNHUO_TRY(unread_count(s, account.id))).key("next_cursor");
    if (more)
      w.value(ctx.cursors.seal(list, {found.back().id}));
    else
      w.null();
    w.end_object();
    return Response::json(200, w.take());
  });
}

Result<Response> read_one(NotificationContext& ctx, const Call& call) {
  const std::int64_t id = CUNHUO_TRY(path_id(call.request));
  const std::int64_t account = call.caller().id;
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto n = CUNHUO_TRY(mark_read(tx, account, id, ctx.clock));
    if (!n) return no_such("notification");  // another's answers as an unknown one does
    JsonWriter w;
    write_notification(w, *n);
    return Response::json(200, w.take());
  });
}

Result<Response> read_all(NotificationContext& ctx, const Call& call) {
  const std::int64_t account = call.caller().id;
  auto marked = CUNHUO_TRY(
      ctx.db.write([&](db::Session& tx) { return mark_all_read(tx, account, ctx.clock); }));
  JsonWriter w;
  w.begin_object().field("marked_read", marked).end_object();
  return Response::json(200, w.take());
}

}  // namespace

void add_notification_routes(RouteTable& table, NotificationContext context) {
  auto ctx = std::make_shared<NotificationContext>(context);
  auto bind = [ctx](auto fn) { return [ctx, fn](const Call& call) { return fn(*ctx, call); }; };
  table.add({.method = "GET",
             .pattern = "/api/v1/notifications",
             .access = signed_in(),
             .response_schema = inbox_schema(),
             .query = {{.name = "unread", .type = "boolean", .description = "only unread ones"},
                       {.name = "limit",
                        .type = "integer",
                        .description = "notifications a page (1 to 100, default 20)"},
                       {.name = "cursor", .description = "next_cursor of the page before"}},
             .errors = {"invalid_type", std::string(kInvalidCursor)},
             .summary = "The caller's notifications, newest first",
             .handler = bind(list_notifications)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/notifications/read-all",
       .access = signed_in(),
       .response_schema = schema::object({schema::required("marked_read", schema::integer(0))}),
       .summary = "Mark every notification of the caller read",
       .handler = bind(read_all)});
  table.add({.method = "POST",
             .pattern = "/api/v1/notifications/:id/read",
             .access = signed_in(),
             .response_schema = notification_schema(),
             .errors = {"not_found"},
             .summary = "Mark one of the caller's notifications read",
             .handler = bind(read_one)});
}

}  // namespace cunhuo::storefront
