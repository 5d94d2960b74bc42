"""numpy implementations of the Fourier transforms (ops/spectral.py).

``np.fft`` computes float32 input in complex64 and float64 in complex128;
the results are split back into contiguous real and imaginary parts of the
input's dtype. CuPy's ``cupy.fft`` has the same functions, so the CUDA
backend mirrors these.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import spectral as S


def _complex(re, im):
    z = re + 1j * im
    return z.astype(np.complex64 if re.dtype == np.float32 else np.complex128, copy=False)


def _parts(z, dtype):
    return np.ascontiguousarray(z.real, dtype=dtype), np.ascontiguousarray(z.imag, dtype=dtype)


@impl(S.fft_p, "cpu")
def fft(re, im, rank, inverse):
    z = _complex(re, im)
    if rank == 2:
        out = np.fft.ifft2(z) if inverse else np.fft.fft2(z)
    else:
        out = np.fft.ifft(z) if inverse else np.fft.fft(z)
    return _parts(out, re.dtype)


@impl(S.rfft_p, "cpu")
def rfft(x, n):
    return _parts(np.fft.rfft(x, n=n, axis=-1), x.dtype)


@impl(S.irfft_p, "cpu")
def irfft(re, im, n):
    return np.ascontiguousarray(np.fft.irfft(_complex(re, im), n=n, axis=-1), dtype=re.dtype)
