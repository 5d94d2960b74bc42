"""Error classes with TensorFlow's names (``tl.errors.*``).

Every op error names the op and the shapes, dtypes or devices involved. The
classes also derive from the matching Python built-in (``ValueError``,
``MemoryError``, ...) so generic ``except`` clauses keep working.
"""


class OpError(Exception):
    """Base class of errors raised while running an op."""

    def __init__(self, node_def=None, op=None, message="", *args):
        # Allow both OpError("message") and TF's OpError(node_def, op, message).
        if not message and isinstance(node_def, str) and op is None:
            message, node_def = node_def, None
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument it cannot work with (bad shape, axis, value)."""


class NotFoundError(OpError, LookupError):
    """A requested entity (file, device, kernel) was not found."""


class UnimplementedError(OpError, NotImplementedError):
    """The operation is not implemented for these inputs or this device."""


class ResourceExhaustedError(OpError, MemoryError):
    """Out of memory on a device, or another resource ran out."""


class FailedPreconditionError(OpError, RuntimeError):
    """The system is not in a state to run the operation (e.g. uninitialized)."""


class OutOfRangeError(OpError, IndexError):
    """Iteration went past the end of the input (e.g. a dataset)."""


class DataLossError(OpError, IOError):
    """Unrecoverable data loss or corruption (e.g. a bad record checksum)."""


class DeadlineExceededError(OpError, TimeoutError):
    """An operation (e.g. a collective waiting for another worker) ran past its deadline."""


class AbortedError(OpError, RuntimeError):
    """An operation was aborted, e.g. because a peer in a collective failed."""


class AlreadyExistsError(OpError, FileExistsError):
    """An entity (a file, a directory) that an operation would create already exists."""


class PermissionDeniedError(OpError, PermissionError):
    """The caller may not run the operation (e.g. a file it cannot write)."""


class CancelledError(OpError, RuntimeError):
    """An operation was cancelled."""


class UnavailableError(OpError, RuntimeError):
    """A service or device is not available at the moment."""


class InternalError(OpError, RuntimeError):
    """An internal invariant was broken; please report it."""


class UnknownError(OpError, RuntimeError):
    """An error without a more specific class."""


__all__ = [
    "OpError", "InvalidArgumentError", "NotFoundError", "UnimplementedError",
    "ResourceExhaustedError", "FailedPreconditionError", "OutOfRangeError",
    "DataLossError", "DeadlineExceededError", "AbortedError", "InternalError", "UnknownError",
    "AlreadyExistsError", "PermissionDeniedError", "CancelledError", "UnavailableError",
]
