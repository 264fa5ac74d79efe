#include "estimators/entropy.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "core/thread_pool.h"
#include "estimators/parallel.h"

namespace mfhrl {
namespace info {
namespace {

using detail::ForEachChunk;
using detail::NumChunks;

// Work below these sizes stays on the calling thread (waking workers costs more).
constexpr int64_t kMinParallelElements = int64_t{1} << 15;
// Scratch length (doubles) of the entropy kernel: two such arrays live in L1.
constexpr int64_t kBlock = 1024;  // a multiple of 8 (see LaneSum)
constexpr double kMaxFinite = std::numeric_limits<double>::max();

MFHRL_ALWAYS_INLINE uint64_t Bits(double x) {
  uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

MFHRL_ALWAYS_INLINE double FromBits(uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// log(x) for finite x >= 0 (log(0) returns -1077 log 2, a finite stand-in that
// XLogX relies on): fdlibm e_log.c without its branches. Write
// x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), s = f / (2 + f); then
// log(1 + f) = f - hfsq + s (hfsq + R(s^2)), hfsq = f^2 / 2, R a degree-7 minimax
// polynomial in s^2 (|error| < 2^-58.45 on the interval). Subnormal x is scaled
// by 2^54 first. Only +, -, *, /, bit operations and selects: vectorises, and
// rounds identically in every SIMD width.
MFHRL_ALWAYS_INLINE double LogPositive(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
  constexpr double kLg1 = 6.666666666666735130e-01;
  constexpr double kLg2 = 3.999999999940941908e-01;
  constexpr double kLg3 = 2.857142874366239149e-01;
  constexpr double kLg4 = 2.222219843214978396e-01;
  constexpr double kLg5 = 1.818357216161805012e-01;
  constexpr double kLg6 = 1.531383769920937332e-01;
  constexpr double kLg7 = 1.479819860511658591e-01;
  // Selects pick constants only, never a value that feeds the long
  // computation below: GCC would otherwise evaluate the whole log twice (once
  // per arm) and blend.
  const bool subnormal = x < 0x1p-1022;
  const double xs = x * (subnormal ? 0x1p54 : 1.0);
  const double k_adjust = subnormal ? -54.0 : 0.0;
  const uint64_t u = Bits(xs);
  const uint64_t mantissa = u & 0x000fffffffffffffULL;
  const uint64_t biased_exponent = u >> 52;  // x > 0: the sign bit is 0
  // 1 when 1.mantissa >= ~sqrt(2): then use x / 2 in [sqrt(2)/2, 1) and k + 1.
  const uint64_t up = (mantissa + 0x00095f6400000000ULL) >> 52;
  const double reduced = FromBits(mantissa | ((0x3ffULL - up) << 52));
  // (double)(biased_exponent + up) without an int64 -> double conversion
  // (which AVX2 lacks): the integer is < 2^52, so place it in a mantissa.
  const double k = (FromBits(0x4330000000000000ULL | (biased_exponent + up)) - 0x1p52) - 1023.0 +
                   k_adjust;
  const double f = reduced - 1.0;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (kLg2 + w * (kLg4 + w * kLg6));
  const double t2 = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7)));
  const double r = t2 + t1;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + k * kLn2Lo)) - f);
}

// q log q for q >= 0. LogPositive(0) is finite (-1077 log 2: the subnormal
// path sees a zero mantissa), so q == 0 gives (-)0 with no special case. A
// negative or NaN q (invalid entry, zero-sum row) gives NaN, which marks the
// row; the select is on the result only, so the log is computed once.
MFHRL_ALWAYS_INLINE double XLogX(double q) {
  const double term = q * LogPositive(q);
  return q >= 0.0 ? term : std::numeric_limits<double>::quiet_NaN();
}

// Entropy of one row from the sum of its terms q log q. NaN when the row is
// invalid: a NaN term (negative or NaN entry) propagates through the sum, and
// an infinite entry makes the row sum infinite.
MFHRL_ALWAYS_INLINE double FinishRow(double sum_xlogx, double row_sum, int64_t nonzero,
                                     bool miller_madow, double log_base) {
  if (!(row_sum > 0.0 && row_sum <= kMaxFinite)) return std::numeric_limits<double>::quiet_NaN();
  double h = 0.0 - sum_xlogx;  // +0.0, not -0.0, for a one-point distribution
  if (miller_madow) h += static_cast<double>(nonzero - 1) / (2.0 * row_sum);
  return h / log_base;
}

