"""``keras.utils.image_dataset_from_directory``: a labelled image dataset from class subfolders.

Images are decoded with Pillow (the optional ``pillow`` extra), imported on
first use.
"""
import os

import numpy as np

import tensorlab as tl

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _pil():
    from tensorlab.keras.utils.image_utils import pil_image
    return pil_image("image_dataset_from_directory")


def _index(directory, labels, class_names, follow_links, formats=ALLOWLIST_FORMATS,
           what="image_dataset_from_directory"):
    """``(paths, label ids, class names)`` of the ``formats`` files under ``directory`` (also used by
    ``audio_dataset_from_directory``)."""
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            missing = sorted(set(class_names) - set(subdirs))
            if missing or sorted(class_names) != sorted(subdirs):
                raise ValueError(f"{what}: class_names {list(class_names)} must match the "
                                 f"subdirectories of {directory!r}: {subdirs}")
            subdirs = list(class_names)
        paths, ids = [], []
        for i, d in enumerate(subdirs):
            for root, _, files in sorted(os.walk(os.path.join(directory, d), followlinks=follow_links)):
                for f in sorted(files):
                    if f.lower().endswith(formats):
                        paths.append(os.path.join(root, f))
                        ids.append(i)
        return paths, ids, subdirs
    paths = sorted(os.path.join(root, f) for root, _, files in os.walk(directory, followlinks=follow_links)
                   for f in files if f.lower().endswith(formats))
    if labels is None:
        return paths, None, None
    labels = list(labels)
    if len(labels) != len(paths):
        raise ValueError(f"{what}: {len(labels)} labels given but {len(paths)} files "
                         f"were found in {directory!r} (labels follow the sorted file paths)")
    return paths, labels, None


def _order(paths, ids, shuffle, validation_split, seed):
    """``(seed, paths, ids)``: the seed (drawn when None) and the files in the seeded order that
    shuffling and the validation split use, so both subsets of one seed agree."""
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    order = np.random.default_rng(seed).permutation(len(paths)) if (shuffle or validation_split) else \
        np.arange(len(paths))
    return seed, [paths[i] for i in order], None if ids is None else [ids[i] for i in order]


def _encode_label(i, label_mode, num_classes):
    """Label id ``i`` as ``label_mode`` asks: int32, float32 0/1 ("binary") or one-hot ("categorical")."""
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[i]
    if label_mode == "binary":
        return np.float32(i)
    return np.int32(i)


def _split(n, validation_split, subset, seed, what="image_dataset_from_directory"):
    if validation_split is None:
        if subset is not None:
            raise ValueError(f"{what}: subset needs validation_split")
        return {None: slice(0, n)}
    if not 0 < validation_split < 1:
        raise ValueError(f"{what}: validation_split must be in (0, 1), got {validation_split}")
    if subset not in ("training", "validation", "both"):
        raise ValueError(f"{what}: subset must be 'training', 'validation' or 'both' when "
                         f"validation_split is set, got {subset!r}")
    k = int(validation_split * n)
    return {"training": slice(0, n - k), "validation": slice(n - k, n)}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 verbose=True):
    """A ``tl.data.Dataset`` of ``(images, labels)`` batches from a directory tree.

    With ``labels="inferred"`` each subdirectory of ``directory`` is a class
    (sorted names; ``class_names`` fixes the order). Images are decoded with
    Pillow, converted to ``color_mode`` and resized to ``image_size``
    (float32 values in [0, 255]).

    Args:
      label_mode: ``"int"``, ``"categorical"`` (one-hot), ``"binary"`` (float32 0/1) or ``None``.
      validation_split, subset: hold out the last fraction of the (seed-shuffled)
        files; ``subset`` is ``"training"``, ``"validation"`` or ``"both"`` (a pair of datasets).
      shuffle, seed: shuffle the files (before the split, so both subsets agree given the seed).
      batch_size: ``None`` yields single images.

    Returns:
      A dataset with a ``class_names`` attribute (a pair for ``subset="both"``).

    Example:
      >>> train, val = tl.keras.utils.image_dataset_from_directory(
      ...     "photos/", validation_split=0.2, subset="both", seed=1, image_size=(64, 64))
    """
    if not os.path.isdir(directory):
        raise ValueError(f"image_dataset_from_directory: {directory!r} is not a directory")
    if color_mode not in _CHANNELS:
        raise ValueError(f"image_dataset_from_directory: color_mode must be 'grayscale', 'rgb' or 'rgba', "
                         f"got {color_mode!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"image_dataset_from_directory: label_mode must be 'int', 'categorical', 'binary' or "
                         f"None, got {label_mode!r}")
    if labels not in ("inferred", None) and isinstance(labels, str):
        raise ValueError(f"image_dataset_from_directory: labels must be 'inferred', None or a list, got {labels!r}")
    if labels is None:
        label_mode = None
    Image = _pil()
    paths, ids, names = _index(directory, labels, class_names, follow_links)
    if not paths:
        raise ValueError(f"image_dataset_from_directory: no images ({', '.join(ALLOWLIST_FORMATS)}) found in "
                         f"{directory!r}")
    num_classes = len(names) if names is not None else (int(max(ids)) + 1 if ids is not None else 0)
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f"image_dataset_from_directory: label_mode='binary' needs exactly 2 classes, found "
                         f"{num_classes}")
    seed, paths, ids = _order(paths, ids, shuffle, validation_split, seed)
    h, w = (int(image_size[0]), int(image_size[1]))
    pil_mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]

    def load(path):
        p = path.decode() if isinstance(path, bytes) else path
        with Image.open(p) as im:
            arr = np.asarray(im.convert(pil_mode), dtype=np.float32)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if crop_to_aspect_ratio:
            ih, iw = arr.shape[:2]
            s = min(ih / h, iw / w)
            ch, cw = int(h * s), int(w * s)
            top, left = (ih - ch) // 2, (iw - cw) // 2
            arr = arr[top:top + ch, left:left + cw]
        with tl.device("cpu"):
            return tl.image.resize(tl.constant(arr), [h, w], method=interpolation)

    def build(part):
        ps = paths[part]
        ds = tl.data.Dataset.from_tensor_slices(ps)
        if label_mode is not None:
            lab = np.stack([_encode_label(i, label_mode, num_classes) for i in ids[part]]) if ps else \
                np.zeros((0,), np.int32)
            ds = tl.data.Dataset.zip((ds, tl.data.Dataset.from_tensor_slices(lab)))
            ds = ds.map(lambda p, y: (load(p), y), num_parallel_calls=tl.data.AUTOTUNE)
        else:
            ds = ds.map(load, num_parallel_calls=tl.data.AUTOTUNE)
        if shuffle:
            ds = ds.shuffle(max(1, min(len(ps), 8 * (batch_size or 1))), seed=seed)
        if batch_size is not None:
            ds = ds.batch(batch_size)
        ds = ds.prefetch(tl.data.AUTOTUNE)
        ds.class_names = names
        ds.file_paths = list(ps)
        return ds

    parts = _split(len(paths), validation_split, subset, seed)
    if verbose:
        print(f"Found {len(paths)} files" + (f" belonging to {num_classes} classes." if names else "."))
    if subset == "both":
        return build(parts["training"]), build(parts["validation"])
    key = subset if validation_split is not None else None
    if verbose and validation_split is not None:
        n = parts[key].stop - parts[key].start
        print(f"Using {n} files for {subset}.")
    return build(parts[key])
