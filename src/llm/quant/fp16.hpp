// IEEE half (fp16) and bfloat16 <-> fp32 conversions, header-only and bit-exact
// (round to nearest even, subnormals, inf and NaN preserved). Usable from any code; no ISA flags needed.
#pragma once

#include <bit>
#include <cstdint>

namespace parley::llm::quant {

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    const float f = static_cast<float>(mant) * 0x1p-24f;  // zero or subnormal: mant * 2^-24
    return sign ? -f : f;
  }
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline uint16_t fp32_to_fp16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (ax < 0x38800000u) {
    // Below the smallest normal half (2^-14): let an fp32 add do the round-to-nearest-even shift.
    const float magic = std::bit_cast<float>(126u << 23);  // 0.5
    const float v = std::bit_cast<float>(ax) + magic;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(v) - (126u << 23)));
  }
  const uint32_t mant_odd = (ax >> 13) & 1u;
  ax += 0xc8000fffu;  // rebias exponent (-112 << 23) and add the rounding bias 0xfff
  ax += mant_odd;
  return static_cast<uint16_t>(sign | (ax >> 13));
}

inline float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t fp32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace parley::llm::quant
