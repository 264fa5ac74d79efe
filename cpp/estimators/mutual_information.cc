// The mutual information estimator's entry points and its single pass:
// per-chunk dense joint tables filled by SIMD-cloned kernels, summed in chunk
// order. The fallback for tables too large to be dense is in
// mutual_information_sparse.cc.
#include "estimators/mutual_information.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "estimators/mutual_information_detail.h"
#include "estimators/parallel.h"

namespace mfhrl {
namespace info {
namespace {

using detail::FinishDense;
using detail::ForEachChunk;
using detail::kMinParallelCells;
using detail::kMinParallelSamples;
using detail::NumChunks;

// Cap of DenseCellLimit: 16 MiB of uint32 counts per chunk; cell indices fit
// in 32 bits.
constexpr int64_t kMaxDenseCells = int64_t{1} << 22;
static_assert(kMaxDenseCells <= (int64_t{1} << 32), "cell indices are 32-bit");

template <typename T>
MFHRL_ALWAYS_INLINE LabelRange RangeOf(const T* x, int64_t b, int64_t e) {
  T lo = x[b];
  T hi = x[b];
  for (int64_t i = b; i < e; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  return {lo, hi};
}

MFHRL_SIMD_CLONES LabelRange RangeI32(const int32_t* x, int64_t b, int64_t e) {
  return RangeOf(x, b, e);
}

MFHRL_SIMD_CLONES LabelRange RangeI64(const int64_t* x, int64_t b, int64_t e) {
  return RangeOf(x, b, e);
}

template <typename T, typename Kernel>
LabelRange Scan(Kernel kernel, const T* x, int64_t n, ThreadPool* pool) {
  const int chunks = NumChunks(pool, n, kMinParallelSamples);
  std::vector<LabelRange> part(chunks);
  ForEachChunk(pool, chunks, n,
               [&](int c, int64_t begin, int64_t end) { part[c] = kernel(x, begin, end); });
  LabelRange r = part[0];
  for (const LabelRange& p : part) {
    r.min = std::min(r.min, p.min);
    r.max = std::max(r.max, p.max);
  }
  return r;
}

// One chunk's table in the single pass: counts of (x, y) in a row-major
// (cap_x, cap_y) array, grown when a block needs more room.
enum class ChunkStatus { kOk, kNegative, kTooLarge };

template <typename Count>
struct ChunkTable {
  std::vector<Count> counts;
  int64_t cap_x = 0;
  int64_t cap_y = 0;
  int64_t max_x = -1;  // largest labels seen (-1: no sample yet)
  int64_t max_y = -1;
  ChunkStatus status = ChunkStatus::kOk;
};

// Makes room for labels up to (hx, hy), doubling a dimension that grows so
// that repeated growth stays cheap, within `limit` cells. False if even the
// exact need exceeds the limit.
template <typename Count>
bool Grow(ChunkTable<Count>& t, int64_t hx, int64_t hy, int64_t limit) {
  if (hx >= limit || hy >= limit) return false;
  const int64_t need_x = std::max(t.cap_x, hx + 1);
  const int64_t need_y = std::max(t.cap_y, hy + 1);
  if (need_x > limit / need_y) return false;
  int64_t cx = hx >= t.cap_x ? std::max(need_x, 2 * t.cap_x) : t.cap_x;
  int64_t cy = hy >= t.cap_y ? std::max(need_y, 2 * t.cap_y) : t.cap_y;
  if (cx > limit / cy) {
    cx = need_x;
    cy = need_y;
  }
  std::vector<Count> grown(cx * cy, 0);
  for (int64_t i = 0; i < t.cap_x; ++i) {
    for (int64_t j = 0; j < t.cap_y; ++j) grown[i * cy + j] = t.counts[i * t.cap_y + j];
  }
  t.counts.swap(grown);
  t.cap_x = cx;
  t.cap_y = cy;
  return true;
}

// Range check and counting of samples [b, e) in blocks that stay in cache.
template <typename Count, typename TX, typename TY>
MFHRL_ALWAYS_INLINE void FillChunk(const TX* x, const TY* y, int64_t b, int64_t e, int64_t limit,
                                   ChunkTable<Count>& t) {
  constexpr int64_t kSamplesPerBlock = 1024;
  alignas(64) uint32_t cell[kSamplesPerBlock];
  for (int64_t i0 = b; i0 < e; i0 += kSamplesPerBlock) {
    const int64_t i1 = std::min(e, i0 + kSamplesPerBlock);
    const LabelRange rx = RangeOf(x, i0, i1);
    const LabelRange ry = RangeOf(y, i0, i1);
    if (rx.min < 0 || ry.min < 0) {
      t.status = ChunkStatus::kNegative;
      return;
    }
    if ((rx.max >= t.cap_x || ry.max >= t.cap_y) && !Grow(t, rx.max, ry.max, limit)) {
      t.status = ChunkStatus::kTooLarge;
      return;
    }
    t.max_x = std::max(t.max_x, rx.max);
    t.max_y = std::max(t.max_y, ry.max);
    // Cell indices first (a vectorised loop; < DenseCellLimit <= 2^22, so
    // 32-bit arithmetic is exact), then the increments.
    const int64_t len = i1 - i0;
    const uint32_t cy = static_cast<uint32_t>(t.cap_y);
    for (int64_t i = 0; i < len; ++i) {
      cell[i] = static_cast<uint32_t>(x[i0 + i]) * cy + static_cast<uint32_t>(y[i0 + i]);
    }
    Count* h = t.counts.data();
    for (int64_t i = 0; i < len; ++i) ++h[cell[i]];
  }
}

// The (SIMD-cloned) chunk filler for these types: NAME, a clone of FillChunk,
// also reachable as Filler<COUNT, TX, TY>::kFill.
template <typename Count, typename TX, typename TY>
struct Filler;
#define MFHRL_FILLER(NAME, COUNT, TX, TY)                                                    \
  MFHRL_SIMD_CLONES void NAME(const TX* x, const TY* y, int64_t b, int64_t e, int64_t limit, \
                              ChunkTable<COUNT>& t) {                                       \
    FillChunk(x, y, b, e, limit, t);                                                        \
  }                                                                                         \
  template <>                                                                               \
  struct Filler<COUNT, TX, TY> {                                                            \
    static constexpr auto* kFill = &NAME;                                                   \
  };
MFHRL_FILLER(Fill32_32_32, uint32_t, int32_t, int32_t)
MFHRL_FILLER(Fill32_32_64, uint32_t, int32_t, int64_t)
MFHRL_FILLER(Fill32_64_32, uint32_t, int64_t, int32_t)
MFHRL_FILLER(Fill32_64_64, uint32_t, int64_t, int64_t)
MFHRL_FILLER(Fill64_32_32, uint64_t, int32_t, int32_t)
MFHRL_FILLER(Fill64_32_64, uint64_t, int32_t, int64_t)
MFHRL_FILLER(Fill64_64_32, uint64_t, int64_t, int32_t)
MFHRL_FILLER(Fill64_64_64, uint64_t, int64_t, int64_t)
#undef MFHRL_FILLER

// The single pass: per-chunk tables, then one (max_x + 1, max_y + 1) table
// summed in chunk order. Returns kOk, or the first problem a chunk met.
template <typename Count, typename TX, typename TY>
ChunkStatus SinglePass(const TX* x, const TY* y, int64_t n, int chunks, ThreadPool* pool,
                       MutualInformationResult* result) {
  const int64_t limit = DenseCellLimit(n);
  std::vector<ChunkTable<Count>> tables(chunks);
  ForEachChunk(pool, chunks, n, [&](int c, int64_t begin, int64_t end) {
    Filler<Count, TX, TY>::kFill(x, y, begin, end, limit, tables[c]);
  });
  int64_t max_x = -1, max_y = -1;
  for (const ChunkTable<Count>& t : tables) {
    if (t.status == ChunkStatus::kNegative) return ChunkStatus::kNegative;
  }
  for (const ChunkTable<Count>& t : tables) {
    if (t.status != ChunkStatus::kOk) return t.status;
    max_x = std::max(max_x, t.max_x);
    max_y = std::max(max_y, t.max_y);
  }
  const int64_t nx = max_x + 1, ny = max_y + 1;
  std::vector<int64_t> joint(nx * ny, 0);
  const int64_t grain = std::max<int64_t>(1, kMinParallelCells / ny);
  ForEachChunk(pool, NumChunks(pool, nx, grain), nx, [&](int, int64_t i0, int64_t i1) {
    for (const ChunkTable<Count>& t : tables) {
      for (int64_t i = i0; i < std::min(i1, t.max_x + 1); ++i) {
        const Count* src = t.counts.data() + i * t.cap_y;
        int64_t* dst = joint.data() + i * ny;
        for (int64_t j = 0; j <= t.max_y; ++j) dst[j] += static_cast<int64_t>(src[j]);
      }
    }
  });
  *result = FinishDense(n, nx, ny, joint);
  return ChunkStatus::kOk;
}

template <typename TX, typename TY>
bool Compute(const TX* x, const TY* y, int64_t n, ThreadPool* pool,
             MutualInformationResult* result) {
  const int chunks = NumChunks(pool, n, kMinParallelSamples);
  // uint32 counts unless a chunk could hold 2^32 samples.
  const ChunkStatus status = n / chunks + 1 < (int64_t{1} << 32)
                                 ? SinglePass<uint32_t>(x, y, n, chunks, pool, result)
                                 : SinglePass<uint64_t>(x, y, n, chunks, pool, result);
  if (status == ChunkStatus::kOk) return true;
  if (status == ChunkStatus::kNegative) return false;
  return detail::Sparse(x, y, n, pool, result);
}

}  // namespace

namespace detail {

MutualInformationResult FinishDense(int64_t n, int64_t nx, int64_t ny,
                                    const std::vector<int64_t>& joint) {
  std::vector<int64_t> a(nx, 0), b(ny, 0);
  for (int64_t i = 0; i < nx; ++i) {
    const int64_t* row = joint.data() + i * ny;
    int64_t s = 0;
    for (int64_t j = 0; j < ny; ++j) {
      s += row[j];
      b[j] += row[j];
    }
    a[i] = s;
  }
  return Finish(n, a, b, [&](auto&& visit) {
    for (int64_t i = 0; i < nx; ++i) {
      if (a[i] == 0) continue;
      const int64_t* row = joint.data() + i * ny;
      for (int64_t j = 0; j < ny; ++j) {
        if (row[j] > 0) visit(i, j, row[j]);
      }
    }
  });
}

}  // namespace detail

int64_t DenseCellLimit(int64_t n) {
  return std::min<int64_t>(kMaxDenseCells, std::max<int64_t>(int64_t{1} << 16, 2 * n));
}

LabelRange ScanLabels(const int32_t* x, int64_t n, ThreadPool* pool) {
  return Scan(RangeI32, x, n, pool);
}

LabelRange ScanLabels(const int64_t* x, int64_t n, ThreadPool* pool) {
  return Scan(RangeI64, x, n, pool);
}

// The four overloads declared in mutual_information.h.
#define MFHRL_MUTUAL_INFORMATION(TX, TY)                                                       \
  bool MutualInformation(const TX* x, const TY* y, int64_t n, MutualInformationResult* result, \
                         ThreadPool* pool) {                                                   \
    return Compute(x, y, n, pool, result);                                                     \
  }
MFHRL_MUTUAL_INFORMATION(int32_t, int32_t)
MFHRL_MUTUAL_INFORMATION(int32_t, int64_t)
MFHRL_MUTUAL_INFORMATION(int64_t, int32_t)
MFHRL_MUTUAL_INFORMATION(int64_t, int64_t)
#undef MFHRL_MUTUAL_INFORMATION

}  // namespace info
}  // namespace mfhrl
