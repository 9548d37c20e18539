// The parts of the vector tiled-attention kernels that do not depend on the instruction set:
// the scratch layout, the tile's set-up, the walk over runs of cache slots and the final division.
// tiled_attention_avx2.cpp (8 lanes) and tiled_attention_avx512.cpp (16 lanes) instantiate them
// and supply the two parts that do: converting a run of f16 slots to f32, and one row vector's
// online-softmax step. The layout and the arithmetic are described in tiled_attention_avx512.cpp.
// Internal linkage on purpose: each kernel file compiles its own copy with its own ISA flags.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "llm/model/tiled_attention.hpp"

namespace parley::llm::ops {
namespace {  // NOLINT(google-build-namespaces): one copy per kernel file, see above

template <int64_t kLanes>
struct TileLayout {
  int64_t rows, n_rv;
  int64_t qt, acc, kf, vf, m, l, pos, total;  // offsets in floats

  static TileLayout make(int64_t n_q, int64_t group, int64_t hd) {
    TileLayout L{};
    L.rows = n_q * group;
    L.n_rv = (L.rows + kLanes - 1) / kLanes;
    const int64_t per_rv = hd * kLanes;
    L.qt = 0;
    L.acc = L.qt + L.n_rv * per_rv;
    L.kf = L.acc + L.n_rv * per_rv;
    L.vf = L.kf + kLanes * hd;
    L.m = L.vf + kLanes * hd;
    L.l = L.m + L.n_rv * kLanes;
    L.pos = L.l + L.n_rv * kLanes;  // int32 per lane
    L.total = L.pos + L.n_rv * kLanes;
    return L;
  }
};

// convert_run(src, stride, n, hd, dst): slots [0, n) of a run to f32 rows of dst, rows n..kLanes-1
// zeroed. step(qt, acc, kf, vf, m, l, pos, s0, n): one row vector against the converted run
// (pos: its kLanes int32 lane positions).
template <int64_t kLanes, typename ConvertRun, typename Step>
void run_tile(const QueryTile& tile, const KvHeadView& kv, float* scratch, ConvertRun convert_run, Step step) {
  const int64_t hd = tile.hd, group = tile.group, B = kv.block_tokens;
  const auto L = TileLayout<kLanes>::make(tile.n_q, group, hd);
  float* qt = scratch + L.qt;
  float* acc = scratch + L.acc;
  float* kf = scratch + L.kf;
  float* vf = scratch + L.vf;
  float* m = scratch + L.m;
  float* l = scratch + L.l;
  int32_t pos_lane[kLanes];

  // Set-up: transposed scaled queries, zero accumulators, lane positions. Lanes past the last row
  // get zero queries and the last row's position (so every lane sees slot 0), and are not written.
  const int64_t last_pos = tile.pos0 + tile.n_q - 1;
  for (int64_t rv = 0; rv < L.n_rv; ++rv) {
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      const int64_t r = rv * kLanes + lane;
      float* col = qt + rv * hd * kLanes + lane;
      if (r < L.rows) {
        const float* q = tile.q + (r / group) * tile.q_stride + (r % group) * hd;
        for (int64_t d = 0; d < hd; ++d) col[d * kLanes] = q[d] * tile.scale;
        pos_lane[lane] = static_cast<int32_t>(tile.pos0 + r / group);
      } else {
        for (int64_t d = 0; d < hd; ++d) col[d * kLanes] = 0.0f;
        pos_lane[lane] = static_cast<int32_t>(last_pos);
      }
    }
    std::memcpy(scratch + L.pos + rv * kLanes, pos_lane, sizeof(pos_lane));
    std::fill(m + rv * kLanes, m + (rv + 1) * kLanes, -std::numeric_limits<float>::infinity());
    std::fill(l + rv * kLanes, l + (rv + 1) * kLanes, 0.0f);
  }
  std::fill(acc, acc + L.n_rv * hd * kLanes, 0.0f);

  // Walk the visible slots [0, last_pos] in runs of <= kLanes that stay inside one cache block.
  const int64_t n_slots = last_pos + 1;
  for (int64_t s0 = 0; s0 < n_slots;) {
    const int64_t blk = s0 / B, off = s0 % B;
    const int64_t n = std::min({kLanes, B - off, n_slots - s0});
    convert_run(kv.k[blk] + off * kv.stride, kv.stride, n, hd, kf);
    convert_run(kv.v[blk] + off * kv.stride, kv.stride, n, hd, vf);
    for (int64_t rv = 0; rv < L.n_rv; ++rv) {
      int32_t top;  // the vector's last lane has its largest position
      std::memcpy(&top, scratch + L.pos + rv * kLanes + kLanes - 1, sizeof(top));
      if (top < s0) continue;  // sees none of these slots: nothing changes
      step(qt + rv * hd * kLanes, acc + rv * hd * kLanes, kf, vf, m + rv * kLanes, l + rv * kLanes,
           reinterpret_cast<const int32_t*>(scratch + L.pos + rv * kLanes), s0, n);
    }
    s0 += n;
  }

  // out_row[d] = acc[d][lane] / l[lane]
  for (int64_t r = 0; r < L.rows; ++r) {
    const int64_t rv = r / kLanes, lane = r % kLanes;
    const float inv = 1.0f / l[rv * kLanes + lane];
    const float* col = acc + rv * hd * kLanes + lane;
    float* out = tile.out + (r / group) * tile.out_stride + (r % group) * hd;
    for (int64_t d = 0; d < hd; ++d) out[d] = col[d * kLanes] * inv;
  }
}

}  // namespace
}  // namespace parley::llm::ops
