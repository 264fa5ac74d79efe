// Plug-in and Miller-Madow mutual information of paired discrete samples
// (the engine's information module). Usable without Python.
//
// Labels are non-negative integers (int32 or int64, read in place). The joint
// histogram is dense when (max_x + 1) * (max_y + 1) is moderate; otherwise the
// labels are first remapped to 0..k-1 (distinct values in increasing order) and,
// if the pairs are still too many for a dense table, counted by sorting. Large
// inputs are histogrammed in parallel (one histogram per chunk of samples,
// merged in chunk order). All counts are integers and the final table's shape
// depends only on the data, so the result does not depend on the thread count
// (nor on which path counted the pairs: the cells are visited in the same
// order).
#ifndef MFHRL_ESTIMATORS_MUTUAL_INFORMATION_H_
#define MFHRL_ESTIMATORS_MUTUAL_INFORMATION_H_

#include <cstdint>

namespace mfhrl {

class ThreadPool;

namespace info {

// Smallest and largest value of x[0..n), n >= 1.
struct LabelRange {
  int64_t min = 0;
  int64_t max = 0;
};
LabelRange ScanLabels(const int32_t* x, int64_t n, ThreadPool* pool = nullptr);
LabelRange ScanLabels(const int64_t* x, int64_t n, ThreadPool* pool = nullptr);

struct MutualInformationResult {
  // Plug-in MI in nats: sum_ij (n_ij / n) log(n n_ij / (a_i b_j)) over the
  // observed pairs (a, b: marginal counts), each term computed as one log of a
  // ratio (no cancellation between large entropies), summed in (i, j) order,
  // then clipped at 0 (a negative value can only be rounding, ~1e-17), as
  // sklearn.metrics.mutual_info_score does.
  double plugin = 0.0;
  // H_MM(X) + H_MM(Y) - H_MM(X, Y) with H_MM = plug-in + (support - 1) / (2n):
  // the unclipped plug-in sum + (support_x + support_y - support_xy - 1) / (2n).
  // Not clipped: it can be negative.
  double miller_madow = 0.0;
  // Plug-in entropies in nats.
  double entropy_x = 0.0;
  double entropy_y = 0.0;
  double entropy_xy = 0.0;
  // Numbers of distinct observed values of x, y and (x, y).
  int64_t support_x = 0;
  int64_t support_y = 0;
  int64_t support_xy = 0;
};

// MI of the pairs (x[i], y[i]), i < n (n >= 1), into *result. Returns false,
// leaving *result unspecified, when a label is negative (the one check made
// here, because it comes free with the single pass below; use ScanLabels for
// the offending value).
//
// One pass over the data: each chunk of samples is read in blocks of 1024;
// a block's label range is checked (vectorised) and its pairs counted in the
// chunk's dense table, which grows (re-laid out) when a block exceeds it. If
// the table would pass DenseCellLimit(n), the labels are rescanned, remapped
// to 0..k-1 and counted in a dense table of the codes or, failing that, by
// sorting the pairs.
bool MutualInformation(const int32_t* x, const int32_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool = nullptr);
bool MutualInformation(const int32_t* x, const int64_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool = nullptr);
bool MutualInformation(const int64_t* x, const int32_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool = nullptr);
bool MutualInformation(const int64_t* x, const int64_t* y, int64_t n,
                       MutualInformationResult* result, ThreadPool* pool = nullptr);

// Largest number of cells of a dense joint table for n samples: dense when
// (max_x + 1) * (max_y + 1) <= DenseCellLimit(n), i.e. at most
// max(2^16, 2 n) cells and never more than 2^22 (16 MiB of uint32 per thread).
int64_t DenseCellLimit(int64_t n);

}  // namespace info
}  // namespace mfhrl

#endif  // MFHRL_ESTIMATORS_MUTUAL_INFORMATION_H_
