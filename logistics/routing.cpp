#include "logistics/routing.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <queue>

#include "core/enum_names.hpp"

namespace cunhuo::logistics {
namespace {

constexpr std::array<std::pair<LinkMode, std::string_view>, 5> kModeNames = {{
    {LinkMode::tricycle, "tricycle"},
    {LinkMode::van, "van"},
    {LinkMode::refrigerated_van, "refrigerated_van"},
    {LinkMode::refrigerated_trunk, "refrigerated_trunk"},
    {LinkMode::ambient_trunk, "ambient_trunk"},
}};

constexpr std::array<std::pair<NoRouteReason, std::string_view>, 6> kReasonNames = {{
    {NoRouteReason::unreachable, "unreachable"},
    {NoRouteReason::unrefrigerated_budget, "unrefrigerated_budget"},
    {NoRouteReason::shelf_life, "shelf_life"},
    {NoRouteReason::cold_store_capacity, "cold_store_capacity"},
    {NoRouteReason::arrive_by, "arrive_by"},
    {NoRouteReason::search_limit, "search_limit"},
}};

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::int64_t kEpochWeekdayOffsetMin = 3 * 24 * 60;  // 1970-01-01 was a Thursday
constexpr std::int64_t kBeijingOffsetMs = 8 * 3600 * 1000;
constexpr std::int32_t kFar = std::numeric_limits<std::int32_t>::max();
constexpr std::size_t kBoundsCacheSize = 256;

Error bad_timetable(std::string message) {
  return make_error(ErrorKind::invalid, "invalid_timetable", std::move(message), "timetable");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<int> day_index(std::string_view d) {
  for (std::size_t i = 0; i < kDays.size(); ++i)
    if (kDays[i] == d) return static_cast<int>(i);
  return std::nullopt;
}

// "Mon-Fri", "Sat", "Mon,Wed,Fri" → the days.
Result<std::vector<int>> parse_days(std::string_view text) {
  std::vector<int> days;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = part.find('-');
    auto first = day_index(trim(part.substr(0, dash)));
    auto last = dash == std::string_view::npos ? first : day_index(trim(part.substr(dash + 1)));
    if (!first || !last || *last < *first)
      return bad_timetable("unknown days '" + std::string(part) + "': use Mon..Sun");
    for (int d = *first; d <= *last; ++d) days.push_back(d);
  }
  if (days.empty()) return bad_timetable("name the days");
  return days;
}

Result<int> parse_time(std::string_view t) {
  t = trim(t);
  if (t.size() != 5 || t[2] != ':' || !std::isdigit(static_cast<unsigned char>(t[0])) ||
      !std::isdigit(static_cast<unsigned char>(t[1])) ||
      !std::isdigit(static_cast<unsigned char>(t[3])) ||
      !std::isdigit(static_cast<unsigned char>(t[4])))
    return bad_timetable("a time is HH:MM, not '" + std::string(t) + "'");
  const int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h > 23 || m > 59) return bad_timetable("no such time " + std::string(t));
  return h * 60 + m;
}

struct Label {
  std::int64_t t = 0, cost = 0;
  int u = 0, point = 0, parent = -1, link = -1;
  std::int64_t depart = 0;
  bool dead = false;
};

// How many labels a search takes between looks at the clock (a look costs ~20 ns).
constexpr std::size_t kLabelsPerClockCheck = 1024;

struct Search {
  Search(const RoutingGraph& graph, const ParcelQuery& query,
         const std::vector<std::int32_t>& bounds)
      : g(graph), q(query), lb(bounds) {}
  const RoutingGraph& g;
  const ParcelQuery& q;
  const std::vector<std::int32_t>& lb;
  bool by_cost = false;
  std::int64_t arrive_by = INT64_MAX;
  std::vector<Label> labels;
  std::vector<std::vector<int>> at;  // labels per point
  bool hit_budget = false, hit_capacity = false, hit_deadline = false, hit_arrive_by = false;

  bool unlimited() const { return q.unrefrigerated_budget_min == kUnlimited; }
  bool cold_wait(int point) const {
    const RoutePoint& p = g.point(point);
    return p.cold_store && p.free_crates >= q.crates && (q.needs == 0 || (p.keeps & q.needs) != 0);
  }

  // Can `m` do everything `l` can? Waiting out of the cold spends budget, so an earlier
  // label must still have budget left after waiting until the later one arrives.
  bool dominates(const Label& m, const Label& l) const {
    if (m.t > l.t) return false;
    if (by_cost && m.cost > l.cost) return false;
    if (unlimited()) return true;
    const std::int64_t waited = cold_wait(l.point) ? 0 : l.t - m.t;
    return m.u + waited <= l.u;
  }

