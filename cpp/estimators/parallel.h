// Internal helpers of the estimators: chunked parallel loops and SIMD clones.
#ifndef MFHRL_ESTIMATORS_PARALLEL_H_
#define MFHRL_ESTIMATORS_PARALLEL_H_

#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"

// Kernels marked MFHRL_SIMD_CLONES are compiled three times (AVX-512F, AVX2,
// baseline x86-64) and the loader picks the best one for the running CPU (GCC
// function multi-versioning, x86-64 Linux only; elsewhere one plain version).
// Their translation units are built with -ffp-contract=off (no fused
// multiply-add), so every clone rounds every operation identically and the
// results do not depend on the CPU; and with -fno-trapping-math, without which
// GCC will not if-convert (so not vectorise) the floating-point selects.
// Not under ThreadSanitizer: the loader runs the clones' resolver before the TSan
// runtime is up, and the instrumented resolver crashes (the sanitizer job of .ci/run).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__)
#define MFHRL_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MFHRL_SIMD_CLONES
#endif

#if defined(__GNUC__)
#define MFHRL_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MFHRL_ALWAYS_INLINE inline
#endif

namespace mfhrl {
namespace info {
namespace detail {

// Number of chunks ForEachChunk uses for n items: one per thread of `pool`,
// but none smaller than min_grain items, and one without a pool.
inline int NumChunks(const ThreadPool* pool, int64_t n, int64_t min_grain) {
  if (pool == nullptr || n <= min_grain) return 1;
  const int64_t by_grain = std::max<int64_t>(1, n / min_grain);
  return static_cast<int>(std::min<int64_t>(pool->num_threads(), by_grain));
}

// Calls fn(chunk, begin, end) for the `chunks` contiguous pieces of [0, n), in
// parallel on `pool`. The split depends only on n and chunks.
template <typename Fn>
void ForEachChunk(ThreadPool* pool, int chunks, int64_t n, Fn&& fn) {
  if (chunks < 1) chunks = 1;
  auto run = [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      fn(static_cast<int>(c), n * c / chunks, n * (c + 1) / chunks);
    }
  };
  if (chunks <= 1 || pool == nullptr) {
    run(0, chunks);
    return;
  }
  pool->ParallelFor(chunks, run);
}

}  // namespace detail
}  // namespace info
}  // namespace mfhrl

#endif  // MFHRL_ESTIMATORS_PARALLEL_H_
