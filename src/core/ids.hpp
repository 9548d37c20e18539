// Random identifiers and secrets from libsodium's CSPRNG (thread-safe, never blocks after boot).
//
//   std::string id = parley::random_id();          // 128 bits as 32 lowercase hex chars
//   std::string tok = parley::random_token(32);    // 256 bits, base64url without padding
//   if (!parley::is_hex_id(s)) ... reject
//
// Cost: one getrandom() call (~0.3 us, several us in a VM) per id. For ids that must only be unique
// (request ids in logs), log_id() costs no system call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {

void random_bytes(void* out, size_t n);
uint64_t random_u64();
// n_bytes of randomness as 2 * n_bytes lowercase hex characters.
std::string random_hex(size_t n_bytes);
// A 128-bit identifier: 32 lowercase hex characters.
std::string random_id();
// Like random_id(), unique but predictable from earlier ones: a per-thread counter under a random
// per-thread key (seeded once from the CSPRNG), mixed by a bijection. For request ids, not secrets.
std::string log_id();
// n_bytes of randomness in base64url (RFC 4648 section 5) without padding.
std::string random_token(size_t n_bytes = 32);

// Exactly 32 lowercase hex characters (what random_id() makes).
bool is_hex_id(std::string_view s);
// Hex encoding/decoding of arbitrary bytes.
std::string to_hex(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// Constant-time comparison of two secrets (different lengths compare unequal).
bool secure_equals(std::string_view a, std::string_view b);

}  // namespace parley
