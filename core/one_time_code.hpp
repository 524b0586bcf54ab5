// Short codes people type from a text message (a sign-in code, a parcel's pickup code):
// made from the system's random source and kept only as a hash bound to what the code is
// for. The hash is keyed with a secret that is NOT in the store (App::open installs it from
// the data directory's keys/one-time-code.key, shared by every process serving the store):
// six digits are a million candidates, so an unkeyed hash in a store copy or a backup gives
// the code back in a second; keyed, the copy alone gives nothing.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace cunhuo {

inline constexpr std::size_t kOneTimeCodeKeyBytes = 32;
using OneTimeCodeKey = std::array<unsigned char, kOneTimeCodeKeyBytes>;
// Where the key lives, under the data directory (beside the cursor and form keys).
inline constexpr std::string_view kOneTimeCodeKeyFile = "keys/one-time-code.key";

// `digits` decimal digits, each uniform (libsodium's randombytes_uniform).
std::string random_digits(int digits);

// Installs the process's key. A process serves one store, so the first key installed stays
// (a later call changes nothing and answers false): codes hashed under it keep checking.
// Before any install, the process uses a random key of its own, never none.
bool install_one_time_code_key(const OneTimeCodeKey& key);

// kKeyedCodeHashPrefix and the hex keyed BLAKE2b of `bound_to` (what the code is for, e.g.
// "pickup|42") and the code: at most 64 characters, the stored column's width.
inline constexpr std::string_view kKeyedCodeHashPrefix = "k1:";
std::string one_time_code_hash(std::string_view bound_to, std::string_view code);
// Whether `stored` and the hash of `code` are the same (in constant time).
bool one_time_code_matches(std::string_view stored, std::string_view bound_to,
                           std::string_view code);
// A row stored before codes were keyed (no prefix): never accepted, as anyone with a store
// copy may know its code. Callers treat it as expired, so a new code is sent.
bool is_unkeyed_code_hash(std::string_view stored);

}  // namespace cunhuo
