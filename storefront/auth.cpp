#include "storefront/auth.hpp"

#include "storefront/route_table.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>

#include "core/enum_names.hpp"

#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "messaging/phone_codes.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::int64_t kSessionLifetimeMs = 30LL * 24 * 3600 * 1000;
constexpr std::size_t kMinPassword = 8, kMaxPassword = 128;
constexpr std::size_t kMaxPhoneBytes = 20;
constexpr std::size_t kMaxCodeBytes = 12;
constexpr std::int64_t kMaxListedSessions = 100;  // GET /api/v1/sessions, newest first

constexpr db::Migration kMigrations[] = {
    {"storefront", 1, "accounts and sessions",
     "CREATE TABLE IF NOT EXISTS accounts (\n"
     "  id {{ID}},\n"
     "  phone VARCHAR(20) NOT NULL UNIQUE,\n"
     "  display_name VARCHAR(100) NOT NULL,\n"
     "  role VARCHAR(24) NOT NULL,\n"
     "  region_code VARCHAR(12) NOT NULL,\n"
     "  household_id BIGINT,\n"
     "  shop_id BIGINT,\n"
     "  node_id BIGINT,\n"
     "  password_hash VARCHAR(255) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS sessions (\n"
     "  token_hash VARCHAR(64) NOT NULL PRIMARY KEY,\n"
     "  account_id BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id);\n"},
    {"storefront", 3, "sessions pruned once expired",
     "CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);\n"},
    // A session's owner lists and ends sessions by this id; the token hash stays private.
    // Sessions from before have none until their owner first lists them.
    {"storefront", 5, "public ids of sessions",
     "ALTER TABLE sessions ADD COLUMN public_id VARCHAR(32);\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS sessions_public ON sessions (public_id);\n"},
};

constexpr std::array<std::pair<Role, std::string_view>, 9> kRoleNames = {{
    {Role::farmer, "farmer"},
    {Role::shop_manager, "shop_manager"},
    {Role::consumer, "consumer"},
    {Role::org_buyer, "org_buyer"},
    {Role::station_operator, "station_operator"},
    {Role::county_centre, "county_centre"},
    {Role::poverty_office, "poverty_office"},
    {Role::helper, "helper"},
    {Role::admin, "admin"},
}};

constexpr const char* kAccountColumns =
    "a.id, a.phone, a.display_name, a.role, a.region_code, a.household_id, a.shop_id, a.node_id";

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2, '0');
  sodium_bin2hex(out.data(), out.size() + 1, data, n);
  return out;
}

std::string new_public_id() {
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  return to_hex(raw, sizeof raw);
}

std::string token_hash(std::string_view token) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return to_hex(digest, sizeof digest);
}

Result<Account> account_from(const db::Row& r) {
  auto role = CUNHUO_TRY(parse_role(r.str(3)));
  return Account{r.i64(0), r.str(1),     r.str(2),     role,
                 r.str(4), r.opt_i64(5), r.opt_i64(6), r.opt_i64(7)};
}

Error bad_credentials() {
  return make_error(ErrorKind::unauthorized, "invalid_credentials",
                    "phone number or password is wrong");
}

Result<std::string> hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return make_error(ErrorKind::unavailable, "out_of_memory", "cannot hash the password now");
  return std::string(out);
}

