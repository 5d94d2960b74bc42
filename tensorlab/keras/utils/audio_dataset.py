"""``keras.utils.audio_dataset_from_directory``: a labelled audio dataset from class subfolders of
``.wav`` files (decoded by ``tl.audio.decode_wav``)."""
import os

import numpy as np

import tensorlab as tl
from tensorlab.keras.utils.image_dataset import _encode_label, _index, _order, _split

_WHAT = "audio_dataset_from_directory"


def _load(path, output_sequence_length, sampling_rate):
    p = path.decode() if isinstance(path, bytes) else path
    with open(p, "rb") as f:
        audio, rate = tl.audio.decode_wav(f.read())
    if sampling_rate is not None and int(rate) != sampling_rate:
        raise ValueError(f"{_WHAT}: {p} has a sample rate of {int(rate)} Hz, not sampling_rate={sampling_rate}; "
                         "tensorlab does not resample (convert the files, or leave sampling_rate=None)")
    x = audio.numpy()
    if output_sequence_length is not None:
        n = output_sequence_length
        x = x[:n] if len(x) >= n else np.concatenate([x, np.zeros((n - len(x), x.shape[1]), np.float32)])
    return x


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """A ``tl.data.Dataset`` of ``(audio, labels)`` batches from a directory of ``.wav`` files.

    Audio is float32 ``(batch, samples, channels)``: cut or zero-padded to ``output_sequence_length``,
    or else padded to the longest clip of each batch (as Keras). Labels, splits and shuffling work
    as in ``image_dataset_from_directory``.

    Args:
      sampling_rate: if set, every file must have this rate (tensorlab does not resample).
      ragged: must be False (tensorlab has no ragged tensors).

    Returns:
      A dataset with ``class_names`` (a pair for ``subset="both"``).

    Example:
      >>> train, val = tl.keras.utils.audio_dataset_from_directory(
      ...     "mini_speech_commands/", validation_split=0.2, subset="both", seed=0, output_sequence_length=16000)
    """
    if not os.path.isdir(directory):
        raise ValueError(f"{_WHAT}: {directory!r} is not a directory")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"{_WHAT}: label_mode must be 'int', 'categorical', 'binary' or None, got {label_mode!r}")
    if ragged:
        raise ValueError(f"{_WHAT}: ragged=True needs ragged tensors, which tensorlab does not have; use "
                         "output_sequence_length or the default padding to the longest clip of each batch")
    if output_sequence_length is not None and (not isinstance(output_sequence_length, int)
                                               or output_sequence_length <= 0):
        raise ValueError(f"{_WHAT}: output_sequence_length must be a positive int or None, got "
                         f"{output_sequence_length!r}")
    if sampling_rate is not None and (not isinstance(sampling_rate, int) or sampling_rate <= 0):
        raise ValueError(f"{_WHAT}: sampling_rate must be a positive int or None, got {sampling_rate!r}")
    if labels is None:
        label_mode = None
    paths, ids, names = _index(directory, labels, class_names, follow_links, (".wav",), _WHAT)
    if not paths:
        raise ValueError(f"{_WHAT}: no .wav files found in {directory!r}")
    num_classes = len(names) if names is not None else (int(max(ids)) + 1 if ids is not None else 0)
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f"{_WHAT}: label_mode='binary' needs exactly 2 classes, found {num_classes}")
    seed, paths, ids = _order(paths, ids, shuffle, validation_split, seed)

    def build(part):
        ps = paths[part]
        lab = None if ids is None or label_mode is None else [_encode_label(i, label_mode, num_classes)
                                                              for i in ids[part]]
        channels = _load(ps[0], 1, None).shape[1] if ps else 1

        def gen():
            for k, p in enumerate(ps):
                x = _load(p, output_sequence_length, sampling_rate)
                yield x if lab is None else (x, lab[k])

        audio_spec = tl.TensorSpec([output_sequence_length, channels], tl.float32)
        spec = audio_spec if lab is None else (audio_spec, tl.TensorSpec(np.shape(lab[0]) if lab else [],
                                                                           tl.float32 if label_mode != "int"
                                                                           else tl.int32))
        ds = tl.data.Dataset.from_generator(gen, output_signature=spec)
        if shuffle:
            ds = ds.shuffle(max(1, min(len(ps), 8 * (batch_size or 1))), seed=seed)
        if batch_size is not None:
            ds = ds.batch(batch_size) if output_sequence_length is not None else ds.padded_batch(batch_size)
        ds = ds.prefetch(tl.data.AUTOTUNE)
        ds.class_names = names
        ds.file_paths = list(ps)
        return ds

    parts = _split(len(paths), validation_split, subset, seed, _WHAT)
    if verbose:
        print(f"Found {len(paths)} files" + (f" belonging to {num_classes} classes." if names else "."))
    if subset == "both":
        return build(parts["training"]), build(parts["validation"])
    return build(parts[subset if validation_split is not None else None])
