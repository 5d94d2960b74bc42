"""``tl.autograph``: tensorlab runs Python eagerly and never converts code to a graph, so
functions written for ``tf.autograph`` run as they are; these names exist so such scripts run."""
import types


def _do_not_convert(func=None):
    """``tf.autograph.experimental.do_not_convert``: returns ``func`` (nothing is ever converted)."""
    if func is None:
        return lambda f: f
    return func


experimental = types.SimpleNamespace(do_not_convert=_do_not_convert)

__all__ = ["experimental"]