// A hash of a password nobody has, verified when the phone is unknown so that a wrong
// phone and a wrong password take the same time.
const std::string& decoy_hash() {
  static const std::string hash = [] {
    auto h = hash_password("decoy-password-for-timing");
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

// A phone with either its password or a log_in code sent to it.
struct Credentials {
  std::string phone, password, code;
};

// Credentials as read_credentials reads it.
schema::Schema credentials_schema() {
  using namespace schema;
  return object({required("phone", text(kMaxPhoneBytes)),
                 optional("password", text(kMaxPassword).described("or code, not both")),
                 optional("code", text(kMaxCodeBytes).described("a log_in code; or password"))});
}

// Every attempt from an address counts, a malformed one too: this runs before the body check.
std::optional<Response> admit_login(Auth& auth, const Request& req) {
  if (auto wait = auth.login_attempts().take(req.client_address))
    return too_many_requests(*wait, "too many login attempts from this address");
  return std::nullopt;
}

Result<Credentials> read_credentials(const Request& req) {
  auto doc = CUNHUO_TRY(Json::parse(req.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"phone", "password", "code"}));
  auto phone = CUNHUO_TRY(body.string("phone", kMaxPhoneBytes));
  auto password = CUNHUO_TRY(body.optional_string("password", kMaxPassword));
  auto code = CUNHUO_TRY(body.optional_string("code", kMaxCodeBytes));
  if (password.has_value() == code.has_value())
    return make_error(ErrorKind::invalid, "missing_field", "give a password or a code, not both",
                      password ? "code" : "password");
  return Credentials{std::move(phone), password.value_or(""), code.value_or("")};
}

// A session as granted writes it.
schema::Schema grant_schema() {
  using namespace schema;
  return object({required("token", text()), required("expires_at", utc_time()),
                 required("account", account_schema())});
}

Response granted(const SessionGrant& grant) {
  JsonWriter w;
  w.begin_object()
      .field("token", grant.token)
      .field("expires_at", format_utc(grant.expires_at_ms))
      .key("account");
  write_account(w, grant.account);
  w.end_object();
  return Response::json(201, w.take());
}

// Runs on the pool: the hash check, then the count of wrong passwords for the phone.
Response verify_on_pool(Auth& auth, const Credentials& c) {
  if (!c.code.empty()) {
    auto grant = auth.login_by_code(c.phone, c.code);
    return grant.ok() ? granted(*grant) : error_response(grant.error());
  }
  auto grant = auth.login(c.phone, c.password);
  if (grant.ok()) {
    auth.wrong_passwords().reset(c.phone);
    return granted(*grant);
  }
  if (grant.error().code == "invalid_credentials") auth.wrong_passwords().record(c.phone);
  return error_response(grant.error());
}

// The limits are checked on the network thread (cheap); the hash on the pool.
void login_route(Auth& auth, WorkPool& pool, const Request& req, const Respond& respond) {
  auto credentials = read_credentials(req);
  if (!credentials.ok()) return respond(error_response(credentials.error()));
  // The lock after wrong passwords stops password guessing only: a code login (limited by its
  // own tries) still works, so a stranger's wrong passwords cannot lock the owner out.
  if (!credentials->password.empty())
    if (auto wait = auth.wrong_passwords().blocked(credentials->phone))
      return respond(
          too_many_requests(*wait, "too many wrong passwords for this phone; try later"));
  const bool queued = pool.try_submit(
      [&auth, c = std::move(*credentials), respond] { respond(verify_on_pool(auth, c)); });
  if (!queued) respond(pool_full_response("too many logins at once; try again shortly"));
}

}  // namespace

std::string_view to_string(Role role) { return name_of(kRoleNames, role); }

