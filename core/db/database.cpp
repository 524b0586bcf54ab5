#include "core/db/database.hpp"

#include <algorithm>
#include <charconv>

#include "core/assert.hpp"
#include "core/db/stores.hpp"

namespace cunhuo::db {

std::int64_t Value::as_int() const {
  switch (v_.index()) {
    case 1: return std::get<std::int64_t>(v_);
    case 2: return static_cast<std::int64_t>(std::get<double>(v_));
    case 3: {
      const auto& s = std::get<std::string>(v_);
      std::int64_t out = 0;
      std::from_chars(s.data(), s.data() + s.size(), out);
      return out;
    }
    default: return 0;
  }
}

double Value::as_double() const {
  switch (v_.index()) {
    case 1: return static_cast<double>(std::get<std::int64_t>(v_));
    case 2: return std::get<double>(v_);
    case 3: return std::strtod(std::get<std::string>(v_).c_str(), nullptr);
    default: return 0;
  }
}

std::string Value::as_text() const {
  switch (v_.index()) {
    case 1: return std::to_string(std::get<std::int64_t>(v_));
    case 2: return std::to_string(std::get<double>(v_));
    case 3: return std::get<std::string>(v_);
    default: return {};
  }
}

std::optional<std::int64_t> Row::opt_i64(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<std::int64_t>(i64(i));
}

std::optional<std::string> Row::opt_str(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<std::string>(str(i));
}

Result<std::optional<Row>> Session::query_one(std::string_view sql,
                                              std::initializer_list<Value> params) {
  auto rows = CUNHUO_TRY(query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

Result<std::int64_t> prune_older(Session& tx, std::string_view table, std::string_view age_column,
                                 std::int64_t before, int limit) {
  CUNHUO_ASSERT(limit > 0);
  const std::string t(table), col(age_column);
  // The `limit`-th oldest row below the cut-off, if there are that many, bounds this pass.
  auto nth = CUNHUO_TRY(tx.query_one("SELECT " + col + " FROM " + t + " WHERE " + col +
                                         " < ? ORDER BY " + col + " LIMIT 1 OFFSET ?",
                                     {before, limit - 1}));
  const std::int64_t bound = nth ? nth->i64(0) + 1 : before;
  auto gone =
      CUNHUO_TRY(tx.exec("DELETE FROM " + t + " WHERE " + col + " < ?", {std::min(bound, before)}));
  return gone.affected_rows;
}

std::string placeholders(std::size_t n) {
  CUNHUO_ASSERT(n > 0);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

std::string row_list(std::string_view row, std::size_t n) {
  CUNHUO_ASSERT(n > 0);
  std::string out;
  out.reserve((row.size() + 2) * n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += row;
  }
  return out;
}

Result<std::unique_ptr<Database>> open_database(std::string_view url, DatabaseOptions options) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string_view path = url.substr(7);
    if (path.rfind("//", 0) == 0) path.remove_prefix(2);
    if (path.empty())
      return make_error(ErrorKind::invalid, "invalid_db_url", "sqlite: needs a file path", "db");
    return detail::open_sqlite(std::string(path), options);
  }
  if (url.rfind("mysql://", 0) == 0 || url.rfind("mariadb://", 0) == 0) {
    auto address = CUNHUO_TRY(detail::parse_mysql_url(url));
    return detail::open_mysql(address, options);
  }
  return make_error(ErrorKind::invalid, "invalid_db_url", "db must start with sqlite: or mysql://",
                    "db");
}

namespace detail {

std::vector<std::string> split_script(std::string_view sql) {
  std::vector<std::string> out;
  std::string current;
  std::size_t start = 0;
  while (start < sql.size()) {
    std::size_t end = sql.find('\n', start);
    if (end == std::string_view::npos) end = sql.size();
    std::string_view line = sql.substr(start, end - start);
    start = end + 1;
    auto last = line.find_last_not_of(" \t\r");
    if (line.substr(0, 2) == "--") continue;
    current += line;
    current += '\n';
    if (last != std::string_view::npos && line[last] == ';') {
      current.erase(current.find_last_of(';'));
      out.push_back(std::move(current));
      current.clear();
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(std::move(current));
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
      return make_error(ErrorKind::invalid, "invalid_db_url", "bad %-escape in db url", "db");
    out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

// "HOST[:PORT]", one of the comma-separated hosts of a mysql:// url.
static Result<MysqlHost> parse_host(std::string_view hostport) {
  auto bad = [](const char* why) {
    return make_error(ErrorKind::invalid, "invalid_db_url", why, "db");
  };
  MysqlHost h;
  auto colon = hostport.rfind(':');
  h.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    auto p = hostport.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), h.port);
    if (ec != std::errc{} || end != p.data() + p.size() || h.port <= 0 || h.port > 65535)
      return bad("bad port in db url");
  }
  if (h.host.empty()) return bad("mysql url needs a host");
  return h;
}

Result<MysqlAddress> parse_mysql_url(std::string_view url) {
  auto bad = [](const char* why) {
    return make_error(ErrorKind::invalid, "invalid_db_url", why, "db");
  };
  url.remove_prefix(url.find("://") + 3);
  MysqlAddress a;
  auto at = url.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view cred = url.substr(0, at);
    auto colon = cred.find(':');
    a.user = CUNHUO_TRY(percent_decode(cred.substr(0, colon)));
    if (colon != std::string_view::npos)
      a.password = CUNHUO_TRY(percent_decode(cred.substr(colon + 1)));
    url.remove_prefix(at + 1);
  }
  auto slash = url.find('/');
  if (slash == std::string_view::npos) return bad("mysql url needs /DATABASE");
  std::string_view hostport = url.substr(0, slash);
  std::string_view rest = url.substr(slash + 1);
  auto q = rest.find('?');
  a.schema = std::string(rest.substr(0, q));
  if (a.schema.empty()) return bad("mysql url needs /DATABASE");
  for (char c : a.schema)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return bad("database name may use letters, digits and _");
  for (;;) {  // HOST:PORT[,HOST:PORT...]
    if (a.hosts.size() >= kMaxMysqlHosts) return bad("at most 16 hosts in a db url");
    const auto comma = hostport.find(',');
    a.hosts.push_back(CUNHUO_TRY(parse_host(hostport.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    hostport.remove_prefix(comma + 1);
  }
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    if (query.rfind("pool=", 0) != 0) return bad("the only db url option is pool=N");
    auto p = query.substr(5);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), a.pool);
    if (ec != std::errc{} || end != p.data() + p.size() || a.pool < 1 || a.pool > 256)
      return bad("pool must be 1 to 256");
  }
  return a;
}

}  // namespace detail
}  // namespace cunhuo::db
