"""Finding and loading the NCCL library for CuPy's ``cupy.cuda.nccl``.

CuPy's NCCL bindings (``cupy_backends.cuda.libs.nccl``) need ``libnccl.so.2``
resolvable by the dynamic loader. The pip packages (``nvidia-nccl-cu12``,
``nvidia-nccl-cu13``) install it inside site-packages, in ``nvidia/nccl/lib/``,
where the loader does not look unless something preloads it; other wheels put
CUDA libraries in ``nvidia/cu<N>/lib/``, and PyTorch wheels may carry their own
in ``torch/lib/``. When CuPy does not find NCCL by itself, ``load()`` loads the
first library found in those places with ``RTLD_GLOBAL`` (so its soname
satisfies the bindings' dependency), imports the bindings again and reloads
``cupy.cuda.nccl``.

Search order (``candidate_paths``): the file named by ``TL_NCCL_LIBRARY``;
then, in every site-packages directory and ``sys.path`` entry,
``nvidia/nccl/lib/libnccl.so*``, ``nvidia/cu*/lib/libnccl.so*`` and
``torch/lib/libnccl.so*`` (``libnccl.so.2`` first within a directory); then
``cuda.pathfinder.load_nvidia_dynamic_lib("nccl")`` when that package is
installed.

``load()`` never raises for a missing library: it returns an ``NcclStatus``
whose ``reason`` says what was tried. The result is computed once per process
(``load(refresh=True)`` computes it again).
"""
import ctypes
import dataclasses
import glob
import importlib
import os
import re
import site
import sys
import threading
import warnings

ENV_VAR = "TL_NCCL_LIBRARY"
_EXTENSION = "cupy_backends.cuda.libs.nccl"
_NAME = re.compile(r"libnccl\.so(\.\d+)*$")
_CUDA_DIR = re.compile(r"cu(\d+)$")
_PREFERRED = "libnccl.so.2"


@dataclasses.dataclass(frozen=True)
class NcclStatus:
    """Whether CuPy's NCCL bindings are usable, and why not.

    Attributes:
      available: True when ``cupy.cuda.nccl`` has a working ``NcclCommunicator``.
      module: the ``cupy.cuda.nccl`` module, or None when CuPy is missing.
      library: the path of the library tensorlab preloaded, or None (CuPy found
        NCCL by itself, or nothing was loaded).
      version: ``nccl.get_version()`` (e.g. 22707 for 2.27.7) when available.
      reason: why NCCL is not available (the first import error and every path
        tried); empty when it is.
    """
    available: bool
    module: object = None
    library: str | None = None
    version: int | None = None
    reason: str = ""


def default_search_dirs():
    """site-packages (global and user) and every ``sys.path`` directory, without duplicates."""
    dirs = []
    try:
        dirs.extend(site.getsitepackages())
    except Exception:   # some embedded interpreters have no site-packages
        pass
    try:
        dirs.append(site.getusersitepackages())
    except Exception:
        pass
    dirs.extend(p for p in sys.path if p)
    out, seen = [], set()
    for d in dirs:
        if not isinstance(d, str) or not os.path.isdir(d):
            continue
        key = os.path.realpath(d)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _lib_dirs(d):
    """The library folders of the pip packages under search directory ``d``, in search order."""
    yield os.path.join(d, "nvidia", "nccl", "lib")
    cuda = []
    for p in glob.glob(os.path.join(glob.escape(d), "nvidia", "cu*", "lib")):
        m = _CUDA_DIR.match(os.path.basename(os.path.dirname(p)))
        if m:   # nvidia/cu13/lib, not nvidia/cudnn/lib or nvidia/cublas/lib
            cuda.append((-int(m.group(1)), p))
    yield from (p for _, p in sorted(cuda))
    yield os.path.join(d, "torch", "lib")


def _lib_key(path):
    name = os.path.basename(path)
    return (name != _PREFERRED, name)


def candidate_paths(search_dirs=None):
    """The existing ``libnccl.so*`` files to try, in order.

    Args:
      search_dirs: directories holding ``nvidia/...`` and ``torch/...`` package
        folders (default: ``default_search_dirs()``).

    Returns:
      A list of file paths: ``$TL_NCCL_LIBRARY`` first when it names a file,
      then per search directory the matches of ``nvidia/nccl/lib/libnccl.so*``,
      ``nvidia/cuNN/lib/libnccl.so*`` (newest CUDA first) and
      ``torch/lib/libnccl.so*``, with ``libnccl.so.2`` first within each
      library directory. A file reached twice (symlinks included) is listed once.
    """
    out, seen = [], set()

    def add(path):
        if not os.path.isfile(path):
            return
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            out.append(path)

    env = os.environ.get(ENV_VAR)
    if env:
        add(env)
    for d in default_search_dirs() if search_dirs is None else search_dirs:
        for libdir in _lib_dirs(d):
            names = [p for p in glob.glob(os.path.join(glob.escape(libdir), "libnccl.so*"))
                     if _NAME.match(os.path.basename(p))]
            for p in sorted(names, key=_lib_key):
                add(p)
    return out