Result<Role> parse_role(std::string_view text) {
  if (auto v = value_of(kRoleNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_role", "unknown role", "role");
}

std::span<const db::Migration> Auth::migrations() { return kMigrations; }

Result<std::int64_t> Auth::prune_sessions(db::Session& tx, std::int64_t now_ms) {
  return db::prune_older(tx, "sessions", "expires_at", now_ms, kPruneBatch);
}

Result<std::int64_t> Auth::create_account(db::Session& tx, const NewAccount& a) const {
  if (!sodium_ready())
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  if (!is_mobile_number(a.phone))
    return make_error(ErrorKind::invalid, "invalid_phone",
                      "phone must be an 11-digit mobile number", "phone");
  // An account made for someone else (a station operator, a township office) has no
  // password until its owner sets one; it logs in by a code sent to its phone.
  if (!a.password.empty() && (a.password.size() < kMinPassword || a.password.size() > kMaxPassword))
    return make_error(ErrorKind::invalid, "invalid_password", "password must be 8 to 128 bytes",
                      "password");
  if (a.display_name.empty() || a.display_name.size() > 100)
    return make_error(ErrorKind::invalid, "invalid_name", "display name must be 1 to 100 bytes",
                      "display_name");
  CUNHUO_TRY(region_level(a.region_code));
  // A farmer without a household is one invited and not yet confirmed by an office
  // (staff_accounts.hpp); the route table answers it `household_not_confirmed`.
  const std::string hash =
      a.password.empty() ? std::string() : CUNHUO_TRY(hash_password(a.password));
  auto inserted = tx.exec(
      "INSERT INTO accounts (phone, display_name, role, region_code, household_id, shop_id, "
      "node_id, password_hash, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {a.phone, a.display_name, to_string(a.role), a.region_code, a.household_id, a.shop_id,
       a.node_id, hash, clock_.now_ms()});
  if (!inserted.ok()) {
    if (inserted.error().code == db::kDuplicate)
      return make_error(ErrorKind::conflict, "duplicate_phone", "an account with this phone exists",
                        "phone");
    return inserted.error();
  }
  return tx.last_insert_id();
}

Status Auth::tie_household(db::Session& tx, std::int64_t account, std::int64_t household,
                           std::string_view village_code) {
  auto updated = CUNHUO_TRY(
      tx.exec("UPDATE accounts SET household_id = ?, region_code = ? WHERE id = ? AND role = ?",
              {household, village_code, account, to_string(Role::farmer)}));
  if (updated.affected_rows == 0)
    return make_error(ErrorKind::conflict, "not_a_farmer", "no farmer account to tie");
  return {};
}

Result<std::vector<std::int64_t>> Auth::move_farmers(db::Session& tx, std::int64_t from,
                                                     std::int64_t to,
                                                     std::string_view village_code) {
  std::vector<std::int64_t> moved;
  for (const auto& r : CUNHUO_TRY(
           tx.query("SELECT id FROM accounts WHERE household_id = ? AND role = ? ORDER BY id",
                    {from, to_string(Role::farmer)})))
    moved.push_back(r.i64(0));
  for (auto id : moved) CUNHUO_CHECK(tie_household(tx, id, to, village_code));
  return moved;
}

Result<std::optional<Account>> Auth::find_account(db::Session& s, std::int64_t id) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kAccountColumns + " FROM accounts a WHERE a.id = ?", {id}));
  if (!row) return std::optional<Account>();
  return std::optional<Account>(CUNHUO_TRY(account_from(*row)));
}

Result<std::optional<Account>> Auth::find_account_by_phone(db::Session& s, std::string_view phone) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kAccountColumns + " FROM accounts a WHERE a.phone = ?", {phone}));
  if (!row) return std::optional<Account>();
  return std::optional<Account>(CUNHUO_TRY(account_from(*row)));
}

Result<SessionGrant> Auth::login(std::string_view phone, std::string_view password) {
  if (!sodium_ready())
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  auto found = CUNHUO_TRY(
      db_.read([&](db::Session& s) -> Result<std::optional<std::pair<Account, std::string>>> {
        auto row = CUNHUO_TRY(s.query_one(std::string("SELECT ") + kAccountColumns +
                                              ", a.password_hash FROM accounts a WHERE a.phone = ?",
                                          {phone}));
        if (!row) return std::optional<std::pair<Account, std::string>>();
        auto account = CUNHUO_TRY(account_from(*row));
        return std::optional<std::pair<Account, std::string>>(
            std::make_pair(std::move(account), row->str(8)));
      }));
  // Verification is slow by design; it runs outside any transaction.
  // No password set (an account that logs in by code) verifies against the decoy, so it
  // is refused in the same time as a wrong password.
  const bool has_password = found && !found->second.empty();
  const std::string& hash = has_password ? found->second : decoy_hash();
  const std::string pw(password);
  const bool verified = crypto_pwhash_str_verify(hash.c_str(), pw.c_str(), pw.size()) == 0;
  if (!has_password || !verified) {
    spdlog::info("login refused for phone {}", phone);  // the log redacts the number
    return bad_credentials();
  }
  return db_.write([&](db::Session& tx) { return open_session(tx, std::move(found->first)); });
}

