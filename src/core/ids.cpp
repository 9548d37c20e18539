#include "core/ids.hpp"

#include <sodium.h>

#include <stdexcept>

namespace parley {
namespace {

void ensure_sodium() {
  static const int rc = sodium_init();  // thread-safe static init; 0 = ok, 1 = already initialised
  if (rc < 0) throw std::runtime_error("libsodium initialisation failed");
}

}  // namespace

void random_bytes(void* out, size_t n) {
  ensure_sodium();
  randombytes_buf(out, n);
}

uint64_t random_u64() {
  uint64_t v = 0;
  random_bytes(&v, sizeof v);
  return v;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = digits[b >> 4];
    out[2 * i + 1] = digits[b & 15];
  }
  return out;
}

std::string random_hex(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  random_bytes(raw.data(), n_bytes);
  return to_hex(raw);
}

std::string random_id() { return random_hex(16); }

namespace {
// splitmix64's finalizer: a bijection on 64-bit values, so distinct inputs give distinct outputs.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

std::string log_id() {
  struct State {
    uint64_t key[2];
    uint64_t counter = 0;
    State() { random_bytes(key, sizeof key); }
  };
  thread_local State state;
  const uint64_t n = ++state.counter;
  const uint64_t words[2] = {mix64(state.key[0] ^ n), mix64(state.key[1] + n)};
  return to_hex(std::string_view(reinterpret_cast<const char*>(words), sizeof words));
}

std::string base64url_encode(std::string_view bytes) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string random_token(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  random_bytes(raw.data(), n_bytes);
  std::string out = base64url_encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

bool is_hex_id(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool secure_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace parley
