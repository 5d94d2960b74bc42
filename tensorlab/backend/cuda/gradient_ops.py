"""CUDA implementations of ops/gradient_ops.py (views; no kernel needed)."""
from tensorlab.backend.cpu import gradient_ops as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