Result<SessionGrant> Auth::login_by_code(std::string_view phone, std::string_view code) {
  auto grant = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::optional<SessionGrant>> {
    auto account = CUNHUO_TRY(find_account_by_phone(tx, phone));
    if (!account) return std::optional<SessionGrant>();
    const auto check =
        CUNHUO_TRY(messaging::verify_code(tx, phone, messaging::CodePurpose::log_in, code, clock_));
    if (check != messaging::CodeCheck::accepted) return std::optional<SessionGrant>();
    return std::optional<SessionGrant>(CUNHUO_TRY(open_session(tx, std::move(*account))));
  }));
  if (!grant) {
    spdlog::info("login by code refused for phone {}", phone);
    return make_error(ErrorKind::unauthorized, "invalid_credentials",
                      "phone number or code is wrong");
  }
  return std::move(*grant);
}

Result<SessionGrant> Auth::open_session(db::Session& tx, Account account) const {
  if (!sodium_ready())
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  SessionGrant grant{to_hex(raw, sizeof raw), std::move(account),
                     clock_.now_ms() + kSessionLifetimeMs};
  CUNHUO_TRY(
      tx.exec("INSERT INTO sessions (token_hash, account_id, created_at, expires_at, public_id) "
              "VALUES (?, ?, ?, ?, ?)",
              {token_hash(grant.token), grant.account.id, clock_.now_ms(), grant.expires_at_ms,
               new_public_id()}));
  return grant;
}

Result<std::string> Auth::hash_new_password(std::string_view password) {
  if (!sodium_ready())
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  if (password.size() < kMinPassword || password.size() > kMaxPassword)
    return make_error(ErrorKind::invalid, "invalid_password", "password must be 8 to 128 bytes",
                      "new_password");
  return hash_password(password);
}

Result<bool> Auth::has_password(db::Session& s, std::int64_t account_id) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT password_hash FROM accounts WHERE id = ?", {account_id}));
  return row && !row->str(0).empty();
}

Result<bool> Auth::password_matches(std::int64_t account_id, std::string_view password) {
  auto row = CUNHUO_TRY(db_.read([&](db::Session& s) {
    return s.query_one("SELECT password_hash FROM accounts WHERE id = ?", {account_id});
  }));
  const bool has = row && !row->str(0).empty();
  const std::string hash = has ? row->str(0) : decoy_hash();
  const std::string pw(password);
  return crypto_pwhash_str_verify(hash.c_str(), pw.c_str(), pw.size()) == 0 && has;
}

Status Auth::store_password(db::Session& tx, std::int64_t account_id, const std::string& hash) {
  CUNHUO_TRY(tx.exec("UPDATE accounts SET password_hash = ? WHERE id = ?", {hash, account_id}));
  return {};
}

static std::optional<std::string> bearer_token(const Request& request) {
  auto header = request.header("authorization");
  if (!header || header->size() <= 7 || header->compare(0, 7, "Bearer ") != 0) return std::nullopt;
  return header->substr(7);
}

std::optional<Account> Auth::cached(const std::string& hash) {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(hash);
  const auto now = clock_.now_ms();
  if (it == cache_.end() || it->second.cached_until_ms <= now ||
      it->second.session_expires_ms <= now)
    return std::nullopt;
  return it->second.account;
}

void Auth::remember(const std::string& hash, const Account& account,
                    std::int64_t session_expires_ms, std::int64_t generation) {
  std::unique_lock lock(cache_mu_);
  if (generation < 0 || revocations_.generation() != generation) return;  // revoked meanwhile
  if (cache_.size() >= kSessionCacheLimit) cache_.clear();  // bounded: start over rather than grow
  cache_[hash] = Cached{account, session_expires_ms, clock_.now_ms() + kSessionCacheMs};
}

void Auth::drop(const Revocation& r) {
  std::unique_lock lock(cache_mu_);
  if (!r.token_hash.empty()) {
    cache_.erase(r.token_hash);
    return;
  }
  std::erase_if(cache_, [&](const auto& entry) {
    return entry.second.account.id == r.account_id && entry.first != r.keep_hash;
  });
}

void Auth::drop_all() {
  std::unique_lock lock(cache_mu_);
  cache_.clear();
}

Result<Account> Auth::authenticate(const Request& request) {
  auto token = bearer_token(request);
  if (!token || token->size() != kTokenChars)
    return make_error(ErrorKind::unauthorized, "unauthenticated",
                      "log in and send Authorization: Bearer <token>");
  return authenticate_token(*token);
}