  // Adds a label unless one already there dominates it; kills those it dominates.
  std::optional<int> add(Label l) {
    auto& here = at[static_cast<std::size_t>(l.point)];
    for (int i : here)
      if (!labels[static_cast<std::size_t>(i)].dead &&
          dominates(labels[static_cast<std::size_t>(i)], l))
        return std::nullopt;
    for (int i : here)
      if (!labels[static_cast<std::size_t>(i)].dead &&
          dominates(l, labels[static_cast<std::size_t>(i)]))
        labels[static_cast<std::size_t>(i)].dead = true;
    labels.push_back(l);
    const int id = static_cast<int>(labels.size()) - 1;
    here.push_back(id);
    return id;
  }

  std::int64_t key(const Label& l) const {
    return by_cost ? l.cost : l.t + lb[static_cast<std::size_t>(l.point)];
  }

  RouteAnswer run() {
    at.assign(static_cast<std::size_t>(g.points()), {});
    using Item = std::pair<std::int64_t, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> open;
    if (lb[static_cast<std::size_t>(q.origin)] == kFar)
      return RouteAnswer{std::nullopt, NoRouteReason::unreachable, 0};
    auto first = add(Label{q.ready_minute, 0, 0, q.origin, -1, -1, 0, false});
    open.emplace(key(labels[static_cast<std::size_t>(*first)]), *first);
    const auto deadline = std::chrono::steady_clock::now() + q.time_budget;
    for (std::size_t popped = 0; !open.empty(); ++popped) {
      if (popped % kLabelsPerClockCheck == 0 && std::chrono::steady_clock::now() > deadline)
        return RouteAnswer{std::nullopt, NoRouteReason::search_limit, labels.size()};
      const int id = open.top().second;
      open.pop();
      const Label l = labels[static_cast<std::size_t>(id)];
      if (l.dead) continue;
      if (l.point == q.destination)
        return RouteAnswer{plan(id), NoRouteReason::unreachable, labels.size()};
      if (labels.size() > kMaxLabels)
        return RouteAnswer{std::nullopt, NoRouteReason::search_limit, labels.size()};
      auto [begin, end] = g.out_links(l.point);
      for (const int* e = begin; e != end; ++e) {
        const RouteLink& link = g.link(*e);
        if (lb[static_cast<std::size_t>(link.to)] == kFar) continue;
        const std::int64_t depart = link.timetable.next_departure(l.t);
        const std::int64_t arrive = depart + link.duration_min;
        std::int64_t u = l.u;
        if (!unlimited()) {
          if (!cold_wait(l.point)) u += depart - l.t;
          if (!link.refrigerated) u += link.duration_min;
          if (u > q.unrefrigerated_budget_min) {
            hit_budget = true;
            const RoutePoint& here = g.point(l.point);
            const bool rated = q.needs == 0 || (here.keeps & q.needs) != 0;
            hit_capacity =
                hit_capacity || (here.cold_store && rated && here.free_crates < q.crates);
            continue;
          }
        }
        const std::int64_t earliest_there = arrive + lb[static_cast<std::size_t>(link.to)];
        if (earliest_there > q.shelf_deadline_minute) {
          hit_deadline = true;
          continue;
        }
        if (earliest_there > arrive_by) {
          hit_arrive_by = true;
          continue;
        }
        Label next{arrive, l.cost + link.cost_fen, static_cast<int>(u), link.to, id, *e, depart,
                   false};
        if (auto added = add(next))
          open.emplace(key(labels[static_cast<std::size_t>(*added)]), *added);
      }
    }
    return RouteAnswer{std::nullopt, why_not(), labels.size()};
  }

  NoRouteReason why_not() const {
    if (hit_arrive_by) return NoRouteReason::arrive_by;
    if (hit_capacity) return NoRouteReason::cold_store_capacity;
    if (hit_budget) return NoRouteReason::unrefrigerated_budget;
    if (hit_deadline) return NoRouteReason::shelf_life;
    return NoRouteReason::unreachable;
  }

