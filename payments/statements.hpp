// Household income evidence: for a household and a period (month, quarter or year), every
// settled line with its totals and the net income per household member. The statement is
// canonical JSON (keys sorted, no spaces), hashed with SHA-256 and signed with the
// platform's Ed25519 key, so anyone holding the platform's public key can tell whether a
// downloaded statement is genuine and unaltered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/json.hpp"
#include "core/money.hpp"
#include "payments/signing.hpp"

namespace cunhuo::payments {

struct Period {
  std::string label;  // "2026-11", "2026-Q4", "2026"
  LocalDate first, last;
  std::int64_t from_ms = 0, to_ms = 0;  // [from, to) in UTC ms
};
// "2026-11" (a month), "2026-Q4" (a quarter) or "2026" (a year).
Result<Period> parse_period(std::string_view text);

struct StatementSubject {
  std::int64_t household_id = 0;
  std::string household_name;  // as the caller may show it (masked for most)
  std::string village_code;
  int members = 1;
};

struct SignedStatement {
  std::string canonical;  // the statement object, canonical JSON
  std::string sha256, signature, key_serial;
  std::string document() const;  // {"statement":…, "sha256":…, "signature":…, "key_serial":…}
};

Result<SignedStatement> issue_statement(db::Session& s, const StatementSubject& subject,
                                        const Period& period, const SigningKey& key,
                                        const Clock& clock);

// Whether `document` (as downloaded) is a genuine, unaltered statement signed by `public_key`.
struct Verdict {
  bool genuine = false;
  std::string reason;  // why not
};
Verdict verify_statement(std::string_view document, std::string_view public_key);

// What a signed statement says, read back for showing it (the storefront renders the page).
struct StatementLineView {
  std::string date, product, campaign_kind;
  std::int64_t order_id = 0, quantity = 0;
  int share_bps = 0;
  Money gross, fees, net;
};
struct StatementView {
  std::int64_t household_id = 0;
  std::string household_name, village_code, period_label, period_from, period_to, issued_at;
  std::int64_t members = 0;
  std::vector<StatementLineView> lines;
  Money gross, fees, net, net_per_member;
  std::string sha256, signature, key_serial;
};
Result<StatementView> statement_view(const SignedStatement& statement);

// What a printed statement's QR code carries, so that a bank or a township can check it on
// a phone without the statement's personal content: its sha256, period and net income,
// which the paper shows too, signed by the statement's key. The message signed starts
// with a line no statement's canonical JSON starts with, so neither signature stands for
// the other.
struct StatementSeal {
  std::string sha256, period;
  std::int64_t net_fen = 0;
  std::string key_serial, signature;
};
StatementSeal seal_statement(const StatementView& statement, const SigningKey& key);
// Whether `public_key` (base64) signed the seal; a seal of another key is not genuine.
bool seal_genuine(const StatementSeal& seal, std::string_view public_key);

// The same statement as CSV: one row per line, then the totals.
Result<std::string> statement_csv(const SignedStatement& statement);

// Objects with keys sorted bytewise, arrays in order, no spaces; only integers, strings,
// booleans and null (no floating point in evidence).
Result<std::string> canonical_json(const Json& value);

}  // namespace cunhuo::payments
