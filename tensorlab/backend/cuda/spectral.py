"""CUDA implementations of the Fourier transforms (ops/spectral.py).

CuPy fallbacks: ``cupy.fft`` (cuFFT plans, cached by CuPy) has numpy's
``fft``/``ifft``/``fft2``/``ifft2``/``rfft``/``irfft``, so the CPU
implementations are mirrored onto CuPy.
"""
from tensorlab.backend.cpu import spectral as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
