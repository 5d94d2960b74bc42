"""Fourier transforms of (real, imag) pairs (ops/spectral.py): fft, ifft, fft2, ifft2, rfft and irfft vs
numpy.fft in float64, gradients vs finite differences (odd and even lengths, cropped and padded), round
trips, shape rules, errors, GPU vs CPU; and the gradients of the tl.signal composites built on them."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops import spectral as sp
from tests.ops.harness import Case, S, check_forward, check_gpu_matches_cpu, check_grad, op_tests


def _split(z):
    return z.real, z.imag


def _complex_case(name, fn, ref, shape):
    return Case(name, lambda re, im: fn((re, im)), lambda re, im: _split(ref(re + 1j * im)), [S(shape), S(shape)])


def _rfft_case(m, n):
    return Case(f"rfft[{m}->{n}]", lambda x: sp.rfft(x, n), lambda x: _split(np.fft.rfft(x, n)), [S((2, m))])


def _irfft_case(bins, n):
    return Case(f"irfft[{bins}->{n}]", lambda re, im: sp.irfft((re, im), n),
                lambda re, im: np.fft.irfft(re + 1j * im, n), [S((2, bins)), S((2, bins))])


CASES = [
    _complex_case("fft", sp.fft, np.fft.fft, (3, 5)),
    _complex_case("fft[even]", sp.fft, np.fft.fft, (2, 8)),
    _complex_case("ifft", sp.ifft, np.fft.ifft, (2, 7)),
    _complex_case("fft2", sp.fft2, np.fft.fft2, (2, 3, 4)),
    _complex_case("ifft2", sp.ifft2, np.fft.ifft2, (3, 5)),
    Case("rfft[default]", sp.rfft, lambda x: _split(np.fft.rfft(x)), [S((3, 7))]),
    Case("irfft[default]", lambda re, im: sp.irfft((re, im)), lambda re, im: np.fft.irfft(re + 1j * im),
         [S((3, 5)), S((3, 5))]),
    # odd and even lengths; the signal cropped (m > n) or zero-padded (m < n) first
    _rfft_case(6, 6), _rfft_case(7, 7), _rfft_case(5, 8), _rfft_case(9, 6), _rfft_case(4, 9), _rfft_case(1, 1),
    # bins as rfft gives them, cropped (more than n // 2 + 1) or zero-padded (fewer)
    _irfft_case(4, 6), _irfft_case(4, 7), _irfft_case(6, 5), _irfft_case(3, 9), _irfft_case(5, 8),
    _irfft_case(1, 1),
]

globals().update(op_tests(CASES))


# ----------------------------------------------------------------- round trips and dtypes
@pytest.mark.parametrize("n", [1, 6, 7, 16])
def test_round_trips(rng, n):
    z = rng.normal(size=(2, 3, n)), rng.normal(size=(2, 3, n))
    pair = tuple(tl.constant(a) for a in z)
    for fwd, inv in ((sp.fft, sp.ifft), (sp.fft2, sp.ifft2)):
        back = inv(fwd(pair))
        for got, want in zip(back, z):
            np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    x = rng.normal(size=(4, n))
    np.testing.assert_allclose(sp.irfft(sp.rfft(tl.constant(x)), n).numpy(), x, atol=1e-12)


def test_parseval_and_float32(rng):
    x = rng.normal(size=(5, 64)).astype(np.float32)
    re, im = sp.fft((tl.constant(x), tl.zeros([5, 64])))
    assert re.dtype == tl.float32 and im.dtype == tl.float32
    energy = (re.numpy().astype(np.float64) ** 2 + im.numpy() ** 2).sum(-1) / 64
    np.testing.assert_allclose(energy, (x.astype(np.float64) ** 2).sum(-1), rtol=1e-5)


def test_half_precision_is_computed_in_float32(rng):
    x = rng.normal(size=(3, 8)).astype(np.float16)
    re, im = sp.rfft(tl.constant(x))
    assert re.dtype == tl.float16 and im.dtype == tl.float16
    want = np.fft.rfft(x.astype(np.float64))
    np.testing.assert_allclose(re.numpy(), want.real, atol=2e-2)
    y = sp.irfft((re, im), 8)
    assert y.dtype == tl.float16
    np.testing.assert_allclose(y.numpy(), x, atol=2e-2)


def test_symbolic_shapes():
    x = tl.SymbolicTensor([None, 10], tl.float32)
    assert tuple(sp.rfft(x, 7)[0].shape) == (None, 4)
    assert tuple(sp.irfft((x, x)).shape) == (None, 18)
    assert tuple(sp.fft2((x, x))[1].shape) == (None, 10)


# ----------------------------------------------------------------- errors
def test_errors_name_the_op_and_what_is_valid():
    a, b = tl.ones([2, 4]), tl.ones([2, 5])
    with pytest.raises(ValueError, match=r"fft: the real and imaginary parts must have one shape.*\[2,4\].*\[2,5\]"):
        sp.fft((a, b))
    with pytest.raises(TypeError, match="fft: the real and imaginary parts must have one dtype"):
        sp.fft((a, tl.ones([2, 4], tl.float64)))
    with pytest.raises(TypeError, match="irfft: the real part must be a float tensor, got int32"):
        sp.irfft((tl.ones([3], tl.int32), tl.ones([3], tl.int32)))
    with pytest.raises(ValueError, match=r"fft: expected a \(real, imag\) pair.*Tensor"):
        sp.fft(a)
    with pytest.raises(ValueError, match="ifft2: expected a pair of tensors of rank >= 2"):
        sp.ifft2((tl.ones([4]), tl.ones([4])))
    with pytest.raises(ValueError, match="rfft: fft_length must be a positive integer, got 0"):
        sp.rfft(a, 0)
    with pytest.raises(TypeError, match="rfft: expected a float tensor, got int32"):
        sp.rfft(tl.ones([4], tl.int32))
    with pytest.raises(ValueError, match=r"irfft: cannot infer fft_length.*pass fft_length"):
        sp.irfft((tl.ones([2, 1]), tl.ones([2, 1])))
    with pytest.raises(ValueError, match="fft: the transformed axes must not be empty"):
        sp.fft((tl.ones([2, 0]), tl.ones([2, 0])))


# ----------------------------------------------------------------- tl.signal composites: gradients
def _dct_ref(x, type, norm=None):
    import scipy.fft
    return scipy.fft.dct(x, type=type, norm=norm)


def _ola_ref(x, step):
    frames, length = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + ((frames - 1) * step + length,))
    for f in range(frames):
        out[..., f * step:f * step + length] += x[..., f, :]
    return out


SIGNAL_CASES = [
    Case("frame", lambda x: tl.signal.frame(x, 4, 3, pad_end=True), None, [S((2, 11))]),
    Case("overlap_and_add", lambda x: tl.signal.overlap_and_add(x, 3), lambda x: _ola_ref(x, 3), [S((2, 4, 5))]),
    Case("overlap_and_add[step>length]", lambda x: tl.signal.overlap_and_add(x, 4), lambda x: _ola_ref(x, 4),
         [S((3, 3))]),
    Case("dct2_ortho", lambda x: tl.signal.dct(x, norm="ortho"), lambda x: _dct_ref(x, 2, "ortho"), [S((2, 7))]),
    Case("dct3", lambda x: tl.signal.dct(x, type=3), lambda x: _dct_ref(x, 3), [S((2, 6))]),
    Case("dct1", lambda x: tl.signal.dct(x, type=1), lambda x: _dct_ref(x, 1), [S((2, 5))]),
    Case("dct4", lambda x: tl.signal.dct(x, type=4, norm="ortho"), lambda x: _dct_ref(x, 4, "ortho"), [S((2, 5))]),
]


@pytest.mark.parametrize("case", [c for c in SIGNAL_CASES if c.ref is not None], ids=str)
def test_signal_forward(case, rng):
    check_forward(case, rng)


@pytest.mark.parametrize("case", SIGNAL_CASES, ids=str)
def test_signal_gradient(case, rng):
    check_grad(case, rng)


@pytest.mark.gpu
@pytest.mark.parametrize("case", SIGNAL_CASES, ids=str)
def test_signal_gpu_matches_cpu(case, rng):
    check_gpu_matches_cpu(case, rng)
