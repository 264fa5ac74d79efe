#include "estimators/mutual_information.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "estimators/parallel.h"

namespace mfhrl {
namespace info {
namespace {

using detail::ForEachChunk;
using detail::NumChunks;

// Inputs below these sizes stay on the calling thread.
constexpr int64_t kMinParallelSamples = int64_t{1} << 16;
constexpr int64_t kMinParallelCells = int64_t{1} << 15;
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

// Joint counts of (x, y) in a dense row-major (nx, ny) table, nx * ny = cells.
// Each chunk of samples fills its own table (uint32 counts when a chunk has
// fewer than 2^32 samples), then the tables are added in chunk order.
template <typename Count, typename TX, typename TY>
void DenseJointParallel(const TX* x, const TY* y, int64_t n, int64_t ny, int64_t cells, int chunks,
                        ThreadPool* pool, std::vector<int64_t>& joint) {
  std::vector<std::vector<Count>> partial(chunks);
  ForEachChunk(pool, chunks, n, [&](int c, int64_t begin, int64_t end) {
    std::vector<Count>& h = partial[c];
    h.assign(cells, 0);  // allocated by the worker that fills it
    Count* hp = h.data();
    for (int64_t i = begin; i < end; ++i) ++hp[static_cast<int64_t>(x[i]) * ny + y[i]];
  });
  ForEachChunk(pool, NumChunks(pool, cells, kMinParallelCells), cells,
               [&](int, int64_t begin, int64_t end) {
                 for (int c = 0; c < chunks; ++c) {
                   const Count* hp = partial[c].data();
                   for (int64_t j = begin; j < end; ++j) joint[j] += static_cast<int64_t>(hp[j]);
                 }
               });
}

template <typename TX, typename TY>
std::vector<int64_t> DenseJoint(const TX* x, const TY* y, int64_t n, int64_t ny, int64_t cells,
                                ThreadPool* pool) {
  std::vector<int64_t> joint(cells, 0);
  const int chunks = NumChunks(pool, n, kMinParallelSamples);
  if (chunks == 1) {
    int64_t* jp = joint.data();
    for (int64_t i = 0; i < n; ++i) ++jp[static_cast<int64_t>(x[i]) * ny + y[i]];
  } else if (n / chunks + 1 < (int64_t{1} << 32)) {
    DenseJointParallel<uint32_t>(x, y, n, ny, cells, chunks, pool, joint);
  } else {
    DenseJointParallel<uint64_t>(x, y, n, ny, cells, chunks, pool, joint);
  }
  return joint;
}

// sum_c c log c over the positive counts, in order.
double SumXLogX(const std::vector<int64_t>& counts, int64_t* support) {
  double acc = 0.0;
  int64_t s = 0;
  for (int64_t c : counts) {
    if (c > 0) {
      const double d = static_cast<double>(c);
      acc += d * std::log(d);
      ++s;
    }
  }
  *support = s;
  return acc;
}

// Everything from the marginals a (x), b (y) and the observed cells, visited
// by for_each_cell(visit) as visit(i, j, count) in (i, j) order.
template <typename ForEachCell>
MutualInformationResult Finish(int64_t n, const std::vector<int64_t>& a,
                               const std::vector<int64_t>& b, ForEachCell for_each_cell) {
  MutualInformationResult r;
  const double dn = static_cast<double>(n);
  const double log_n = std::log(dn);
  r.entropy_x = log_n - SumXLogX(a, &r.support_x) / dn;
  r.entropy_y = log_n - SumXLogX(b, &r.support_y) / dn;
  double mi_acc = 0.0;
  double joint_xlogx = 0.0;
  int64_t support_xy = 0;
  for_each_cell([&](int64_t i, int64_t j, int64_t count) {
    const double c = static_cast<double>(count);
    mi_acc += c * std::log((dn * c) / (static_cast<double>(a[i]) * static_cast<double>(b[j])));
    joint_xlogx += c * std::log(c);
    ++support_xy;
  });
  r.support_xy = support_xy;
  r.entropy_xy = log_n - joint_xlogx / dn;
  const double raw = mi_acc / dn;
  r.plugin = std::max(raw, 0.0);
  r.miller_madow =
      raw + static_cast<double>(r.support_x + r.support_y - r.support_xy - 1) / (2.0 * dn);
  return r;
}

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

#define MFHRL_FILL_CHUNK(NAME, COUNT, TX, TY)                                               \
  MFHRL_SIMD_CLONES void NAME(const TX* x, const TY* y, int64_t b, int64_t e, int64_t limit, \
                              ChunkTable<COUNT>& t) {                                       \
    FillChunk(x, y, b, e, limit, t);                                                        \
  }
MFHRL_FILL_CHUNK(Fill32_32_32, uint32_t, int32_t, int32_t)
MFHRL_FILL_CHUNK(Fill32_32_64, uint32_t, int32_t, int64_t)
MFHRL_FILL_CHUNK(Fill32_64_32, uint32_t, int64_t, int32_t)
MFHRL_FILL_CHUNK(Fill32_64_64, uint32_t, int64_t, int64_t)
MFHRL_FILL_CHUNK(Fill64_32_32, uint64_t, int32_t, int32_t)
MFHRL_FILL_CHUNK(Fill64_32_64, uint64_t, int32_t, int64_t)
MFHRL_FILL_CHUNK(Fill64_64_32, uint64_t, int64_t, int32_t)
MFHRL_FILL_CHUNK(Fill64_64_64, uint64_t, int64_t, int64_t)
#undef MFHRL_FILL_CHUNK

// The (SIMD-cloned) chunk filler for these types.
template <typename Count, typename TX, typename TY>
struct Filler;
#define MFHRL_FILLER(NAME, COUNT, TX, TY) \
  template <>                             \
  struct Filler<COUNT, TX, TY> {          \
    static constexpr auto* kFill = &NAME; \
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

// Codes 0..k-1 of the distinct values of x[0..n) (0 <= x <= max), increasing
// with the value; returns k. A lookup table when max is moderate, else sorting.
template <typename T>
int64_t Remap(const T* x, int64_t n, int64_t max, std::vector<int64_t>& codes) {
  codes.resize(n);
  if (max < std::max<int64_t>(int64_t{1} << 16, 4 * n) && max < (int64_t{1} << 26)) {
    std::vector<int64_t> lut(max + 1, -1);
    for (int64_t i = 0; i < n; ++i) lut[x[i]] = 0;
    int64_t k = 0;
    for (int64_t& v : lut) {
      if (v == 0) v = k++;
    }
    for (int64_t i = 0; i < n; ++i) codes[i] = lut[x[i]];
    return k;
  }
  std::vector<T> values(x, x + n);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (int64_t i = 0; i < n; ++i) {
    codes[i] = std::lower_bound(values.begin(), values.end(), x[i]) - values.begin();
  }
  return static_cast<int64_t>(values.size());
}

// The number of cells of an nx by ny table, or -1 when it exceeds limit.
int64_t CellsWithin(int64_t nx, int64_t ny, int64_t limit) {
  if (nx > limit / ny) return -1;
  const int64_t cells = nx * ny;
  return cells <= limit ? cells : -1;
}

// After the single pass gave up (too many cells): exact ranges, remapped
// codes, then a dense table of the codes or sorted pairs.
template <typename TX, typename TY>
bool Sparse(const TX* x, const TY* y, int64_t n, ThreadPool* pool,
            MutualInformationResult* result) {
  const LabelRange rx = ScanLabels(x, n, pool);
  const LabelRange ry = ScanLabels(y, n, pool);
  if (rx.min < 0 || ry.min < 0) return false;
  const int64_t limit = DenseCellLimit(n);
  std::vector<int64_t> cx, cy;
  const int64_t kx = Remap(x, n, rx.max, cx);
  const int64_t ky = Remap(y, n, ry.max, cy);
  const int64_t cells = CellsWithin(kx, ky, limit);
  if (cells > 0) {
    *result = FinishDense(n, kx, ky, DenseJoint(cx.data(), cy.data(), n, ky, cells, pool));
    return true;
  }
  // Too many distinct pairs for a table: count the sorted pairs.
  std::vector<int64_t> a(kx, 0), b(ky, 0);
  std::vector<std::pair<int64_t, int64_t>> pairs(n);
  for (int64_t i = 0; i < n; ++i) {
    ++a[cx[i]];
    ++b[cy[i]];
    pairs[i] = {cx[i], cy[i]};
  }
  std::vector<int64_t>().swap(cx);
  std::vector<int64_t>().swap(cy);
  std::sort(pairs.begin(), pairs.end());
  *result = Finish(n, a, b, [&](auto&& visit) {
    for (int64_t i = 0; i < n;) {
      int64_t j = i + 1;
      while (j < n && pairs[j] == pairs[i]) ++j;
      visit(pairs[i].first, pairs[i].second, j - i);
      i = j;
    }
  });
  return true;
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
  return Sparse(x, y, n, pool, result);
}

}  // namespace

int64_t DenseCellLimit(int64_t n) {
  return std::min<int64_t>(kMaxDenseCells, std::max<int64_t>(int64_t{1} << 16, 2 * n));
}

LabelRange ScanLabels(const int32_t* x, int64_t n, ThreadPool* pool) {
  return Scan(RangeI32, x, n, pool);
}

LabelRange ScanLabels(const int64_t* x, int64_t n, ThreadPool* pool) {
  return Scan(RangeI64, x, n, pool);
}

bool MutualInformation(const int32_t* x, const int32_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool) {
  return Compute(x, y, n, pool, result);
}

bool MutualInformation(const int32_t* x, const int64_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool) {
  return Compute(x, y, n, pool, result);
}

bool MutualInformation(const int64_t* x, const int32_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool) {
  return Compute(x, y, n, pool, result);
}

bool MutualInformation(const int64_t* x, const int64_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool) {
  return Compute(x, y, n, pool, result);
}

}  // namespace info
}  // namespace mfhrl