Result<Account> Auth::authenticate_token(std::string_view token) {
  if (token.size() != kTokenChars)
    return make_error(ErrorKind::unauthorized, "unauthenticated", "log in first");
  const std::string hash = token_hash(token);
  // A cached session counts once every revocation committed before this request is applied.
  if (cached(hash) || revocations_.generation() < 0) {
    CUNHUO_CHECK(revocations_.catch_up());
    if (auto account = cached(hash)) return std::move(*account);
  }
  const std::int64_t generation = revocations_.generation();
  auto found = CUNHUO_TRY(db_.read([&](db::Session& s) -> Result<std::pair<Account, std::int64_t>> {
    CUNHUO_CHECK(s.read_latest());  // a session ended through another node is gone here too
    auto row = CUNHUO_TRY(
        s.query_one(std::string("SELECT ") + kAccountColumns +
                        ", t.expires_at FROM sessions t JOIN accounts a ON a.id = t.account_id "
                        "WHERE t.token_hash = ? AND t.expires_at > ?",
                    {hash, clock_.now_ms()}));
    if (!row)
      return make_error(ErrorKind::unauthorized, "unauthenticated",
                        "session is unknown or has expired");
    return std::make_pair(CUNHUO_TRY(account_from(*row)), row->i64(8));
  }));
  remember(hash, found.first, found.second, generation);
  return std::move(found.first);
}

Status Auth::assign_shop(db::Session& tx, std::int64_t account_id, std::int64_t shop_id) {
  CUNHUO_TRY(tx.exec("UPDATE accounts SET shop_id = ? WHERE id = ? AND role = 'shop_manager'",
                     {shop_id, account_id}));
  return {};
}

Status Auth::account_changed(db::Session& tx, std::int64_t account_id, const Clock& clock) {
  return SessionRevocations::record(tx, account_id, "", "", clock);
}

static std::string request_token_hash(const Request& request) {
  auto token = bearer_token(request);
  return token ? token_hash(*token) : std::string();
}

Result<std::vector<SessionInfo>> Auth::sessions_of(const Account& account, const Request& request) {
  const std::string current = request_token_hash(request);
  return db_.write([&](db::Session& tx) -> Result<std::vector<SessionInfo>> {
    auto rows = CUNHUO_TRY(tx.query(
        "SELECT token_hash, public_id, created_at, expires_at FROM sessions WHERE account_id = ? "
        "AND expires_at > ? ORDER BY created_at DESC LIMIT ?",
        {account.id, clock_.now_ms(), kMaxListedSessions}));
    std::vector<SessionInfo> out;
    for (const auto& r : rows) {
      std::string id = r.str(1);
      if (r.is_null(1)) {  // a session older than public ids gets one now
        id = new_public_id();
        CUNHUO_TRY(
            tx.exec("UPDATE sessions SET public_id = ? WHERE token_hash = ?", {id, r.str(0)}));
      }
      out.push_back(SessionInfo{.id = std::move(id),
                                .created_at_ms = r.i64(2),
                                .expires_at_ms = r.i64(3),
                                .current = r.str(0) == current});
    }
    return out;
  });
}

Result<bool> Auth::end_session(const Account& account, std::string_view public_id) {
  auto hash = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::optional<std::string>> {
    auto row = CUNHUO_TRY(
        tx.query_one("SELECT token_hash FROM sessions WHERE public_id = ? AND account_id = ?",
                     {public_id, account.id}));
    if (!row) return std::optional<std::string>();
    CUNHUO_TRY(tx.exec("DELETE FROM sessions WHERE token_hash = ?", {row->str(0)}));
    CUNHUO_CHECK(SessionRevocations::record(tx, account.id, row->str(0), "", clock_));
    return std::optional<std::string>(row->str(0));
  }));
  if (!hash) return false;
  drop(Revocation{.seq = 0, .account_id = account.id, .token_hash = *hash, .keep_hash = {}});
  return true;
}

std::string Auth::session_key(const Request& request) { return request_token_hash(request); }

