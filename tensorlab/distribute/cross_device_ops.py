"""Cross-device reductions of one process's replicas (``tf.distribute.CrossDeviceOps``).

- ``NcclAllReduce``: GPUs, NCCL through CuPy; one communicator per device
  (``NcclCommunicator.initAll``), the per-device calls grouped between
  ``groupStart``/``groupEnd``, each on its device's own stream, so a gradient
  bucket's reduction overlaps the backward computation that follows it (the
  compute streams wait for it only when the step's gradients are used:
  ``wait_pending``).
- ``ReductionToOneDevice``: copies every value to one device, sums there and
  copies the sum back (works for any mix of devices; the fallback).
- ``LocalSumAllReduce``: logical CPU devices share host memory, so the sum
  is computed once and every replica gets the same array.

All of them add the replicas' values in replica order, so every replica gets
the same bits. ``batch_all_reduce(op, columns)`` takes ``columns[k][r]`` =
replica r's k-th tensor and returns the same layout, reduced (SUM; the
strategy divides for MEAN).
"""
import tensorlab as tl
from tensorlab.core import device as _device_mod
from tensorlab.core import tensor as _tensor
from tensorlab.distribute import bucketing as _bucketing
from tensorlab.distribute import values as _values


def _to(t, dev):
    return _values.to_device(t, dev)


def _sum_in_order(values, dev):
    with tl.device(dev.name):
        vals = [_to(v, dev) for v in values]
        return vals[0] if len(vals) == 1 else tl.add_n(vals)


class PendingCollectives:
    """Collectives queued on side streams that no compute stream has waited for yet.

    Each entry holds the buffers the collective reads and writes, so that CuPy's memory pool
    cannot hand one of them to a compute-stream kernel while the collective still runs; ``wait``
    makes each device's current stream wait for the collectives and lets the buffers go.
    """

    def __init__(self):
        self._items = []

    def add(self, device_index, stream, *buffers):
        self._items.append((device_index, stream.record(), buffers))

    def wait(self):
        if not self._items:
            return
        import cupy
        items, self._items = self._items, []
        for dev, event, _ in items:
            with cupy.cuda.Device(dev):
                cupy.cuda.get_current_stream().wait_event(event)

    def __len__(self):
        return len(self._items)


class CrossDeviceOps:
    """Base class: reductions of per-replica values to destinations."""

    def _all_reduce_bucket(self, buffers):
        """SUM of one packed gradient buffer per replica, one result per replica.

        An implementation may leave the results pending on a side stream until
        ``wait_pending()``: before that, callers may only take views of them.
        """
        from tensorlab.distribute.strategy import ReduceOp
        return self.batch_all_reduce(ReduceOp.SUM, [buffers])[0]

    def wait_pending(self):
        """Orders the devices' current streams after the collectives left pending (none here)."""

    def reduce(self, reduce_op, per_replica_value, destinations=None):
        """Reduces a ``PerReplica`` value; returns one tensor on ``destinations`` (a device string)."""
        from tensorlab.distribute.strategy import ReduceOp, as_reduce_op
        from tensorlab.distribute.values import DistributedValues
        vals = list(per_replica_value.values) if isinstance(per_replica_value, DistributedValues) \
            else [per_replica_value]
        vals = [tl.convert_to_tensor(v) for v in vals]
        dev = _device_mod.parse(destinations) if isinstance(destinations, str) else vals[0]._device
        out = _sum_in_order(vals, dev)
        if as_reduce_op(reduce_op) is ReduceOp.MEAN:
            out = out / tl.cast(len(vals), out.dtype)
        return out

    def batch_reduce(self, reduce_op, value_destination_pairs):
        """``reduce`` of each ``(per_replica_value, destination)`` pair."""
        return [self.reduce(reduce_op, v, d) for v, d in value_destination_pairs]

    def broadcast(self, tensor, destinations):
        """Copies of ``tensor`` on each device in ``destinations``."""
        from tensorlab.distribute.values import Mirrored
        devs = [destinations] if isinstance(destinations, str) else list(destinations)
        return Mirrored([_to(tl.convert_to_tensor(tensor), _device_mod.parse(d)) for d in devs])

    def batch_all_reduce(self, reduce_op, columns):
        raise NotImplementedError

    def close(self):
        """Releases communicators and streams (a no-op for host reductions)."""


