"""The fused CPU kernels (learners/fused.py, cpp/nn/): parity with their PyTorch reference,
gradients, the paths they take, and the binding's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mfhrl_fast import _core
from mfhrl_fast.learners import DiscriminatorConfig, FidelityDiscriminators, fused, losses
from mfhrl_fast.learners.nets import EnsembleMLP

from learn_support import ACT, OBS, make_learner, random_batch

# float32 LayerNorm over <= 256 units: the kernel and PyTorch sum in different orders.
TOL = {"atol": 2e-5, "rtol": 1e-4}


def ln_inputs(members: int, rows: int, dim: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = (3 * torch.randn(members, rows, dim, generator=gen) + 1).requires_grad_()
    scale = (1 + 0.3 * torch.randn(members, 1, dim, generator=gen)).requires_grad_()
    shift = (0.3 * torch.randn(members, 1, dim, generator=gen)).requires_grad_()
    bias = torch.randn(members, 1, dim, generator=gen).requires_grad_()
    return x, scale, shift, bias


@pytest.mark.parametrize("dim", [64, 128, 256, 7, 100])  # the specialised widths and others
@pytest.mark.parametrize("with_bias", [False, True])
def test_layer_norm_relu_matches_pytorch_forward_and_backward(dim, with_bias):
    x, scale, shift, bias = ln_inputs(3, 37, dim, seed=dim)
    inputs = (x, scale, shift, bias) if with_bias else (x, scale, shift)
    b = bias if with_bias else None
    y = fused.layer_norm_relu(x, scale, shift, b)
    assert y.grad_fn is not None and "LayerNormReLU" in type(y.grad_fn).__name__
    ref = fused.reference_layer_norm_relu(x, scale, shift, b)
    torch.testing.assert_close(y, ref, **TOL)
    assert (y == 0).float().mean() > 0.2  # the ReLU clips a good part, so its mask is tested
    dy = torch.randn_like(y)
    grads = torch.autograd.grad(y, inputs, dy)
    ref_grads = torch.autograd.grad(ref, inputs, dy)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, **TOL)


def test_layer_norm_relu_gradients_only_where_asked():
    """A detached scale and shift (the actor's pass through the critic) get no gradient;
    x alone still gets the reference's."""
    x, scale, shift, bias = ln_inputs(2, 5, 64)
    y = fused.layer_norm_relu(x, scale.detach(), shift.detach(), bias.detach())
    (dx,) = torch.autograd.grad(y.sum(), (x,))
    ref = fused.reference_layer_norm_relu(x, scale.detach(), shift.detach(), bias.detach())
    torch.testing.assert_close(dx, torch.autograd.grad(ref.sum(), (x,))[0], **TOL)
    y = fused.layer_norm_relu(x.detach(), scale, shift, bias)
    grads = torch.autograd.grad(y.sum(), (scale, shift, bias))
    assert all(g.shape == (2, 1, 64) for g in grads)


def test_layer_norm_relu_falls_back_off_float32_and_when_disabled():
    x, scale, shift, _ = ln_inputs(2, 4, 64)
    with fused.disabled():
        y = fused.layer_norm_relu(x, scale, shift)
    assert "LayerNormReLU" not in type(y.grad_fn).__name__
    y64 = fused.layer_norm_relu(x.double(), scale.double(), shift.double())
    assert y64.dtype == torch.float64
    torch.testing.assert_close(y64.float(), fused.layer_norm_relu(x, scale, shift), **TOL)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_kernel_threads_give_the_same_result(threads):
    x = np.random.default_rng(0).normal(size=(5, 9, 64)).astype(np.float32)
    scale, shift = np.ones((5, 64), np.float32), np.full((5, 64), 0.1, np.float32)

    def run(n: int) -> tuple[np.ndarray, ...]:
        y, mean, rstd = np.empty_like(x), np.empty((5, 9), np.float32), np.empty((5, 9),
                                                                                 np.float32)
        _core.nn.layer_norm_relu_forward(x, scale, shift, y, mean, rstd, num_threads=n)
        dx, ds, db = np.empty_like(x), np.empty_like(scale), np.empty_like(shift)
        _core.nn.layer_norm_relu_backward(x, x, scale, shift, mean, rstd, dx=dx, dscale=ds,
                                          dshift=db, num_threads=n)
        return y, mean, rstd, dx, ds, db

    for got, want in zip(run(threads), run(1), strict=True):
        np.testing.assert_array_equal(got, want)


def test_kernel_rejects_bad_arrays():
    x = np.zeros((2, 3, 8), np.float32)
    vec, stats = np.ones((2, 8), np.float32), np.zeros((2, 3), np.float32)
    forward = _core.nn.layer_norm_relu_forward
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        forward([[[0.0]]], vec, vec, x, stats, stats)
    with pytest.raises(TypeError, match="scale must be float32"):
        forward(x, vec.astype(np.float64), vec, x.copy(), stats, stats.copy())
    with pytest.raises(ValueError, match="x must be 3-D"):
        forward(x[0], vec, vec, x, stats, stats)
    with pytest.raises(ValueError, match=r"shift must have shape \(2, 8\)"):
        forward(x, vec, vec[:, :4].copy(), x.copy(), stats, stats.copy())
    with pytest.raises(ValueError, match="y must be C-contiguous"):
        forward(x, vec, vec, np.zeros((2, 8, 3), np.float32).transpose(0, 2, 1), stats,
                stats.copy())
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="y must be writeable"):
        forward(x, vec, vec, frozen, stats, stats.copy())
    with pytest.raises(ValueError, match="eps must be > 0"):
        forward(x, vec, vec, x.copy(), stats, stats.copy(), eps=0.0)
    backward = _core.nn.layer_norm_relu_backward
    with pytest.raises(ValueError, match="both be arrays or both None"):
        backward(x, x, vec, vec, stats, stats, dscale=vec.copy())
    with pytest.raises(ValueError, match="dbias needs the forward's bias"):
        backward(x, x, vec, vec, stats, stats, dbias=vec.copy())


