"""Errors of collectives, with TF's names (defined in ``tl.errors``)."""
from tensorlab.errors import AbortedError, DeadlineExceededError  # noqa: F401
