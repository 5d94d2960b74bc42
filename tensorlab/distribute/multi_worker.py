"""``MultiWorkerMirroredStrategy``: one process per device, processes started by MPI.

Each process (worker) runs one replica on its device: its local rank's GPU,
or the CPU. Workers meet through MPI (mpi4py). CPU tensors are reduced with
MPI ``Allreduce`` on numpy buffers; GPU tensors with NCCL, whose unique id
rank 0 broadcasts over MPI. Gradients travel in buckets (``bytes_per_pack``,
default 25 MB).

Every collective starts with an arrival check: each worker posts a small
message to every other one and waits, at most ``timeout_seconds``, for
theirs. A worker that died or hangs therefore makes the others raise
``tl.distribute.DeadlineExceededError`` naming its rank, instead of waiting
forever; the data collective itself is polled under the same deadline.

Launch:  ``mpiexec -n 4 python train.py`` (one machine) or
``mpirun -H host1,host2 -np 8 python train.py``.
"""
import enum
import os
import socket
import time

import numpy as np

import tensorlab as tl
from tensorlab.core import device as _device_mod
from tensorlab.core import tensor as _tensor
from tensorlab.distribute import _errors
from tensorlab.distribute import bucketing as _bucketing
from tensorlab.distribute import values as _values
from tensorlab.distribute import cluster_resolver as _cr
from tensorlab.distribute import cross_device_ops as _cdo
from tensorlab.distribute import mirrored as _mirrored
from tensorlab.distribute import strategy as _strategy

DEFAULT_TIMEOUT_SECONDS = 300.0
_TAG_ARRIVE = 7301


class CommunicationImplementation(enum.Enum):
    """Which collective library to use (``tf.distribute.experimental.CommunicationImplementation``)."""
    AUTO = "AUTO"
    RING = "RING"   # MPI (host buffers)
    NCCL = "NCCL"


CollectiveCommunication = CommunicationImplementation


class CommunicationOptions:
    """Options of cross-worker collectives (``tf.distribute.experimental.CommunicationOptions``).

    Args:
      bytes_per_pack: bucket size for gradients (0: the default, 25 MB).
      timeout_seconds: how long a collective waits for the other workers before
        raising ``DeadlineExceededError`` (default: ``TENSORLAB_COLLECTIVE_TIMEOUT``
        from the environment, else 300 s).
      implementation: ``CommunicationImplementation.AUTO`` (NCCL for GPUs, MPI
        for the CPU), ``RING`` (MPI) or ``NCCL``.
    """

    def __init__(self, bytes_per_pack=0, timeout_seconds=None, implementation=CommunicationImplementation.AUTO):
        self.bytes_per_pack = int(bytes_per_pack or 0)
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation


def _default_timeout():
    env = os.environ.get("TENSORLAB_COLLECTIVE_TIMEOUT")
    return float(env) if env else DEFAULT_TIMEOUT_SECONDS


class MpiCollectives:
    """Collectives over an MPI communicator, each bounded by a deadline."""

    def __init__(self, comm, timeout):
        from mpi4py import MPI
        self._MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = float(timeout)
        self._seq = 0

    def _poll(self, reqs, what, k, tokens=None):
        """Waits for the requests; past the deadline, raises naming what is missing.

        ``tokens``: peer -> the buffer its arrival token lands in (see ``_collective``).
        """
        start = time.monotonic()
        deadline = start + self.timeout
        pending = dict(reqs)
        while pending:
            for key in [key for key, r in pending.items() if r.Test()]:
                del pending[key]
            if not pending:
                break
            # MPI moves a collective forward only while its ranks call into it: spin while
            # the wait is short, then back off, sleeping at most 200 us at a time, so a wait
            # on a slow (or oversubscribed) peer neither burns a core nor adds much latency.
            now = time.monotonic()
            waited = now - start
            if waited > 2e-3:
                time.sleep(min(2e-4, 0.05 * waited))
            if now > deadline:
                missing = sorted(k_ for k_ in pending if isinstance(k_, int))
                if not missing and tokens:
                    self._check_tokens(tokens, k, what)  # a peer at another collective
                who = (f"rank(s) {missing} did not reach it" if missing else
                       "a worker stopped taking part while it ran")
                raise _errors.DeadlineExceededError(
                    f"MultiWorkerMirroredStrategy: collective #{k} ({what}) on rank {self.rank} of {self.size} "
                    f"timed out after {self.timeout:g} s: {who}. The worker is dead or hung; its process "
                    "must be restarted (set CommunicationOptions(timeout_seconds=...) or "
                    "TENSORLAB_COLLECTIVE_TIMEOUT to change the limit)")

    def _check_tokens(self, tokens, k, what):
        for p, buf in tokens.items():
            if int(buf[0]) != k:
                raise tl.errors.InternalError(
                    f"MultiWorkerMirroredStrategy: rank {p} is at collective #{int(buf[0])} while rank "
                    f"{self.rank} is at #{k} ({what}): workers must run the same collectives in the same order")

    def _post_arrival(self):
        """Numbers the next collective and posts its arrival tokens: every rank sends the number
        to every other. A token that never comes names a rank that did not reach the collective;
        one with another number, a rank that runs another collective."""
        k = self._seq
        self._seq += 1
        token = np.array([k], dtype=np.int64)
        peers = [p for p in range(self.size) if p != self.rank]
        tokens = {p: np.full(1, -1, dtype=np.int64) for p in peers}
        reqs = {p: self.comm.Irecv(tokens[p], source=p, tag=_TAG_ARRIVE) for p in peers}
        reqs.update({("send", p): self.comm.Isend(token, dest=p, tag=_TAG_ARRIVE) for p in peers})
        return k, tokens, reqs

    def _arrive(self, what):
        """Waits until every other rank has reached this collective; names the missing ones.
        (For collectives MPI does not run, e.g. NCCL's: MPI's own go through ``_collective``.)"""
        if self.size == 1:
            k = self._seq
            self._seq += 1
            return k
        k, tokens, reqs = self._post_arrival()
        self._poll(reqs, what, k, tokens)
        self._check_tokens(tokens, k, what)
        return k

    def _collective(self, what, start):
        """Runs the MPI collective that ``start()`` posts (it returns the request), with the
        arrival tokens travelling alongside it: one round of messages, not a handshake first."""
        k, tokens, reqs = self._post_arrival()
        reqs["data"] = start()
        self._poll(reqs, what, k, tokens)
        self._check_tokens(tokens, k, what)

    def allreduce(self, arr, what="all-reduce"):
        """Elementwise SUM of a numpy array over all ranks (every rank gets the same bits)."""
        if self.size == 1:
            self._seq += 1
            return arr
        arr = np.require(arr, requirements="C")
        out = np.empty_like(arr)
        self._collective(what, lambda: self.comm.Iallreduce(arr, out, op=self._MPI.SUM))
        return out

    def bcast(self, arr, root=0, what="broadcast"):
        if self.size == 1:
            self._seq += 1
            return arr
        arr = np.require(arr, requirements="C")
        buf = arr.copy() if self.rank == root else np.empty_like(arr)
        self._collective(what, lambda: self.comm.Ibcast(buf, root=root))
        return buf

    def allgather_rows(self, arr, what="all-gather"):
        """Concatenation along axis 0 of every rank's array (rows may differ per rank)."""
        arr = np.require(arr, requirements="C")
        counts = self.allreduce(np.eye(self.size, dtype=np.int64)[self.rank] * arr.shape[0], what)
        if self.size == 1:
            return arr
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()),) + arr.shape[1:], dtype=arr.dtype)
        sizes = [int(c) * row for c in counts]
        displs = [sum(sizes[:i]) for i in range(self.size)]
        self._collective(what, lambda: self.comm.Iallgatherv(
            arr, [out, sizes, displs, self._MPI._typedict[arr.dtype.char]]))
        return out


class NcclWorkerAllReduce:
    """SUM all-reduce of one GPU buffer per worker over an NCCL communicator (one rank per process)."""

    def __init__(self, mpi, device_index):
        import cupy
        from cupy.cuda import nccl
        self._mpi = mpi
        uid = nccl.get_unique_id() if mpi.rank == 0 else None
        uid = mpi.comm.bcast(uid, root=0)
        with cupy.cuda.Device(device_index):
            self._comm = nccl.NcclCommunicator(mpi.size, uid, mpi.rank)
            self._stream = cupy.cuda.Stream(non_blocking=True)
        self._index = device_index
        self._pending = _cdo.PendingCollectives()

    def allreduce(self, t, what="all-reduce", defer=False):
        """The SUM over workers; with ``defer`` the compute stream waits for it only at
        ``wait_pending()`` (only views of the result may be taken before that)."""
        import cupy
        from cupy.cuda import nccl
        self._mpi._arrive(what)
        with cupy.cuda.Device(self._index):
            self._stream.wait_event(cupy.cuda.get_current_stream().record())
            out = cupy.empty_like(t._data)
            self._comm.allReduce(t._data.data.ptr, out.data.ptr, int(t._data.size), _cdo._nccl_dtype(t._data.dtype),
                                 nccl.NCCL_SUM, self._stream.ptr)
            if defer:
                self._pending.add(self._index, self._stream, t._data, out)
            else:
                cupy.cuda.get_current_stream().wait_event(self._stream.record())
        return _tensor.wrap(out, t._device)

    def wait_pending(self):
        self._pending.wait()

    def close(self):
        self._pending.wait()
        try:
            self._comm.destroy()
        except Exception:
            pass