  RoutePlan plan(int id) const {
    RoutePlan p;
    const Label& last = labels[static_cast<std::size_t>(id)];
    p.arrival_minute = last.t;
    p.cost_fen = last.cost;
    p.unrefrigerated_min = last.u;
    for (int i = id; labels[static_cast<std::size_t>(i)].parent >= 0;
         i = labels[static_cast<std::size_t>(i)].parent) {
      const Label& l = labels[static_cast<std::size_t>(i)];
      p.hops.push_back(Hop{l.link, l.depart, l.t});
    }
    std::reverse(p.hops.begin(), p.hops.end());
    return p;
  }
};

// A failed search says which limit stopped it: with the limits lifted one at a time,
// does a route appear?
RouteAnswer explain(const RoutingGraph& g, const ParcelQuery& q, RouteAnswer failed) {
  if (failed.reason == NoRouteReason::search_limit) return failed;
  ParcelQuery free = q;
  free.unrefrigerated_budget_min = kUnlimited;
  free.shelf_deadline_minute = INT64_MAX;
  auto bounds = g.ride_bounds(q.destination);
  Search relaxed(g, free, *bounds);
  const RouteAnswer lifted = relaxed.run();
  if (lifted.reason == NoRouteReason::search_limit)
    failed.reason = NoRouteReason::search_limit;
  else if (!lifted.plan)
    failed.reason = NoRouteReason::unreachable;
  return failed;
}

}  // namespace

std::string_view to_string(LinkMode mode) { return name_of(kModeNames, mode); }

Result<LinkMode> parse_link_mode(std::string_view text) {
  if (auto v = value_of(kModeNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_mode",
                    "mode is tricycle, van, refrigerated_van, refrigerated_trunk or ambient_trunk",
                    "mode");
}

std::string_view to_string(NoRouteReason reason) { return name_of(kReasonNames, reason); }

std::int64_t minute_of(std::int64_t epoch_ms) {
  const std::int64_t ms = epoch_ms + kBeijingOffsetMs;
  return ms >= 0 ? ms / 60000 : (ms - 59999) / 60000;
}

std::int64_t epoch_ms_of(std::int64_t minute) { return minute * 60000 - kBeijingOffsetMs; }

std::int64_t ready_minute_of(std::int64_t epoch_ms) {
  const std::int64_t minute = minute_of(epoch_ms);
  return epoch_ms_of(minute) == epoch_ms ? minute : minute + 1;
}

std::int64_t Timetable::next_departure(std::int64_t minute) const {
  if (departures.empty()) return minute;
  const std::int64_t mow =
      ((minute + kEpochWeekdayOffsetMin) % kMinutesPerWeek + kMinutesPerWeek) % kMinutesPerWeek;
  auto it = std::lower_bound(departures.begin(), departures.end(), static_cast<int>(mow));
  if (it != departures.end()) return minute + (*it - mow);
  return minute + (kMinutesPerWeek - mow) + departures.front();
}

Result<Timetable> parse_timetable(std::string_view text) {
  text = trim(text);
  if (text == "on_demand") return Timetable{};
  if (text.empty())
    return bad_timetable(
        "a timetable is 'on_demand' or days and times, like 'Mon-Fri 08:00,14:00'");
  if (text.size() > 2000) return bad_timetable("a timetable is at most 2000 bytes");
  Timetable t;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view part = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    const auto space = part.find(' ');
    if (space == std::string_view::npos)
      return bad_timetable("write days then times, like 'Mon-Fri 08:00,14:00'");
    auto days = CUNHUO_TRY(parse_days(part.substr(0, space)));
    std::string_view times = part.substr(space + 1);
    while (!times.empty()) {
      const auto comma = times.find(',');
      const int minute = CUNHUO_TRY(parse_time(times.substr(0, comma)));
      times = comma == std::string_view::npos ? std::string_view() : times.substr(comma + 1);
      for (int d : days) t.departures.push_back(d * 1440 + minute);
    }
  }
  std::sort(t.departures.begin(), t.departures.end());
  t.departures.erase(std::unique(t.departures.begin(), t.departures.end()), t.departures.end());
  if (t.departures.size() > 7 * 96) return bad_timetable("at most 96 departures a day");
  return t;
}

int RoutingGraph::add_point(RoutePoint p) {
  assert(out_start_.empty() && "no adds after finalize");
  points_.push_back(p);
  return static_cast<int>(points_.size()) - 1;
}

int RoutingGraph::add_link(RouteLink l) {
  assert(out_start_.empty() && "no adds after finalize");
  assert(l.from >= 0 && l.from < points() && l.to >= 0 && l.to < points() && l.duration_min > 0);
  links_.push_back(std::move(l));
  return static_cast<int>(links_.size()) - 1;
}

