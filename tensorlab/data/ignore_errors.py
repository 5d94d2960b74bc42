"""``Dataset.ignore_errors``: drops the elements whose ``map`` or ``filter`` function raised.

The map / filter / prefetch nodes directly upstream are copied with an error handler (the
dataset they belong to is left as it is): a failing call drops its element and the pass goes
on. An error raised anywhere else (a source, a batch of mismatched shapes) still propagates:
it would end the pass, and silently truncating the data would hide it.
"""
import copy

import tensorlab as tl
from tensorlab.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from tensorlab.data.parallel import ParallelMap, Prefetch
from tensorlab.data.transforms import Filter, Map, WithOptions, _Unary

_TRANSPARENT = (Map, ParallelMap, Filter, Prefetch, WithOptions)


def _tolerant(node, handler):
    if type(node) not in _TRANSPARENT:
        return node
    c = copy.copy(node)
    c._in = _tolerant(node._in, handler)
    if isinstance(c, (Map, Filter)):
        c._skip = handler
    return c


class IgnoreErrors(_Unary):
    def __init__(self, ds, log_warning=False):
        super().__init__(ds)
        self._log = bool(log_warning)
        self._chain = _tolerant(ds, self._dropped)
        self.dropped = 0  # elements dropped so far, over all passes

    def _dropped(self, err):
        self.dropped += 1
        if self._log:
            tl.get_logger().warning("Dataset.ignore_errors: ignoring an error in an element: %s: %s",
                                    type(err).__name__, err)

    def _gen(self):
        return self._chain._gen()

    def _card(self):
        return INFINITE_CARDINALITY if self._in._card() == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY
