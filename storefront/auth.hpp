// Accounts, roles and sessions. Passwords are hashed with argon2id (libsodium);
// session tokens are random and only their hash is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/json.hpp"
#include "storefront/http.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/schema.hpp"
#include "storefront/session_revocations.hpp"
#include "storefront/work_pool.hpp"

namespace cunhuo::storefront {

// A helper (帮扶责任人) is the cadre assigned to households on their archive cards: they
// see those households masked, and the monitoring alerts raised for them.
enum class Role {
  farmer,
  shop_manager,
  consumer,
  org_buyer,
  station_operator,
  county_centre,
  poverty_office,
  helper,
  admin
};
std::string_view to_string(Role role);
Result<Role> parse_role(std::string_view text);

struct Account {
  std::int64_t id = 0;
  std::string phone, display_name;
  Role role = Role::consumer;
  std::string region_code;                   // the area the account works in
  std::optional<std::int64_t> household_id;  // farmers
  std::optional<std::int64_t> shop_id;       // shop managers
  std::optional<std::int64_t> node_id;       // station operators
};

struct NewAccount {
  std::string phone;
  std::string password;  // empty: none yet, the account logs in by a code sent to its phone
  std::string display_name;
  Role role = Role::consumer;
  std::string region_code;
  std::optional<std::int64_t> household_id, shop_id, node_id;
};

// A session as its owner sees it in the list: never its token.
struct SessionInfo {
  std::string id;  // public: not the token, nor its hash
  std::int64_t created_at_ms = 0, expires_at_ms = 0;
  bool current = false;  // the session of the request that asked
};

struct SessionGrant {
  std::string token;  // shown once, to the caller that logged in
  Account account;
  std::int64_t expires_at_ms = 0;
};

// How often a login may be tried. Guessing one phone's password is stopped by the count
// of wrong passwords in a row; spraying many phones from one address by the attempts.
struct LoginLimits {
  static constexpr int kWrongPasswordsPerPhone = 30;
  static constexpr std::int64_t kPhoneLockMs = 15 * 60 * 1000;
  static constexpr int kDefaultAttemptsPerAddress = 60;
  static constexpr std::int64_t kAddressWindowMs = 60 * 1000;

  RateLimit wrong_passwords_per_phone{kWrongPasswordsPerPhone, kPhoneLockMs};
  RateLimit attempts_per_address{kDefaultAttemptsPerAddress, kAddressWindowMs};
};

// Sessions checked recently are kept in memory for a few seconds, so a busy client does
// not cost a store read per request. Logging out (and ending sessions, and changing an
// account) is recorded as a revocation every process applies before it uses a cached
// session again (session_revocations.hpp): a token logged out through one process is
// refused by every other from the next request on, not after kSessionCacheMs.
class Auth {
 public:
  static constexpr std::size_t kTokenChars = 64;  // 32 random bytes, in hex
  static constexpr std::int64_t kSessionCacheMs = 5'000;
  static constexpr std::size_t kSessionCacheLimit = 100'000;

  Auth(db::Database& db, const Clock& clock, LoginLimits limits = {})
      : db_(db),
        clock_(clock),
        revocations_(
            db, [this](const Revocation& r) { drop(r); }, [this] { drop_all(); }),
        wrong_passwords_(limits.wrong_passwords_per_phone, clock,
                         InStore{.db = db, .name = "wrong_passwords"}),
        attempts_(limits.attempts_per_address, clock, InStore{.db = db, .name = "login_attempts"}) {
  }

  static std::span<const db::Migration> migrations();
  static constexpr int kPruneBatch = 1000;  // rows per pruning transaction
  // Deletes expired sessions, a batch at a time; returns how many went.
  static Result<std::int64_t> prune_sessions(db::Session& tx, std::int64_t now_ms);

  Result<std::int64_t> create_account(db::Session& tx, const NewAccount& account) const;
  Result<SessionGrant> login(std::string_view phone, std::string_view password);
  // Ties a farmer's account to the household an office confirmed it for, placing it in the
  // household's village.
  static Status tie_household(db::Session& tx, std::int64_t account, std::int64_t household,
                              std::string_view village_code);
  // The farmer accounts of household `from`, tied to `to` instead (a duplicate merged into
  // the household kept); returns their ids, whose cached sessions the caller then forgets.
  static Result<std::vector<std::int64_t>> move_farmers(db::Session& tx, std::int64_t from,
                                                        std::int64_t to,
                                                        std::string_view village_code);
  // A login by a log_in code sent to the phone: a wrong, expired or used-up code, or an
  // unknown phone, all answer invalid_credentials (the wrong try is counted all the same).
  Result<SessionGrant> login_by_code(std::string_view phone, std::string_view code);
  // A new session for `account`, in the caller's transaction (a login by code, a sign-up).
  Result<SessionGrant> open_session(db::Session& tx, Account account) const;

  // Passwords. hash_new_password checks the length (8 to 128 bytes) and is slow by design:
  // call it outside transactions, on the work pool.
  static Result<std::string> hash_new_password(std::string_view password);
  // Whether `password` is the account's (false when it has none); slow too.
  Result<bool> password_matches(std::int64_t account_id, std::string_view password);
  static Result<bool> has_password(db::Session& s, std::int64_t account_id);
  static Status store_password(db::Session& tx, std::int64_t account_id, const std::string& hash);

  // The account's live sessions, newest first; `request`'s own is marked current.
  Result<std::vector<SessionInfo>> sessions_of(const Account& account, const Request& request);
  // Ends the account's session `public_id`; false when it has none by that id.
  Result<bool> end_session(const Account& account, std::string_view public_id);
  // Ends every session of the account but the one whose key is `keep` ("": none); how many
  // ended.
  Result<std::int64_t> end_sessions(const Account& account, const std::string& keep);
  // The key (token hash) of the request's session, "" when it has none: for end_sessions.
  static std::string session_key(const Request& request);
  // An account by its id or its phone, for checks such as "is this a helper".
  static Result<std::optional<Account>> find_account(db::Session& s, std::int64_t id);
  static Result<std::optional<Account>> find_account_by_phone(db::Session& s,
                                                              std::string_view phone);
  // Makes a shop manager's account the manager of `shop` (a cooperative its county approved).
  static Status assign_shop(db::Session& tx, std::int64_t account_id, std::int64_t shop_id);
  // Drops every process's cached sessions of an account whose fields changed, so that its
  // next request reads them anew. Called in the transaction that changes the account: the
  // revocation commits with the change or not at all (this process applies it too, at its
  // next request's catch-up).
  static Status account_changed(db::Session& tx, std::int64_t account_id, const Clock& clock);
  // The account behind "Authorization: Bearer <token>"; 401 when missing or expired.
  Result<Account> authenticate(const Request& request);
  // The same for a token carried otherwise (the pages' session cookie).
  Result<Account> authenticate_token(std::string_view token);
  Status logout(const Request& request);
  Status end_token(std::string_view token);  // ends the session the token opened
  // The stored key (hash) of a session token: binds a page's form tokens to its session.
  static std::string token_key(std::string_view token);
  // Counted in the store: shared by every process serving it.
  RateLimiter& wrong_passwords() { return wrong_passwords_; }  // keyed by phone
  RateLimiter& login_attempts() { return attempts_; }          // keyed by client address

 private:
  struct Cached {
    Account account;
    std::int64_t session_expires_ms = 0, cached_until_ms = 0;
  };
  std::optional<Account> cached(const std::string& token_hash);
  // Caches a session read from the store while the revocations' generation was `generation`,
  // unless something was revoked since.
  void remember(const std::string& token_hash, const Account& account,
                std::int64_t session_expires_ms, std::int64_t generation);
  void drop(const Revocation& revocation);  // its sessions leave the cache
  void drop_all();

  db::Database& db_;
  const Clock& clock_;
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_;
  SessionRevocations revocations_;
  RateLimiter wrong_passwords_, attempts_;
};

namespace schema {
class Schema;
}
// A new session as the API answers it (201 {token, expires_at, account}), and its schema.
Response session_granted(const SessionGrant& grant);
schema::Schema session_grant_schema();

// Login verifies the password hash on `pool`, never on a network thread.
class RouteTable;
// Logging in and out, and who is logged in: declared in the route table.
void add_auth_routes(RouteTable& table, Auth& auth, WorkPool& pool);
void write_account(JsonWriter& w, const Account& account);
schema::Schema account_schema();  // what write_account writes

}  // namespace cunhuo::storefront
