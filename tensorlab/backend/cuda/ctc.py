"""CUDA implementations of the CTC loss and its fused backward (ops/ctc.py).

CuPy fallbacks: the CPU implementations (one vectorized log-space step per
frame over the batch and the label states, a bincount for the class sums)
use only numpy functions CuPy has, so they are mirrored onto CuPy. The input
check reads one flag back from the device.
"""
from tensorlab.backend.cpu import ctc as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
