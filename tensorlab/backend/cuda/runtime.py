"""Safe GPU discovery: never raises, never prints, works without CuPy."""


def device_count():
    """Number of CUDA devices CuPy can use, or 0 (no CuPy, no driver, no GPU)."""
    try:
        import cupy
        n = cupy.cuda.runtime.getDeviceCount()
        if n <= 0:
            return 0
        # A driver can report devices yet fail to create a context; try one.
        with cupy.cuda.Device(0):
            cupy.cuda.runtime.memGetInfo()
        return n
    except Exception:
        return 0