Result<std::int64_t> Auth::end_sessions(const Account& account, const std::string& kept) {
  auto ended = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::int64_t> {
    auto done = CUNHUO_TRY(tx.exec("DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?",
                                   {account.id, kept}));
    if (done.affected_rows > 0)
      CUNHUO_CHECK(SessionRevocations::record(tx, account.id, "", kept, clock_));
    return done.affected_rows;
  }));
  drop(Revocation{.seq = 0, .account_id = account.id, .token_hash = {}, .keep_hash = kept});
  return ended;
}

Status Auth::logout(const Request& request) {
  auto token = bearer_token(request);
  if (!token) return make_error(ErrorKind::unauthorized, "unauthenticated", "no session to end");
  return end_token(*token);
}

Status Auth::end_token(std::string_view token) {
  const std::string hash = token_hash(token);
  CUNHUO_CHECK(db_.write([&](db::Session& tx) -> Status {
    auto owner =
        CUNHUO_TRY(tx.query_one("SELECT account_id FROM sessions WHERE token_hash = ?", {hash}));
    if (!owner) return {};
    CUNHUO_TRY(tx.exec("DELETE FROM sessions WHERE token_hash = ?", {hash}));
    return SessionRevocations::record(tx, owner->i64(0), hash, "", clock_);
  }));
  drop(Revocation{.seq = 0, .account_id = 0, .token_hash = hash, .keep_hash = {}});
  return {};
}

std::string Auth::token_key(std::string_view token) { return token_hash(token); }

// An account as write_account writes it.
schema::Schema account_schema() {
  using namespace schema;
  std::vector<std::string> roles;
  for (const auto& [role, name] : kRoleNames) roles.emplace_back(name);
  return object({required("id", id()), required("phone", text().described("masked")),
                 required("display_name", text()), required("role", choice(roles)),
                 required("region_code", text()), optional("household_id", id()),
                 optional("shop_id", id()), optional("node_id", id())});
}

Response session_granted(const SessionGrant& grant) { return granted(grant); }
schema::Schema session_grant_schema() { return grant_schema(); }

void write_account(JsonWriter& w, const Account& a) {
  w.begin_object()
      .field("id", a.id)
      .field("phone", mask_phone(a.phone))
      .field("display_name", a.display_name);
  w.field("role", to_string(a.role)).field("region_code", a.region_code);
  if (a.household_id) w.field("household_id", *a.household_id);
  if (a.shop_id) w.field("shop_id", *a.shop_id);
  if (a.node_id) w.field("node_id", *a.node_id);
  w.end_object();
}

void add_auth_routes(RouteTable& table, Auth& auth, WorkPool& pool) {
  // Logging in is for anyone; its limits (per phone, per address) are the handler's.
  table.add({.method = "POST",
             .pattern = "/api/v1/sessions",
             .access = anyone(),
             .body = Body::json,
             .request_schema = credentials_schema(),
             .response_schema = grant_schema(),
             .success_status = 201,
             .errors = {"invalid_credentials", "too_many_requests", "busy"},
             .summary = "Log in with phone and password, or phone and a log_in code; returns a "
                        "bearer token",
             .async_handler =
                 [&auth, &pool](const Call& call, Respond respond) {
                   login_route(auth, pool, call.request, respond);
                 },
             .admission = [&auth](const Request& req) { return admit_login(auth, req); }});
  table.add({.method = "GET",
             .pattern = "/api/v1/me",
             .access = signed_in(),
             .response_schema = account_schema(),
             .summary = "The logged-in account",
             .handler = [](const Call& call) -> Result<Response> {
               JsonWriter w;
               write_account(w, call.caller());
               return Response::json(200, w.take());
             }});
  table.add({.method = "DELETE",
             .pattern = "/api/v1/sessions/current",
             .access = signed_in(),
             .response_schema = schema::object({schema::required("ended", schema::boolean())}),
             .summary = "Log out",
             .handler = [&auth](const Call& call) -> Result<Response> {
               CUNHUO_CHECK(auth.logout(call.request));
               return Response::json(200, "{\"ended\":true}");
             }});
}

}  // namespace cunhuo::storefront
