"""Who the workers are: from ``mpiexec``/``mpirun`` (MPI) or from ``TF_CONFIG``.

``MPIClusterResolver`` reads rank and size from MPI (mpi4py); it is what
``MultiWorkerMirroredStrategy`` uses when the process was started by
``mpiexec``. ``TFConfigClusterResolver`` reads TF's ``TF_CONFIG`` JSON::

    {"cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]},
     "task": {"type": "worker", "index": 0}}

The processes still meet through MPI (``mpirun -H host0,host1,host2 -np 3``):
``TF_CONFIG`` only says which task each is, and must agree with the MPI ranks
(the chief first, then the workers in order).
"""
import json
import os

_MPI_ENV = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "MPI_LOCALRANKID",
            "HYDI_CONTROL_FD", "PMI_FD")


def launched_by_mpi():
    """True when an MPI launcher started this process (its environment says so)."""
    return any(k in os.environ for k in _MPI_ENV)


def mpi_world():
    """mpi4py's ``COMM_WORLD`` (MPI is initialized on first use)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("tl.distribute: multi-worker training needs mpi4py and an MPI library; "
                          "pip install mpi4py mpich (or use the system MPI's mpi4py)") from e
    return MPI.COMM_WORLD


class ClusterSpec:
    """Jobs and their task addresses (``tf.train.ClusterSpec``)."""

    def __init__(self, cluster):
        self._cluster = {k: list(v) for k, v in dict(cluster or {}).items()}

    def as_dict(self):
        return {k: list(v) for k, v in self._cluster.items()}

    def jobs(self):
        return list(self._cluster)

    def num_tasks(self, job_name):
        return len(self._cluster.get(job_name, ()))

    def task_address(self, job_name, task_index):
        return self._cluster[job_name][task_index]

    def __bool__(self):
        return bool(self._cluster)

    def __repr__(self):
        return f"ClusterSpec({self._cluster})"


class ClusterResolver:
    """Base class: ``cluster_spec()``, ``task_type``, ``task_id``, ``num_workers``, ``is_chief``."""

    task_type = "worker"
    task_id = 0
    rpc_layer = None
    environment = ""

    def cluster_spec(self):
        return ClusterSpec({})

    @property
    def num_workers(self):
        spec = self.cluster_spec()
        return max(1, spec.num_tasks("chief") + spec.num_tasks("worker"))

    @property
    def global_index(self):
        """This task's rank: the chief is 0, then workers in order."""
        spec = self.cluster_spec()
        if self.task_type == "chief":
            return self.task_id
        return spec.num_tasks("chief") + self.task_id

    @property
    def is_chief(self):
        spec = self.cluster_spec()
        if spec.num_tasks("chief"):
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_id == 0

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        from tensorlab.core import device
        return {"GPU": device.gpu_count()}


class TFConfigClusterResolver(ClusterResolver):
    """Reads the cluster and this task from the ``TF_CONFIG`` environment variable.

    Raises:
      ValueError: for JSON that is not a valid TF_CONFIG, naming what is wrong.
    """

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        raw = os.environ.get("TF_CONFIG", "")
        try:
            cfg = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {raw[:200]!r}") from None
        self._spec = ClusterSpec(cfg.get("cluster", {}))
        task = cfg.get("task", {})
        self.task_type = task_type or task.get("type") or "worker"
        self.task_id = int(task_id if task_id is not None else task.get("index", 0))
        self.rpc_layer = rpc_layer or cfg.get("rpc_layer")
        self.environment = environment or cfg.get("environment", "")
        if self._spec:
            n = self._spec.num_tasks(self.task_type)
            if self.task_type not in ("chief", "worker", "evaluator"):
                raise ValueError(f"TF_CONFIG: task type {self.task_type!r} is not supported by "
                                 "MultiWorkerMirroredStrategy (use 'chief' or 'worker')")
            if self.task_type != "evaluator" and not 0 <= self.task_id < n:
                raise ValueError(f"TF_CONFIG: task index {self.task_id} is out of range for job "
                                 f"{self.task_type!r}, which has {n} task(s): {self._spec.as_dict()}")

    def cluster_spec(self):
        return self._spec


class MPIClusterResolver(ClusterResolver):
    """Rank and size from MPI: rank 0 is the chief.

    Args:
      comm: an mpi4py communicator (default ``COMM_WORLD``).
    """

    def __init__(self, comm=None):
        self._comm = comm if comm is not None else mpi_world()
        self.task_type = "worker"
        self.task_id = self._comm.Get_rank()
        self._size = self._comm.Get_size()
        from mpi4py import MPI
        local = self._comm.Split_type(MPI.COMM_TYPE_SHARED)
        self.local_rank = local.Get_rank()
        self.local_size = local.Get_size()
        local.Free()

    @property
    def comm(self):
        return self._comm

    def cluster_spec(self):
        return ClusterSpec({"worker": [f"rank{i}" for i in range(self._size)]})

    @property
    def num_workers(self):
        return self._size

    @property
    def global_index(self):
        return self.task_id

    @property
    def is_chief(self):
        return self.task_id == 0


class SimpleClusterResolver(ClusterResolver):
    """A resolver from an explicit ``ClusterSpec`` and task (``tf.distribute.cluster_resolver.SimpleClusterResolver``)."""

    def __init__(self, cluster_spec, master="", task_type=None, task_id=None, environment="", num_accelerators=None,
                 rpc_layer=None):
        self._spec = cluster_spec if isinstance(cluster_spec, ClusterSpec) else ClusterSpec(cluster_spec)
        self.task_type = task_type or "worker"
        self.task_id = int(task_id or 0)
        self.environment = environment
        self.rpc_layer = rpc_layer

    def cluster_spec(self):
        return self._spec
