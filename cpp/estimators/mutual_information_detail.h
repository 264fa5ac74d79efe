// Internal to the mutual information estimator, shared by its two translation
// units: mutual_information.cc (the public entry points and the single pass
// of per-chunk dense tables) and mutual_information_sparse.cc (the fallback
// when that table would be too large: remapped labels, then a dense table of
// the codes or sorted pairs). Not part of the public API.
#ifndef MFHRL_ESTIMATORS_MUTUAL_INFORMATION_DETAIL_H_
#define MFHRL_ESTIMATORS_MUTUAL_INFORMATION_DETAIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "estimators/mutual_information.h"

namespace mfhrl {

class ThreadPool;

namespace info {
namespace detail {

// Inputs below these sizes stay on the calling thread.
constexpr int64_t kMinParallelSamples = int64_t{1} << 16;
constexpr int64_t kMinParallelCells = int64_t{1} << 15;

// sum_c c log c over the positive counts, in order.
inline double SumXLogX(const std::vector<int64_t>& counts, int64_t* support) {
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

// Finish for a dense row-major (nx, ny) table of joint counts summing to n.
// In mutual_information.cc.
MutualInformationResult FinishDense(int64_t n, int64_t nx, int64_t ny,
                                    const std::vector<int64_t>& joint);

// After the single pass gave up (too many cells): exact ranges, remapped
// codes, then a dense table of the codes or sorted pairs. False when a label
// is negative. In mutual_information_sparse.cc, instantiated for int32_t and
// int64_t labels.
template <typename TX, typename TY>
bool Sparse(const TX* x, const TY* y, int64_t n, ThreadPool* pool,
            MutualInformationResult* result);

}  // namespace detail
}  // namespace info
}  // namespace mfhrl

#endif  // MFHRL_ESTIMATORS_MUTUAL_INFORMATION_DETAIL_H_