// Fixed-order summation (the same bits whatever the thread count or clone):
// sequential for fewer than 16 values; otherwise eight interleaved partial sums
// (lane j takes elements j, j + 8, ...), combined as
// ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then the n % 8 tail in
// order. The lanes vectorise without reassociation and, like NumPy's pairwise
// summation, are more accurate than one long sequential sum.
constexpr int64_t kMinLaneSum = 16;

struct LaneSum {
  double lane[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};

  template <typename T>
  MFHRL_ALWAYS_INLINE void Add(const T* v, int64_t n8) {  // n8: a multiple of 8
    for (int64_t i = 0; i < n8; i += 8) {
      for (int j = 0; j < 8; ++j) lane[j] += static_cast<double>(v[i + j]);
    }
  }
  MFHRL_ALWAYS_INLINE double Total() const {
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
};

template <typename T>
MFHRL_ALWAYS_INLINE double FixedOrderSum(const T* v, int64_t n) {
  double total = 0.0;
  int64_t i = 0;
  if (n >= kMinLaneSum) {
    LaneSum s;
    i = n - n % 8;
    s.Add(v, i);
    total = s.Total();
  }
  for (; i < n; ++i) total += static_cast<double>(v[i]);
  return total;
}

template <typename T>
MFHRL_ALWAYS_INLINE int64_t CountPositive(const T* v, int64_t n) {
  int64_t nz = 0;
  for (int64_t i = 0; i < n; ++i) nz += v[i] > 0;
  return nz;
}

// Rows [r0, r1) of a (rows, m) array. For every row: s = FixedOrderSum(row),
// terms t_j = q_j log q_j with q_j = p_j / s (exactly scipy's normalisation),
// H = -FixedOrderSum(t). Short rows are processed many at a time with a
// per-element denominator, so the vectorised term loop runs over a whole
// block; long rows in chunks. Both give the same bits for a row.
template <int kM, typename T>
MFHRL_ALWAYS_INLINE void EntropyRange(const T* p, int64_t r0, int64_t r1, int64_t m_runtime,
                                      double log_base, bool miller_madow, double* out) {
  // kM > 0: the row length as a compile-time constant, so the short per-row
  // loops unroll (same arithmetic, same order: only faster).
  const int64_t m = kM > 0 ? kM : m_runtime;
  alignas(64) double den[kBlock];
  alignas(64) double terms[kBlock];
  if (m <= kBlock / 4) {
    const int64_t rows_per_block = kBlock / m;
    for (int64_t b0 = r0; b0 < r1; b0 += rows_per_block) {
      const int64_t nb = std::min(r1 - b0, rows_per_block);
      const T* x = p + b0 * m;
      for (int64_t r = 0; r < nb; ++r) {
        const double s = FixedOrderSum(x + r * m, m);
        for (int64_t j = 0; j < m; ++j) den[r * m + j] = s;
      }
      const int64_t n = nb * m;
      for (int64_t i = 0; i < n; ++i) terms[i] = XLogX(static_cast<double>(x[i]) / den[i]);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t nz = miller_madow ? CountPositive(x + r * m, m) : 0;
        out[b0 + r] =
            FinishRow(FixedOrderSum(terms + r * m, m), den[r * m], nz, miller_madow, log_base);
      }
    }
    return;
  }
  // Long rows (m > kBlock / 4 >= kMinLaneSum): lanes carried across chunks
  // (kBlock is a multiple of 8), so the order is FixedOrderSum's.
  for (int64_t r = r0; r < r1; ++r) {
    const T* x = p + r * m;
    const double s = FixedOrderSum(x, m);
    LaneSum acc;
    double total = 0.0;
    for (int64_t j0 = 0; j0 < m; j0 += kBlock) {
      const int64_t n = std::min(kBlock, m - j0);
      for (int64_t i = 0; i < n; ++i) terms[i] = XLogX(static_cast<double>(x[j0 + i]) / s);
      const int64_t n8 = n - n % 8;
      acc.Add(terms, n8);
      if (n8 < n) {  // the last chunk's tail
        total = acc.Total();
        for (int64_t i = n8; i < n; ++i) total += terms[i];
      }
    }
    if (m % 8 == 0) total = acc.Total();
    const int64_t nz = miller_madow ? CountPositive(x, m) : 0;
    out[r] = FinishRow(total, s, nz, miller_madow, log_base);
  }
}

