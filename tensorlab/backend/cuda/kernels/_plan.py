"""Launch plans: kernel choice and launch shapes as plain data, separate from running them.

A launcher first builds a `Plan` in pure Python (no CuPy, unit-testable), then `run_plan` executes
it with CuPy. The host emulator tests execute the very same plans with numpy arrays, so the
variant selection and launch arithmetic are exercised without a GPU.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

#: entries per memoized planner (`memoize_plan`); a model touches a few hundred shapes at most
PLAN_CACHE_SIZE = 1024
_PLAN_CACHES: list = []


def memoize_plan(planner):
    """`planner` behind a bounded LRU cache keyed on its (hashable) arguments.

    Planning is pure Python on shapes and flags, yet costs 5-30 us per call, which is a large
    part of an eager op's host time; the launchers' hot paths call the memoized twins
    (`memo_*` in each launcher module), while the `plan_*` functions themselves stay uncached.
    Rules for a memoized planner: (1) everything the plan depends on is an argument (device
    properties such as the SM count, `tl.config` switches, pointer alignments reduced to what
    the plan uses, never raw pointers); (2) the plan it returns is shared between calls: callers
    read it and never mutate it. `clear_plan_caches()` empties every such cache (after editing a
    planner in an interactive session, say).
    """
    cached = functools.lru_cache(maxsize=PLAN_CACHE_SIZE)(planner)
    _PLAN_CACHES.append(cached)
    return cached


def clear_plan_caches() -> None:
    """Empties the caches of every `memoize_plan` planner."""
    for cached in _PLAN_CACHES:
        cached.cache_clear()


@dataclass(frozen=True)
class Buf:
    """A named array argument: an input/output given by the caller or a temp of the plan."""
    name: str


@dataclass
class Launch:
    kernel: str
    grid: tuple
    block: tuple
    smem: int
    args: tuple  # Buf | numpy scalar | None


@dataclass
class Plan:
    stem: str
    launches: list = field(default_factory=list)
    temps: dict = field(default_factory=dict)  # name -> (shape, numpy dtype)

    def kernels(self):
        return [l.kernel for l in self.launches]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def next_pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def warp_group(row_len: int, vec: int) -> int:
    """Lanes per row in the *_rows_warp_* kernels (mirrors tl_warp_group in the .cu files): the
    smallest power of two G <= 32 with G * vec >= row_len; a warp then handles 32 / G rows."""
    g = 32
    while g > 1 and (g >> 1) * vec >= row_len:
        g >>= 1
    return g


def warp_rows_grid(rows: int, row_len: int, vec: int, sm_count: int, warps_per_block: int = 8) -> int:
    """Blocks for a warp-per-row kernel (grid-stride over rows, at most sm_count * 32 blocks)."""
    rows_per_block = warps_per_block * (32 // warp_group(row_len, vec))
    return max(1, min(ceil_div(rows, rows_per_block), sm_count * 32))


def resolve(args, bufs):
    return tuple(bufs[a.name] if isinstance(a, Buf) else a for a in args)


def run_plan(plan: Plan, bufs: dict, xp=None, launch_fn=None):
    """Runs `plan` with the arrays in `bufs` (name -> array); temps are allocated with `xp`.

    With `launch_fn=None` the kernels run on the GPU (CuPy); the emulator tests pass
    `launch_fn(kernel_name, grid, block, smem, *args)`.
    """
    if xp is None:
        import cupy as xp  # noqa: N813
    bufs = dict(bufs)
    for name, (shape, dtype) in plan.temps.items():
        bufs[name] = xp.empty(shape, dtype=dtype)
    if launch_fn is None:
        from ._module import get_kernel

        for l in plan.launches:
            # a null pointer travels as a 64-bit zero (CuPy has no None argument)
            args = tuple(np.uint64(0) if a is None else a for a in resolve(l.args, bufs))
            get_kernel(plan.stem, l.kernel)(l.grid, l.block, args, shared_mem=l.smem)
    else:
        for l in plan.launches:
            launch_fn(l.kernel, l.grid, l.block, l.smem, *resolve(l.args, bufs))
    return bufs


def i64(v) -> np.int64:
    return np.int64(v)
