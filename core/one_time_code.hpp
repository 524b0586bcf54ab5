// Short codes people type from a text message (a sign-in code, a parcel's pickup code):
// made from the system's random source and kept only as a hash bound to what the code is
// for, so a stored row copied elsewhere, or read by someone with the database, is useless.
#pragma once

#include <string>
#include <string_view>

namespace cunhuo {

// `digits` decimal digits, each uniform (libsodium's randombytes_uniform).
std::string random_digits(int digits);
// The hex BLAKE2b hash of `bound_to` (what the code is for, e.g. "pickup|42") and the code.
std::string one_time_code_hash(std::string_view bound_to, std::string_view code);

}  // namespace cunhuo