def _pick_device(resolver, mpi):
    n_gpu = _device_mod.gpu_count()
    if n_gpu == 0:
        return _device_mod.get("cpu", 0)
    from mpi4py import MPI
    local = mpi.comm.Split_type(MPI.COMM_TYPE_SHARED)
    local_rank = local.Get_rank()
    local.Free()
    idx = local_rank if n_gpu > local_rank else 0
    # Two ranks on one GPU cannot share an NCCL communicator: refuse at start-up.
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(idx)
    me = f"{socket.gethostname()}/pci {props.get('pciDomainID', 0)}:{props.get('pciBusID', 0)}:" \
         f"{props.get('pciDeviceID', 0)}"
    everyone = mpi.comm.allgather(me)
    dup = [r for r, who in enumerate(everyone) if who == me and r != mpi.rank]
    if dup:
        raise ValueError(f"MultiWorkerMirroredStrategy: rank {mpi.rank} and rank(s) {dup} would share GPU {me}; "
                         "NCCL needs one GPU per process. Start at most as many processes per machine as it has "
                         "GPUs (mpiexec -n <GPUs>), or hide GPUs (TENSORLAB_DEVICE=cpu) to train on CPUs")
    return _device_mod.get("cuda", idx)


class MultiWorkerExtended(_mirrored.MirroredExtended):
    def __init__(self, strategy, resolver, options):
        self._resolver = resolver
        comm_world = getattr(resolver, "comm", None)
        if comm_world is None:
            comm_world = _cr.mpi_world() if (_cr.launched_by_mpi() or resolver.num_workers > 1) else None
        size = comm_world.Get_size() if comm_world is not None else 1
        if resolver.num_workers != size:
            raise ValueError(
                f"MultiWorkerMirroredStrategy: the cluster has {resolver.num_workers} worker(s) "
                f"({resolver.cluster_spec().as_dict()}) but MPI started {size} process(es); start one process per "
                f"worker, e.g. mpirun -H host1,host2 -np {resolver.num_workers} python train.py")
        timeout = options.timeout_seconds if options.timeout_seconds is not None else _default_timeout()
        if comm_world is not None:
            if comm_world.Get_rank() != resolver.global_index:
                raise ValueError(f"MultiWorkerMirroredStrategy: MPI rank {comm_world.Get_rank()} runs task "
                                 f"{resolver.task_type}:{resolver.task_id} (rank {resolver.global_index} in "
                                 "TF_CONFIG order: chief, then workers); give each process its own TF_CONFIG")
            self._mpi = MpiCollectives(comm_world.Dup(), timeout)
        else:
            self._mpi = None
        dev = _pick_device(resolver, self._mpi) if self._mpi is not None else _device_mod.parse(
            "gpu:0" if _device_mod.gpu_count() else "cpu")
        super().__init__(strategy, [dev.name if dev.kind == "cpu" else f"/GPU:{dev.index}"],
                         _cdo.ReductionToOneDevice())
        # The worker's GPU is where its new tensors go (its input batches, metrics' arguments),
        # as if it were the only GPU visible: rank 1 of a machine computes on GPU:1, not GPU:0.
        self._previous_default = _device_mod.set_process_default(dev) if dev.kind == "cuda" else None
        self._sets_default = dev.kind == "cuda"
        self._worker_index = self._mpi.rank if self._mpi is not None else 0
        self._num_workers = size
        self._collective_timeout = timeout
        self._bucket_bytes = options.bytes_per_pack or _bucketing.DEFAULT_BUCKET_BYTES
        impl = options.implementation
        self._nccl = None
        if dev.kind == "cuda" and size > 1 and impl is not CommunicationImplementation.RING:
            if _cdo.nccl_available():
                self._nccl = NcclWorkerAllReduce(self._mpi, dev.index)
            elif impl is CommunicationImplementation.NCCL:
                from tensorlab.distribute import nccl_loader
                raise RuntimeError("MultiWorkerMirroredStrategy: NCCL was requested but CuPy finds no NCCL "
                                   "library (libnccl.so.2; e.g. pip install nvidia-nccl-cu13). "
                                   f"Details: {nccl_loader.load().reason}")
            # else: GPU tensors travel through host buffers and MPI
        self._cluster_resolver = resolver

    # ------------------------------------------------------------------ roles
    @property
    def should_checkpoint(self):
        """Only the chief writes checkpoints (all workers take part in the collectives)."""
        return self._resolver.is_chief

    @property
    def should_save_summary(self):
        return self._resolver.is_chief

    @property
    def _is_chief(self):
        return self._resolver.is_chief

    # ------------------------------------------------------------------ collectives
    def _wait_collectives(self):
        super()._wait_collectives()
        if self._nccl is not None:
            self._nccl.wait_pending()

    def _allreduce_tensor(self, t, what, defer=False):
        if self._nccl is not None and t._device.kind == "cuda":
            return self._nccl.allreduce(t, what, defer)
        out = self._mpi.allreduce(t.numpy(), what)
        with tl.device(t.device):
            return tl.constant(out)

    def _cross_worker(self, reduced_cols, defer=False):
        if self._num_workers == 1:
            return reduced_cols
        firsts = [col[0] for col in reduced_cols]
        out = [None] * len(firsts)
        specs = [(f.shape.num_elements(), f.dtype) for f in firsts]
        for b in _bucketing.plan(specs, self._bucket_bytes):
            dev = firsts[b[0]]._device
            # pending results may only be viewed: copies to other devices need them finished
            defer_b = defer and all(t._device == dev for k in b for t in reduced_cols[k])
            with tl.device(dev.name):
                flat = _bucketing.pack([_to(firsts[k], dev) for k in b])
                red = self._allreduce_tensor(flat, f"all-reduce of {len(b)} tensor(s)", defer_b)
                parts = _bucketing.unpack(red, [tuple(firsts[k].shape) for k in b])
            for k, p in zip(b, parts):
                out[k] = [_to(p, t._device) for t in reduced_cols[k]]
        return out

    def _gather_workers(self, t, axis):
        if self._num_workers == 1:
            return t
        a = np.moveaxis(t.numpy(), axis, 0)
        g = np.moveaxis(self._mpi.allgather_rows(a), 0, axis)
        with tl.device(t.device):
            return tl.constant(np.ascontiguousarray(g))

    def _any_worker_each(self, flags, what):
        if self._num_workers == 1 or not len(flags):
            return [bool(f) for f in flags]
        counts = self._mpi.allreduce(np.array([1 if f else 0 for f in flags], dtype=np.int64), what)
        return [int(c) > 0 for c in counts]

    def _sum_over_workers(self, count):
        if self._num_workers == 1:
            return int(count)
        return int(self._mpi.allreduce(np.array([int(count)], dtype=np.int64), "sum of batch rows")[0])

    def _broadcast_first(self, t):
        if self._num_workers == 1:
            return t
        with tl.device(t.device):
            return tl.constant(self._mpi.bcast(t.numpy(), 0, "broadcast from the chief"))

    def _after_create(self, v):
        # Every worker starts from the chief's initial values.
        if self._num_workers > 1:
            val = self._mpi.bcast(v.numpy(), 0, f"initial value of {v.name}")
            with tl.device(v.device):
                _tensor.Variable.assign(v, tl.constant(val))

    def _close(self):
        super()._close()
        if self._sets_default:
            _device_mod.set_process_default(self._previous_default)
            self._sets_default = False
        if self._nccl is not None:
            self._nccl.close()
            self._nccl = None
        if self._mpi is not None:
            try:
                self._mpi.comm.Free()
            except Exception:
                pass
            self._mpi = None


