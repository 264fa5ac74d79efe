// The ensemble critics' hidden-layer tail, LayerNorm -> per-member affine -> ReLU,
// fused into one pass over each row, forward and backward (float32).
//
// PyTorch runs the three as separate kernels (layer_norm, addcmul, relu), each
// streaming the (members, rows, dim) activations through memory again, and their
// backward as four more; for the 64-wide layers of the demo those passes, not the
// matrix products, were most of a critic's time. Here one row of `dim` values is
// read once and stays in L1 while its statistics, output and gradients are made.
//
// The input is x + bias: the layer's matrix product and its bias, whose add
// (a broadcast copy in torch.baddbmm) is folded in here too.
//
// Layout: x, y, dy, dx (members, rows, dim); bias, scale, shift, dbias, dscale,
// dshift (members, dim); mean, rstd (members, rows). All C-contiguous. The
// binding (bind/nn.cc) checks shapes and dtypes; these loops trust them.
#ifndef MFHRL_NN_LAYER_NORM_RELU_H_
#define MFHRL_NN_LAYER_NORM_RELU_H_

#include <cstdint>

namespace mfhrl {

class ThreadPool;

namespace nn {

struct LayerNormShape {
  int64_t members;
  int64_t rows;  // per member
  int64_t dim;
};

// Pointers to the per-member vectors (members, dim); bias may be null (none).
struct LayerNormParams {
  const float* bias;
  const float* scale;
  const float* shift;
};

// y = relu(scale * (v - mean) * rstd + shift) for v = x + bias, with mean and
// rstd = 1 / sqrt(var + eps) of each row of v (biased variance, as
// torch.nn.functional.layer_norm), which are also written out for the backward.
// `pool` (may be null) splits the members.
void LayerNormReluForward(const float* x, LayerNormParams params, LayerNormShape shape,
                          float eps, float* y, float* mean, float* rstd, ThreadPool* pool);

// Gradients of the forward above given dy. Each output may be null (not wanted):
// dx, dbias (its sum over the rows), and dscale with dshift (both or neither);
// those given are overwritten. The normalised input and the ReLU's mask are
// recomputed from x, bias, mean and rstd, so the forward keeps no activations.
struct LayerNormGrads {
  float* dx;
  float* dbias;
  float* dscale;
  float* dshift;
};
void LayerNormReluBackward(const float* dy, const float* x, LayerNormParams params,
                           const float* mean, const float* rstd, LayerNormShape shape,
                           LayerNormGrads grads, ThreadPool* pool);

}  // namespace nn
}  // namespace mfhrl

#endif  // MFHRL_NN_LAYER_NORM_RELU_H_
