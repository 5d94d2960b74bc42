"""Traceback filtering (``keras.config.enable_traceback_filtering``): errors raised through the
public training API lose tensorlab's own frames, so the user's code is what they show."""
import functools
import os
import traceback
import types

from tensorlab.keras import config as _config

_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tensorlab/


def _user_frames(tb):
    """``tb`` without the frames of files inside the tensorlab package (the last frame if all are)."""
    frames = list(traceback.walk_tb(tb))
    kept = None
    for frame, line in reversed(frames):
        if not os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
            kept = types.TracebackType(kept, frame, frame.f_lasti, line)
    if kept is None and frames:
        frame, line = frames[-1]
        kept = types.TracebackType(None, frame, frame.f_lasti, line)
    return kept


def filter_traceback(fn):
    """Decorates a public API function so that, while filtering is enabled, its errors carry the
    user's frames only."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _config.is_traceback_filtering_enabled():
            return fn(*args, **kwargs)
        filtered = None
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            filtered = _user_frames(e.__traceback__)
            raise e.with_traceback(filtered) from None
        finally:
            del filtered
    return wrapper