// Short rows (the L ~ 5 members of a posterior, small histograms) get
// unrolled specialisations.
template <typename T>
MFHRL_ALWAYS_INLINE void EntropyDispatch(const T* p, int64_t r0, int64_t r1, int64_t m,
                                         double log_base, bool miller_madow, double* out) {
  switch (m) {
    case 2: return EntropyRange<2>(p, r0, r1, m, log_base, miller_madow, out);
    case 3: return EntropyRange<3>(p, r0, r1, m, log_base, miller_madow, out);
    case 4: return EntropyRange<4>(p, r0, r1, m, log_base, miller_madow, out);
    case 5: return EntropyRange<5>(p, r0, r1, m, log_base, miller_madow, out);
    case 6: return EntropyRange<6>(p, r0, r1, m, log_base, miller_madow, out);
    case 8: return EntropyRange<8>(p, r0, r1, m, log_base, miller_madow, out);
    default: return EntropyRange<0>(p, r0, r1, m, log_base, miller_madow, out);
  }
}

MFHRL_SIMD_CLONES void EntropyKernelF64(const double* p, int64_t r0, int64_t r1, int64_t m,
                                        double log_base, bool miller_madow, double* out) {
  EntropyDispatch(p, r0, r1, m, log_base, miller_madow, out);
}

MFHRL_SIMD_CLONES void EntropyKernelI32(const int32_t* p, int64_t r0, int64_t r1, int64_t m,
                                        double log_base, bool miller_madow, double* out) {
  EntropyDispatch(p, r0, r1, m, log_base, miller_madow, out);
}

MFHRL_SIMD_CLONES void EntropyKernelI64(const int64_t* p, int64_t r0, int64_t r1, int64_t m,
                                        double log_base, bool miller_madow, double* out) {
  EntropyDispatch(p, r0, r1, m, log_base, miller_madow, out);
}

template <typename T, typename Kernel>
void RunRows(Kernel kernel, const T* p, int64_t rows, int64_t m, bool miller_madow,
             double log_base, double* out, ThreadPool* pool) {
  const int64_t grain = std::max<int64_t>(1, kMinParallelElements / std::max<int64_t>(1, m));
  const int chunks = NumChunks(pool, rows, grain);
  ForEachChunk(pool, chunks, rows, [&](int, int64_t begin, int64_t end) {
    kernel(p, begin, end, m, log_base, miller_madow, out);
  });
}

// First index in [b, e) failing `ok`, or -1; tests a block at a time with a
// branch-free (vectorisable) reduction and only rescans a failing block.
template <typename T, typename Ok>
MFHRL_ALWAYS_INLINE int64_t FirstFailing(const T* x, int64_t b, int64_t e, Ok ok) {
  constexpr int64_t kScan = 2048;
  for (int64_t i0 = b; i0 < e; i0 += kScan) {
    const int64_t i1 = std::min(e, i0 + kScan);
    int bad = 0;
    for (int64_t i = i0; i < i1; ++i) bad |= !ok(x[i]);
    if (bad) {
      for (int64_t i = i0; i < i1; ++i) {
        if (!ok(x[i])) return i;
      }
    }
  }
  return -1;
}

MFHRL_SIMD_CLONES int64_t FirstNaNF64(const double* x, int64_t b, int64_t e) {
  return FirstFailing(x, b, e, [](double v) { return v == v; });
}

template <typename T, typename Kernel>
int64_t FindFirst(Kernel kernel, const T* x, int64_t n, ThreadPool* pool) {
  const int chunks = NumChunks(pool, n, kMinParallelElements);
  std::vector<int64_t> first(chunks, -1);
  ForEachChunk(pool, chunks, n,
               [&](int c, int64_t begin, int64_t end) { first[c] = kernel(x, begin, end); });
  for (int64_t f : first) {
    if (f >= 0) return f;
  }
  return -1;
}

}  // namespace

double Log(double x) { return LogPositive(x); }

void EntropyRows(const double* p, int64_t rows, int64_t m, double log_base, double* out,
                 ThreadPool* pool) {
  RunRows(EntropyKernelF64, p, rows, m, false, log_base, out, pool);
}

void EntropyCountRows(const int32_t* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool) {
  RunRows(EntropyKernelI32, counts, rows, m, estimator == EntropyEstimator::kMillerMadow, log_base,
          out, pool);
}

void EntropyCountRows(const int64_t* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool) {
  RunRows(EntropyKernelI64, counts, rows, m, estimator == EntropyEstimator::kMillerMadow, log_base,
          out, pool);
}

void EntropyCountRows(const double* counts, int64_t rows, int64_t m, EntropyEstimator estimator,
                      double log_base, double* out, ThreadPool* pool) {
  RunRows(EntropyKernelF64, counts, rows, m, estimator == EntropyEstimator::kMillerMadow, log_base,
          out, pool);
}

int64_t FindNaN(const double* x, int64_t n, ThreadPool* pool) {
  return FindFirst(FirstNaNF64, x, n, pool);
}

}  // namespace info
}  // namespace mfhrl
