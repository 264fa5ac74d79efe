// Plug-in and Miller-Madow entropies of probability rows and of count rows
// (the engine's information module). Usable without Python.
//
// Every function here trusts its inputs (see "Preconditions"); the Python
// bindings (cpp/bind/info.cc) validate before calling. Large inputs are split
// over the rows of `pool` (nullptr: the calling thread only). Each row is
// computed by the same code whatever the split and whatever SIMD clone the CPU
// selects, so results are bitwise independent of the thread count and the CPU.
#ifndef MFHRL_ESTIMATORS_ENTROPY_H_
#define MFHRL_ESTIMATORS_ENTROPY_H_

#include <cstdint>

namespace mfhrl {

class ThreadPool;

namespace info {

enum class EntropyEstimator {
  kPlugin,       // H = -sum_j q_j log q_j, q = row / sum(row)
  kMillerMadow,  // plug-in + (m_nonzero - 1) / (2 N), N = sum(row)
};

// Shannon entropy of each row of a row-major (rows, m) array, in units of
// log(base): out[r] = H(row r) / log_base (log_base = 1 gives nats, log(2) bits).
// Rows are normalised by their sum like scipy.stats.entropy: q_j = p_j / sum(p),
// H = -sum_j q_j log q_j, entries equal to 0 contribute 0. Row sums and the
// sums of terms run in a fixed order (sequential below 16 entries, eight
// interleaved partial sums above).
// Invalid rows are not an error but give out[r] = NaN: a row holding a
// negative, NaN or infinite entry, or summing to 0 or to +inf (overflow).
// This is the validation: callers check the output for NaN (FindNaN) instead
// of making a separate pass over the input.
// Preconditions: rows >= 0, m >= 1, log_base finite and != 0.
void EntropyRows(const double* p, int64_t rows, int64_t m, double log_base, double* out,
                 ThreadPool* pool = nullptr);

// Entropy of count rows (histograms) with the given estimator, in units of
// log(base). kPlugin equals EntropyRows on the counts; kMillerMadow adds
// (m_nonzero - 1) / (2 N) nats, where m_nonzero is the number of positive
// entries of the row and N its sum. Floating-point counts need not be integers.
// Invalid rows (a negative, NaN or infinite count, a zero sum) give NaN, as in
// EntropyRows. Preconditions: as EntropyRows.
void EntropyCountRows(const int32_t* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool = nullptr);
void EntropyCountRows(const int64_t* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool = nullptr);
void EntropyCountRows(const double* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool = nullptr);

// Index of the first NaN in x[0..n) (e.g. an invalid row of EntropyRows), or -1.
int64_t FindNaN(const double* x, int64_t n, ThreadPool* pool = nullptr);

// The natural logarithm the kernels use, for finite x > 0 (normal or
// subnormal): fdlibm's e_log.c algorithm made branch-free so it vectorises
// (reduction to [sqrt(2)/2, sqrt(2)), degree-7 minimax polynomial in s^2,
// s = f / (2 + f)). Error below 1 ulp as in fdlibm, i.e. relative error
// < 2.3e-16; cpp/examples/info_check measures at most 1 ulp from glibc's
// std::log over random doubles of every exponent. Exposed for that check.
double Log(double x);

}  // namespace info
}  // namespace mfhrl

#endif  // MFHRL_ESTIMATORS_ENTROPY_H_