void RoutingGraph::finalize() {
  const std::size_t n = points_.size();
  out_start_.assign(n + 1, 0);
  in_start_.assign(n + 1, 0);
  for (const auto& l : links_) {
    ++out_start_[static_cast<std::size_t>(l.from) + 1];
    ++in_start_[static_cast<std::size_t>(l.to) + 1];
  }
  for (std::size_t i = 0; i < n; ++i) {
    out_start_[i + 1] += out_start_[i];
    in_start_[i + 1] += in_start_[i];
  }
  out_.assign(links_.size(), 0);
  in_.assign(links_.size(), 0);
  std::vector<int> o(out_start_.begin(), out_start_.end() - 1),
      in(in_start_.begin(), in_start_.end() - 1);
  for (std::size_t e = 0; e < links_.size(); ++e) {
    out_[static_cast<std::size_t>(o[static_cast<std::size_t>(links_[e].from)]++)] =
        static_cast<int>(e);
    in_[static_cast<std::size_t>(in[static_cast<std::size_t>(links_[e].to)]++)] =
        static_cast<int>(e);
  }
}

std::pair<const int*, const int*> RoutingGraph::out_links(int p) const {
  const auto i = static_cast<std::size_t>(p);
  return {out_.data() + out_start_[i], out_.data() + out_start_[i + 1]};
}

std::pair<const int*, const int*> RoutingGraph::in_links(int p) const {
  const auto i = static_cast<std::size_t>(p);
  return {in_.data() + in_start_[i], in_.data() + in_start_[i + 1]};
}

std::shared_ptr<const std::vector<std::int32_t>> RoutingGraph::ride_bounds(int destination) const {
  {
    std::lock_guard lock(bounds_mu_);
    if (auto it = bounds_.find(destination); it != bounds_.end()) return it->second;
  }
  auto bounds = std::make_shared<std::vector<std::int32_t>>(points_.size(), kFar);
  using Item = std::pair<std::int32_t, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> open;
  (*bounds)[static_cast<std::size_t>(destination)] = 0;
  open.emplace(0, destination);
  while (!open.empty()) {
    auto [d, p] = open.top();
    open.pop();
    if (d > (*bounds)[static_cast<std::size_t>(p)]) continue;
    auto [begin, end] = in_links(p);
    for (const int* e = begin; e != end; ++e) {
      const auto& l = links_[static_cast<std::size_t>(*e)];
      const std::int32_t nd = d + l.duration_min;
      if (nd < (*bounds)[static_cast<std::size_t>(l.from)]) {
        (*bounds)[static_cast<std::size_t>(l.from)] = nd;
        open.emplace(nd, l.from);
      }
    }
  }
  std::lock_guard lock(bounds_mu_);
  if (bounds_.size() >= kBoundsCacheSize) {  // bounded: forget the oldest destination
    bounds_.erase(bounds_order_.front());
    bounds_order_.erase(bounds_order_.begin());
  }
  bounds_.emplace(destination, bounds);
  bounds_order_.push_back(destination);
  return bounds;
}

RouteAnswer earliest_arrival(const RoutingGraph& g, const ParcelQuery& q) {
  auto bounds = g.ride_bounds(q.destination);
  Search s(g, q, *bounds);
  auto answer = s.run();
  return answer.plan ? answer : explain(g, q, answer);
}

RouteAnswer cheapest_by(const RoutingGraph& g, const ParcelQuery& q,
                        std::int64_t arrive_by_minute) {
  auto bounds = g.ride_bounds(q.destination);
  Search s(g, q, *bounds);
  s.by_cost = true;
  s.arrive_by = arrive_by_minute;
  auto answer = s.run();
  return answer.plan ? answer : explain(g, q, answer);
}

std::optional<std::int64_t> timetable_dijkstra(const RoutingGraph& g, int origin, int destination,
                                               std::int64_t ready_minute) {
  std::vector<std::int64_t> best(static_cast<std::size_t>(g.points()), INT64_MAX);
  using Item = std::pair<std::int64_t, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> open;
  best[static_cast<std::size_t>(origin)] = ready_minute;
  open.emplace(ready_minute, origin);
  while (!open.empty()) {
    auto [t, p] = open.top();
    open.pop();
    if (t > best[static_cast<std::size_t>(p)]) continue;
    if (p == destination) return t;
    auto [begin, end] = g.out_links(p);
    for (const int* e = begin; e != end; ++e) {
      const auto& l = g.link(*e);
      const std::int64_t arrive = l.timetable.next_departure(t) + l.duration_min;
      if (arrive < best[static_cast<std::size_t>(l.to)]) {
        best[static_cast<std::size_t>(l.to)] = arrive;
        open.emplace(arrive, l.to);
      }
    }
  }
  return std::nullopt;
}

}  // namespace cunhuo::logistics