def _to(t, dev):
    return _values.to_device(t, dev)


class MultiWorkerMirroredStrategy(_strategy.Strategy):
    """Synchronous training with one process per device, on one or several machines.

    Start the processes with MPI: ``mpiexec -n 2 python train.py`` on one
    machine, ``mpirun -H host1,host2 -np 8 python train.py`` on two (each
    process takes the GPU of its local rank, or the CPU). ``TF_CONFIG`` may
    describe the cluster instead; the processes still meet through MPI.

    Args:
      cluster_resolver: a cluster resolver (default: MPI when started by an MPI
        launcher, else ``TF_CONFIG``; a lone process is a cluster of one).
      communication_options: ``tl.distribute.experimental.CommunicationOptions``
        (collective timeout, bucket size, MPI or NCCL).

    Example:
      >>> strategy = tl.distribute.MultiWorkerMirroredStrategy()
      >>> with strategy.scope():
      ...     model = build_and_compile_model()
      >>> model.fit(dataset, epochs=3)   # batches are global; each worker trains on its share
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        if cluster_resolver is None:
            if _cr.launched_by_mpi():
                cluster_resolver = _cr.MPIClusterResolver()
                tf_config = _cr.TFConfigClusterResolver()
                if tf_config.cluster_spec():
                    cluster_resolver = tf_config
            else:
                cluster_resolver = _cr.TFConfigClusterResolver()
        options = communication_options or CommunicationOptions()
        super().__init__(MultiWorkerExtended(self, cluster_resolver, options))

    def __repr__(self):
        ext = self.extended
        return (f"<MultiWorkerMirroredStrategy worker {ext._worker_index} of {ext._num_workers} on "
                f"{ext.worker_devices[0]}>")