@pytest.mark.parametrize("wanted", [(True, True, True), (True, False, False),
                                    (False, True, True)])
def test_narrow_linear_matches_baddbmm(wanted):
    gen = torch.Generator().manual_seed(1)
    x, w, b = (torch.randn(4, 33, 64, generator=gen), torch.randn(4, 64, 1, generator=gen),
               torch.randn(4, 1, 1, generator=gen))
    inputs = [t.requires_grad_(want) for t, want in zip((x, w, b), wanted, strict=True)]
    y = fused.narrow_linear(*inputs)
    assert "NarrowLinear" in type(y.grad_fn).__name__
    ref = torch.baddbmm(b, x, w)
    torch.testing.assert_close(y, ref, **TOL)
    dy = torch.randn_like(y)
    asked = [t for t in inputs if t.requires_grad]
    for got, want in zip(torch.autograd.grad(y, asked, dy), torch.autograd.grad(ref, asked, dy),
                         strict=True):
        torch.testing.assert_close(got, want, **TOL)
    wide = fused.narrow_linear(x, torch.randn(4, 64, 3), torch.zeros(4, 1, 3))
    assert wide.shape == (4, 33, 3) and "NarrowLinear" not in type(wide.grad_fn).__name__


def test_layer_norm_critic_matches_its_unfused_self():
    """A LayerNorm critic (forward, every gradient) and a whole CQL step agree with the
    same networks with the fused kernels switched off."""
    net = EnsembleMLP(4, OBS + ACT, (64, 64), 1, layer_norm=True)
    for m in range(4):
        net.init_member(m, torch.Generator().manual_seed(m))
    x = torch.randn(4, 50, OBS + ACT)
    y = net(x)
    grads = torch.autograd.grad(y.square().sum(), list(net.parameters()))
    with fused.disabled():
        y_ref = net(x)
        ref = torch.autograd.grad(y_ref.square().sum(), list(net.parameters()))
    torch.testing.assert_close(y, y_ref, **TOL)
    for got, want in zip(grads, ref, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-3)
    learners = [make_learner("cql", 2, critic_layer_norm=True, seed=3) for _ in range(2)]
    batch = random_batch(2, 32, 0)
    fast = learners[0].train_step(batch)
    with fused.disabled():
        slow = learners[1].train_step(batch)
    for key, value in fast.items():
        np.testing.assert_allclose(value, slow[key], rtol=1e-3, atol=1e-4, err_msg=key)


@pytest.mark.parametrize("normalize", [True, False])
def test_gap_from_first_layer_equals_the_full_inputs(normalize):
    """ratio_and_gap computes the s'-samples' first layer as D_sas(s, a, s') + z @ (c W_s');
    the result is D_sas on the perturbed inputs themselves (H2O's u), with and without the
    input standardisation."""
    disc = FidelityDiscriminators(OBS, ACT, [0], DiscriminatorConfig(
        hidden_sizes=(32, 32), normalize_inputs=normalize), seed=2, device="cpu")
    disc.set_real_states(3 * torch.randn(200, OBS) + 1)
    gen = torch.Generator().manual_seed(0)
    s, a, s2 = (torch.randn(30, OBS, generator=gen), torch.rand(30, ACT, generator=gen),
                torch.randn(30, OBS, generator=gen))
    z = torch.randn(30, 6, OBS, generator=gen)
    _, u = disc.ratio_and_gap(s, a, s2, z, None, ratio_clip=(1e-5, 1.0),
                              gap_clip=(-1e9, 1e9), std_ratio=0.7)
    samples = s2[:, None] + 0.7 * disc.nets.state_std * z
    sa, _ = disc.logits(0, s, a, s2)
    sas_n = torch.stack([disc.logits(0, s, a, samples[:, j])[1] for j in range(6)], 1)
    expected = -losses.log_dynamics_ratio(sa[:, None], sas_n).mean(-1)
    torch.testing.assert_close(u, expected, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="needs a network with a hidden layer"):
        EnsembleMLP(1, 3, (), 1).after_first(torch.zeros(1, 2, 1))


def test_non_finite_values_propagate_as_in_pytorch():
    """A NaN weight must reach the loss (the divergence guard watches it): the fused ReLU
    passes NaN like torch.relu, and its gradient like threshold_backward."""
    x, scale, shift, bias = ln_inputs(2, 6, 64)
    with torch.no_grad():
        bias[0, 0, 3] = float("nan")
    y = fused.layer_norm_relu(x, scale, shift, bias)
    ref = fused.reference_layer_norm_relu(x, scale, shift, bias)
    assert torch.equal(y.isnan(), ref.isnan()) and y[0].isnan().all() and not y[1].isnan().any()
    (dx,) = torch.autograd.grad(y.sum(), (x,))
    assert dx[0].isnan().all() and dx[1].isfinite().all()
