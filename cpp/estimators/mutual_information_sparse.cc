// The mutual information estimator's fallback for labels too spread out for
// the single pass's dense table: the labels are remapped to 0..k-1 (a lookup
// table or sorting) and counted in a dense table of the codes or, when even
// that is too large, by sorting the pairs. Every path visits the observed
// cells in the same (i, j) order, so they all give the same result.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "estimators/mutual_information.h"
#include "estimators/mutual_information_detail.h"
#include "estimators/parallel.h"

namespace mfhrl {
namespace info {
namespace detail {
namespace {

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

}  // namespace

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

template bool Sparse(const int32_t*, const int32_t*, int64_t, ThreadPool*,
                     MutualInformationResult*);
template bool Sparse(const int32_t*, const int64_t*, int64_t, ThreadPool*,
                     MutualInformationResult*);
template bool Sparse(const int64_t*, const int32_t*, int64_t, ThreadPool*,
                     MutualInformationResult*);
template bool Sparse(const int64_t*, const int64_t*, int64_t, ThreadPool*,
                     MutualInformationResult*);

}  // namespace detail
}  // namespace info
}  // namespace mfhrl