class LocalSumAllReduce(CrossDeviceOps):
    """The reduction for logical CPU devices: one sum, shared by all replicas."""

    def batch_all_reduce(self, reduce_op, columns):
        out = []
        for col in columns:
            s = _sum_in_order(col, col[0]._device)
            out.append([_to(s, t._device) for t in col])
        return out


class ReductionToOneDevice(CrossDeviceOps):
    """Sums on one device (``reduce_to_device``, default the first replica's) and copies back.

    Args:
      reduce_to_device: a device string, or None for the first replica's device.
      accumulation_fn: accepted for TF compatibility; values are summed with ``tl.add_n``.
    """

    def __init__(self, reduce_to_device=None, accumulation_fn=None):
        self._dev = None if reduce_to_device is None else _device_mod.parse(reduce_to_device)

    def batch_all_reduce(self, reduce_op, columns):
        out = []
        for col in columns:
            s = _sum_in_order(col, self._dev or col[0]._device)
            out.append([_to(s, t._device) for t in col])
        return out


class NcclAllReduce(CrossDeviceOps):
    """All-reduce across the GPUs of one process with NCCL (through CuPy).

    Tensors are packed into buckets of ``bucket_bytes`` (default 25 MB) and each
    bucket is one grouped NCCL call on per-device streams. The call returns once
    the work is queued. ``batch_all_reduce`` makes each device's compute stream
    wait for its NCCL stream through an event at once; a gradient bucket
    (``_all_reduce_bucket``) is left pending until ``wait_pending()``, which the
    training step calls once every bucket is queued, so the reduction runs on the
    GPU alongside the rest of the backward pass instead of holding it up.

    The replicas' kernels run on each GPU's default (legacy) stream, which all
    replica threads share, so one event per device captures everything a
    bucket depends on.

    Args:
      num_packs: accepted for TF compatibility (bucketing replaces packing).
      bucket_bytes: the fusion-buffer size.
    """

    def __init__(self, num_packs=1, bucket_bytes=_bucketing.DEFAULT_BUCKET_BYTES):
        self._bucket_bytes = int(bucket_bytes)
        self._groups = {}   # device ids -> (communicators, streams); a step may use a subset of devices
        self._pending = PendingCollectives()
        self._comms = None
        self._streams = None

    def _setup(self, device_ids):
        g = self._groups.get(device_ids)
        if g is None:
            if not nccl_available():
                from tensorlab.distribute import nccl_loader
                raise RuntimeError("NcclAllReduce: CuPy finds no NCCL library (libnccl.so.2; e.g. pip install "
                                   "nvidia-nccl-cu13); use tl.distribute.ReductionToOneDevice() instead. "
                                   f"Details: {nccl_loader.load().reason}")
            from cupy.cuda import nccl
            import cupy
            comms = nccl.NcclCommunicator.initAll(list(device_ids))
            streams = []
            for d in device_ids:
                with cupy.cuda.Device(d):
                    streams.append(cupy.cuda.Stream(non_blocking=True))
            g = self._groups[device_ids] = (comms, streams)
        self._comms, self._streams = g

    def batch_all_reduce(self, reduce_op, columns):
        if not columns:
            return []
        devs = [t._device for t in columns[0]]
        if any(d.kind != "cuda" for d in devs):
            return ReductionToOneDevice().batch_all_reduce(reduce_op, columns)
        self._setup(tuple(d.index for d in devs))
        specs = [(col[0].shape.num_elements(), col[0].dtype) for col in columns]
        out = [None] * len(columns)
        for bucket in _bucketing.plan(specs, self._bucket_bytes):
            shapes = [tuple(columns[k][0].shape) for k in bucket]
            packed = []
            for r, d in enumerate(devs):
                with tl.device(d.name):
                    packed.append(_bucketing.pack([columns[k][r] for k in bucket]))
            reduced = self.all_reduce_buffers(packed)
            for r, d in enumerate(devs):
                with tl.device(d.name):
                    parts = _bucketing.unpack(reduced[r], shapes)
                for k, p in zip(bucket, parts):
                    if out[k] is None:
                        out[k] = [None] * len(devs)
                    out[k][r] = p
        return out

    def _all_reduce_bucket(self, buffers):
        if any(b._device.kind != "cuda" for b in buffers):
            return super()._all_reduce_bucket(buffers)
        self._setup(tuple(b._device.index for b in buffers))
        return self.all_reduce_buffers(buffers, defer=True)

    def wait_pending(self):
        self._pending.wait()

    def all_reduce_buffers(self, buffers, defer=False):
        """In-place-free SUM all-reduce of one flat GPU tensor per device (queued, not awaited).

        The compute streams wait for the result at once, or, with ``defer``, at
        ``wait_pending()`` (only views of the results may be taken before that)."""
        import cupy
        from cupy.cuda import nccl
        dt = buffers[0]._data.dtype
        nccl_dt = _nccl_dtype(dt)
        n = int(buffers[0]._data.size)
        outs = []
        for b, s in zip(buffers, self._streams):
            with cupy.cuda.Device(b._device.index):
                s.wait_event(cupy.cuda.get_current_stream().record())
                outs.append(cupy.empty_like(b._data))
        nccl.groupStart()
        try:
            for comm, b, o, s in zip(self._comms, buffers, outs, self._streams):
                with cupy.cuda.Device(b._device.index):
                    comm.allReduce(b._data.data.ptr, o.data.ptr, n, nccl_dt, nccl.NCCL_SUM, s.ptr)
        finally:
            nccl.groupEnd()
        res = []
        for b, o, s in zip(buffers, outs, self._streams):
            if defer:
                self._pending.add(b._device.index, s, b._data, o)
            else:
                with cupy.cuda.Device(b._device.index):
                    cupy.cuda.get_current_stream().wait_event(s.record())
            res.append(_tensor.wrap(o, b._device))
        return res

    def close(self):
        self._pending.wait()
        for comms, _ in self._groups.values():
            for c in comms:
                try:
                    c.destroy()
                except Exception:
                    pass
        self._groups = {}
        self._comms = None
        self._streams = None


def _nccl_dtype(np_dtype):
    from cupy.cuda import nccl
    name = str(np_dtype)
    table = {"float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64, "float16": nccl.NCCL_FLOAT16,
             "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8, "int8": nccl.NCCL_INT8}
    if name == "bfloat16" and hasattr(nccl, "NCCL_BFLOAT16"):
        return nccl.NCCL_BFLOAT16
    if name not in table:
        raise TypeError(f"NcclAllReduce: dtype {name} has no NCCL reduction; cast to float32 first")
    return table[name]


def nccl_available():
    """True when CuPy's NCCL bindings are usable (loading a pip-installed libnccl if CuPy finds none)."""
    from tensorlab.distribute import nccl_loader
    return nccl_loader.load().available


def default_for(devices):
    """The reduction a strategy over ``devices`` uses unless told otherwise."""
    kinds = {d.kind for d in devices}
    if kinds == {"cpu"}:
        return LocalSumAllReduce()
    if kinds == {"cuda"} and nccl_available():
        return NcclAllReduce()
    return ReductionToOneDevice()


# TF also names these; on one machine they reduce like ReductionToOneDevice.
HierarchicalCopyAllReduce = ReductionToOneDevice
