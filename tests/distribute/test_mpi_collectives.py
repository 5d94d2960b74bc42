"""MpiCollectives' bookkeeping on a stand-in communicator (no second process): the arrival
tokens travel with the data collective, a peer at another collective is named, and a peer that
never arrives is named when the deadline passes."""
import numpy as np
import pytest

pytest.importorskip("mpi4py")

import tensorlab as tl  # noqa: E402
from tensorlab.distribute import _errors  # noqa: E402
from tensorlab.distribute.multi_worker import MpiCollectives  # noqa: E402


class _Req:
    def __init__(self, on_done=None, done=True):
        self._on_done, self._done = on_done, done

    def Test(self):
        if self._done and self._on_done:
            self._on_done()
            self._on_done = None
        return self._done


class _Comm:
    """Rank 0 of 2; rank 1's arrival token says `peer_at` (None: it never arrives)."""

    def __init__(self, peer_at=0):
        self.peer_at, self.posted = peer_at, []

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def Irecv(self, buf, source, tag):
        self.posted.append("recv")
        if self.peer_at is None:
            return _Req(done=False)
        at = self.peer_at
        return _Req(lambda: buf.__setitem__(0, at))

    def Isend(self, buf, dest, tag):
        self.posted.append("send")
        return _Req()

    def Iallreduce(self, a, out, op):
        self.posted.append("allreduce")
        return _Req(lambda: np.copyto(out, 2 * a))


def test_tokens_and_data_are_posted_together():
    comm = _Comm()
    mpi = MpiCollectives(comm, timeout=5.0)
    x = np.arange(6.0)
    np.testing.assert_array_equal(mpi.allreduce(x), 2 * x)
    assert comm.posted == ["recv", "send", "allreduce"]  # one round: no handshake first
    comm.peer_at = 1
    np.testing.assert_array_equal(mpi.allreduce(x + 1), 2 * (x + 1))  # the second collective is #1


def test_a_peer_at_another_collective_is_named():
    mpi = MpiCollectives(_Comm(peer_at=3), timeout=5.0)
    with pytest.raises(tl.errors.InternalError, match=r"rank 1 is at collective #3 while rank 0 is at #0"):
        mpi.allreduce(np.ones(2))


def test_a_peer_that_never_arrives_is_named_at_the_deadline():
    mpi = MpiCollectives(_Comm(peer_at=None), timeout=0.05)
    with pytest.raises(_errors.DeadlineExceededError, match=r"rank\(s\) \[1\] did not reach it"):
        mpi.allreduce(np.ones(2), what="all-reduce of 3 tensor(s)")
