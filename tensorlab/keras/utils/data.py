"""Batch generators: ``PyDataset`` (Keras 3) and its older name ``Sequence``."""


class PyDataset:
    """Base class for batch sources: implement ``__len__`` (batches per epoch) and
    ``__getitem__(index)`` returning ``(x, y)`` or ``(x, y, sample_weight)``.

    Example:
      >>> class Batches(keras.utils.PyDataset):
      ...     def __init__(self, x, y, batch_size, **kwargs):
      ...         super().__init__(**kwargs)
      ...         self.x, self.y, self.batch_size = x, y, batch_size
      ...     def __len__(self):
      ...         return -(-len(self.x) // self.batch_size)
      ...     def __getitem__(self, i):
      ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
      ...         return self.x[s], self.y[s]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after each epoch (shuffle here if needed)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset
