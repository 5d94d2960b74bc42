"""CUDA implementations of the pooling primitives (ops/pooling.py).

The CPU implementations (a loop over window offsets of whole-array
slices, maxima and ``where``) run on CuPy unchanged.
"""
from tensorlab.backend.cpu import pooling as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
