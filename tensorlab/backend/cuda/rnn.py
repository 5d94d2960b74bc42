"""CUDA implementations of the fused LSTM and GRU cell primitives (ops/rnn.py): the CPU code mirrored
onto CuPy (a handful of CuPy elementwise kernels per step, one primitive call)."""
from tensorlab.backend.cpu import rnn as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
