// Fused bias -> LayerNorm -> affine -> ReLU (layer_norm_relu.h). Each row is
// handled by a few short loops over `dim` that GCC vectorises (the reductions
// through `omp simd`, built with -fopenmp-simd); the rows of one member share
// its vectors, and the members are split across the pool. The loops are
// instantiated for the common widths 64, 128 and 256 (a known trip count halves
// the time per row against a runtime one, measured at 64) and once for any other.
#include "nn/layer_norm_relu.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "estimators/parallel.h"

namespace mfhrl {
namespace nn {
namespace {

using info::detail::ForEachChunk;
using info::detail::NumChunks;

// The row's input: x itself, or x + bias written into `v`.
MFHRL_ALWAYS_INLINE const float* RowInput(const float* x, const float* bias, int64_t n,
                                          float* v) {
  if (!bias) return x;
#pragma omp simd
  for (int64_t d = 0; d < n; ++d) v[d] = x[d] + bias[d];
  return v;
}

// kDim: the row width when known at compile time, 0 for s.dim.
template <int kDim>
MFHRL_ALWAYS_INLINE void ForwardMembers(const float* x, LayerNormParams p, LayerNormShape s,
                                        float eps, float* y, float* mean, float* rstd,
                                        int64_t m0, int64_t m1, float* v) {
  const int64_t n = kDim > 0 ? kDim : s.dim;
  const float inv_dim = 1.0f / static_cast<float>(n);
  for (int64_t m = m0; m < m1; ++m) {
    const float* bias = p.bias ? p.bias + m * n : nullptr;
    const float* g = p.scale + m * n;
    const float* b = p.shift + m * n;
    for (int64_t r = m * s.rows; r < (m + 1) * s.rows; ++r) {
      const float* in = RowInput(x + r * n, bias, n, v);
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t d = 0; d < n; ++d) sum += in[d];
      const float mu = sum * inv_dim;
      float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
      for (int64_t d = 0; d < n; ++d) {
        const float c = in[d] - mu;
        sq += c * c;
      }
      const float rs = 1.0f / std::sqrt(sq * inv_dim + eps);
      float* yr = y + r * n;
#pragma omp simd
      for (int64_t d = 0; d < n; ++d) {
        const float z = (in[d] - mu) * rs * g[d] + b[d];
        yr[d] = z < 0.0f ? 0.0f : z;  // NaN passes, as in torch.relu
      }
      mean[r] = mu;
      rstd[r] = rs;
    }
  }
}

// dz = relu'(z) dy; dvhat = dz scale; dv = rstd (dvhat - mean(dvhat) - vhat mean(dvhat vhat)).
template <int kDim>
MFHRL_ALWAYS_INLINE void BackwardMembers(const float* dy, const float* x, LayerNormParams p,
                                         const float* mean, const float* rstd, LayerNormShape s,
                                         LayerNormGrads out, int64_t m0, int64_t m1,
                                         float* work) {
  const int64_t n = kDim > 0 ? kDim : s.dim;
  const float inv_dim = 1.0f / static_cast<float>(n);
  float* vhat = work;
  float* dz = work + n;
  float* dv_row = work + 2 * n;
  for (int64_t m = m0; m < m1; ++m) {
    const float* bias = p.bias ? p.bias + m * n : nullptr;
    const float* g = p.scale + m * n;
    const float* b = p.shift + m * n;
    float* dg = out.dscale ? out.dscale + m * n : nullptr;
    float* db = out.dshift ? out.dshift + m * n : nullptr;
    float* dbias = out.dbias ? out.dbias + m * n : nullptr;
    for (float* grad : {dg, db, dbias}) {
      if (grad) std::memset(grad, 0, sizeof(float) * n);
    }
    for (int64_t r = m * s.rows; r < (m + 1) * s.rows; ++r) {
      const float* in = RowInput(x + r * n, bias, n, vhat);
      const float* dyr = dy + r * n;
      const float mu = mean[r], rs = rstd[r];
      float s1 = 0.0f, s2 = 0.0f;
#pragma omp simd reduction(+ : s1, s2)
      for (int64_t d = 0; d < n; ++d) {
        const float h = (in[d] - mu) * rs;
        const float grad = h * g[d] + b[d] <= 0.0f ? 0.0f : dyr[d];  // as threshold_backward
        vhat[d] = h;
        dz[d] = grad;
        const float dh = grad * g[d];
        s1 += dh;
        s2 += dh * h;
      }
      if (dg) {
#pragma omp simd
        for (int64_t d = 0; d < n; ++d) {
          dg[d] += dz[d] * vhat[d];
          db[d] += dz[d];
        }
      }
      if (out.dx || dbias) {
        float* dv = out.dx ? out.dx + r * n : dv_row;
        const float a = s1 * inv_dim, c = s2 * inv_dim;
#pragma omp simd
        for (int64_t d = 0; d < n; ++d) dv[d] = rs * (dz[d] * g[d] - a - vhat[d] * c);
        if (dbias) {
#pragma omp simd
          for (int64_t d = 0; d < n; ++d) dbias[d] += dv[d];
        }
      }
    }
  }
}

MFHRL_SIMD_CLONES
void ForwardAnyWidth(const float* x, LayerNormParams p, LayerNormShape s, float eps, float* y,
                     float* mean, float* rstd, int64_t m0, int64_t m1, float* v) {
  switch (s.dim) {
    case 64: return ForwardMembers<64>(x, p, s, eps, y, mean, rstd, m0, m1, v);
    case 128: return ForwardMembers<128>(x, p, s, eps, y, mean, rstd, m0, m1, v);
    case 256: return ForwardMembers<256>(x, p, s, eps, y, mean, rstd, m0, m1, v);
    default: return ForwardMembers<0>(x, p, s, eps, y, mean, rstd, m0, m1, v);
  }
}

MFHRL_SIMD_CLONES
void BackwardAnyWidth(const float* dy, const float* x, LayerNormParams p, const float* mean,
                      const float* rstd, LayerNormShape s, LayerNormGrads out, int64_t m0,
                      int64_t m1, float* work) {
  switch (s.dim) {
    case 64: return BackwardMembers<64>(dy, x, p, mean, rstd, s, out, m0, m1, work);
    case 128: return BackwardMembers<128>(dy, x, p, mean, rstd, s, out, m0, m1, work);
    case 256: return BackwardMembers<256>(dy, x, p, mean, rstd, s, out, m0, m1, work);
    default: return BackwardMembers<0>(dy, x, p, mean, rstd, s, out, m0, m1, work);
  }
}

}  // namespace

void LayerNormReluForward(const float* x, LayerNormParams params, LayerNormShape shape,
                          float eps, float* y, float* mean, float* rstd, ThreadPool* pool) {
  const int chunks = NumChunks(pool, shape.members, 1);
  std::vector<float> work(static_cast<size_t>(shape.dim * chunks));
  ForEachChunk(pool, chunks, shape.members, [&](int chunk, int64_t m0, int64_t m1) {
    ForwardAnyWidth(x, params, shape, eps, y, mean, rstd, m0, m1,
                    work.data() + shape.dim * chunk);
  });
}

void LayerNormReluBackward(const float* dy, const float* x, LayerNormParams params,
                           const float* mean, const float* rstd, LayerNormShape shape,
                           LayerNormGrads grads, ThreadPool* pool) {
  const int chunks = NumChunks(pool, shape.members, 1);
  std::vector<float> work(static_cast<size_t>(3 * shape.dim * chunks));
  ForEachChunk(pool, chunks, shape.members, [&](int chunk, int64_t m0, int64_t m1) {
    BackwardAnyWidth(dy, x, params, mean, rstd, shape, grads, m0, m1,
                     work.data() + 3 * shape.dim * chunk);
  });
}

}  // namespace nn
}  // namespace mfhrl