# The import steps, as functions so that tests can replace them.
def _import(name):
    return importlib.import_module(name)


def _reload(module):
    return importlib.reload(module)


def _usable(nccl):
    return bool(getattr(nccl, "available", False)) and hasattr(nccl, "NcclCommunicator")


def _version(nccl):
    try:
        return int(nccl.get_version())
    except Exception:
        return None


def _err(e):
    return f"{type(e).__name__}: {str(e).strip()}"


def _pathfinder_load():
    """Path of the NCCL library ``cuda.pathfinder`` loads (RTLD_GLOBAL), or raises."""
    from cuda.pathfinder import load_nvidia_dynamic_lib
    loaded = load_nvidia_dynamic_lib("nccl")
    return getattr(loaded, "abs_path", None) or "<loaded by cuda.pathfinder>"


def _compute():
    try:
        _import("cupy")
    except Exception as e:
        return NcclStatus(False, reason=f"cupy is not installed or cannot be imported ({_err(e)})")
    try:
        nccl = _import("cupy.cuda.nccl")
    except Exception as e:
        return NcclStatus(False, reason=f"cupy.cuda.nccl cannot be imported ({_err(e)})")
    if _usable(nccl):
        return NcclStatus(True, nccl, None, _version(nccl), "")

    # CuPy swallows its import error: import the bindings again to learn it.
    try:
        _import(_EXTENSION)
        first = None
    except ImportError as e:
        first = str(e).strip()
    except Exception as e:
        first = _err(e)
    if first is None:   # the library was loaded since CuPy's attempt
        nccl = _reload(nccl)
        if _usable(nccl):
            return NcclStatus(True, nccl, None, _version(nccl), "")
        first = "the bindings import but cupy.cuda.nccl reports NCCL unavailable"
    head = f"CuPy could not load NCCL ({first})"

    env = os.environ.get(ENV_VAR)
    if env and not os.path.isfile(env):
        return NcclStatus(False, nccl, None, None,
                          f"{head}; {ENV_VAR}={env} names no file (point it at libnccl.so.2 or unset it)")

    tried = []

    def attempt(path):
        """Import the bindings after ``path`` was loaded; the status on success, else None."""
        nonlocal nccl
        try:
            _import(_EXTENSION)
        except Exception as e:
            tried.append(f"loaded {path} but import still failed: {str(e).strip()}")
            return None
        nccl = _reload(nccl)
        if _usable(nccl):
            return NcclStatus(True, nccl, path, _version(nccl), "")
        tried.append(f"loaded {path}; the bindings import but cupy.cuda.nccl reports NCCL unavailable")
        return None

    dirs = default_search_dirs()
    paths = candidate_paths(dirs)
    for path in paths:
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            tried.append(f"cannot load {path}: {str(e).strip()}")
            continue
        status = attempt(path)
        if status is not None:
            return status
    if not paths:
        tried.append("no libnccl.so* found in: " + ", ".join(dirs)
                     + " (under nvidia/nccl/lib, nvidia/cu*/lib, torch/lib)")
    try:
        path = _pathfinder_load()
    except ImportError:
        pass   # cuda-pathfinder is not installed
    except Exception as e:
        tried.append(f"cuda.pathfinder: {_err(e)}")
    else:
        status = attempt(path)
        if status is not None:
            return status
    return NcclStatus(False, nccl, None, None, "; ".join([head] + tried))


_lock = threading.Lock()
_status = None


def load(refresh=False):
    """Makes CuPy's NCCL bindings usable if a library can be found; never raises for a missing one.

    Args:
      refresh: compute the status again instead of returning the one memoized
        by an earlier call.

    Returns:
      An ``NcclStatus``. When CuPy finds NCCL by itself, ``library`` is None;
      otherwise it is the path tensorlab loaded. When no library works,
      ``available`` is False and ``reason`` lists what was tried.

    Example:
    ```python
    from tensorlab.distribute import nccl_loader
    s = nccl_loader.load()
    if not s.available:
        print(s.reason)   # e.g. "CuPy could not load NCCL (libnccl.so.2: ...); no libnccl.so* found in: ..."
    ```
    """
    global _status
    with _lock:
        if _status is None or refresh:
            # CuPy warns when its own attempt fails; hold the warning back while
            # the other candidates are tried and repeat it only if none works.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                status = _compute()
            for w in caught:
                if status.available and "nccl" in str(w.message).lower():
                    continue
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            _status = status
        return _status
