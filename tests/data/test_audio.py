"""tl.audio.decode_wav / encode_wav and keras.utils.audio_dataset_from_directory."""
import io
import wave

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras


def _wav(samples, rate=8000, width=2):
    """PCM bytes of int samples (n, channels) written by Python's wave module."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 1:
            w.writeframes((samples + 128).astype(np.uint8).tobytes())
        elif width == 3:
            v = samples.astype(np.int64) & 0xFFFFFF
            w.writeframes(np.stack([v & 255, (v >> 8) & 255, v >> 16], -1).astype(np.uint8).tobytes())
        else:
            w.writeframes(samples.astype({2: "<i2", 4: "<i4"}[width]).tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_decode_pcm_widths_against_the_integer_samples(rng, width):
    bits = 8 * width
    ints = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), size=(50, 2))
    audio, rate = tl.audio.decode_wav(_wav(ints, 22050, width))
    assert audio.dtype == tl.float32 and audio.shape == (50, 2) and int(rate) == 22050 and rate.dtype == tl.int32
    np.testing.assert_allclose(audio.numpy(), ints / 2.0 ** (bits - 1), rtol=1e-6, atol=1e-7)


def test_channels_samples_and_round_trip(rng):
    x = rng.uniform(-0.9, 0.9, size=(100, 1)).astype(np.float32)
    data = tl.audio.encode_wav(x, 16000)
    back, rate = tl.audio.decode_wav(data)
    np.testing.assert_allclose(back.numpy(), x, atol=1.0 / 32768)
    two, _ = tl.audio.decode_wav(data, desired_channels=2, desired_samples=120)
    assert two.shape == (120, 2) and not two.numpy()[100:].any()
    np.testing.assert_array_equal(two.numpy()[:100, 0], two.numpy()[:100, 1])
    cut, _ = tl.audio.decode_wav(data, desired_samples=40)
    assert cut.shape == (40, 1)
    stereo = tl.audio.encode_wav(np.concatenate([x, -x], 1), 8000)
    assert tl.audio.decode_wav(stereo, desired_channels=1)[0].shape == (100, 1)
    with pytest.raises(tl.errors.InvalidArgumentError, match="not a PCM WAV file"):
        tl.audio.decode_wav(b"RIFF....junk")
    with pytest.raises(tl.errors.InvalidArgumentError, match="has 2 channels; cannot make 3"):
        tl.audio.decode_wav(stereo, desired_channels=3)
    with pytest.raises(TypeError, match="contents must be the WAV file's bytes"):
        tl.audio.decode_wav(np.zeros(3))
    with pytest.raises(tl.errors.InvalidArgumentError, match="float \\(samples, channels\\)"):
        tl.audio.encode_wav(np.zeros(10), 8000)


def _tree(tmp_path, rng, lengths=(30, 45, 20, 50, 35, 25)):
    for k, n in enumerate(lengths):
        cls = ("no", "yes")[k % 2]
        (tmp_path / cls).mkdir(exist_ok=True)
        x = rng.uniform(-0.5, 0.5, size=(n, 1)).astype(np.float32) + (0.3 if cls == "yes" else -0.3)
        (tmp_path / cls / f"{k}.wav").write_bytes(tl.audio.encode_wav(x, 8000))
    (tmp_path / "yes" / "notes.txt").write_text("not audio")


def test_audio_dataset_padding_labels_and_splits(tmp_path, rng):
    _tree(tmp_path, rng)
    ds = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["no", "yes"]
    batches = list(ds)
    # sorted paths: no/0 (30), no/2 (20), no/4 (35), yes/1 (45) | yes/3 (50), yes/5 (25): each batch
    # is padded to its longest clip
    assert [tuple(a.shape) for a, _ in batches] == [(4, 45, 1), (2, 50, 1)]
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] and batches[0][1].dtype == tl.int32
    for (a, y) in batches:  # the "yes" clips are positive on average, the "no" ones negative
        means = a.numpy().sum(axis=(1, 2)) / np.maximum((a.numpy() != 0).sum(axis=(1, 2)), 1)
        assert ((means > 0) == (y.numpy() == 1)).all()
    fixed = keras.utils.audio_dataset_from_directory(str(tmp_path), batch_size=None, output_sequence_length=40,
                                                     label_mode="categorical", seed=3, verbose=False)
    items = list(fixed)
    assert len(items) == 6 and all(a.shape == (40, 1) and y.shape == (2,) for a, y in items)
    train, val = keras.utils.audio_dataset_from_directory(str(tmp_path), validation_split=0.34, subset="both",
                                                          seed=1, batch_size=2, verbose=False)
    assert sorted(train.file_paths + val.file_paths) == sorted(fixed.file_paths) and len(val.file_paths) == 2


def test_audio_dataset_errors(tmp_path, rng):
    _tree(tmp_path, rng)
    with pytest.raises(ValueError, match="sample rate of 8000 Hz, not sampling_rate=16000"):
        list(keras.utils.audio_dataset_from_directory(str(tmp_path), sampling_rate=16000, verbose=False))
    with pytest.raises(ValueError, match="ragged=True needs ragged tensors"):
        keras.utils.audio_dataset_from_directory(str(tmp_path), ragged=True)
    with pytest.raises(ValueError, match="not a directory"):
        keras.utils.audio_dataset_from_directory(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="subset must be 'training', 'validation' or 'both'"):
        keras.utils.audio_dataset_from_directory(str(tmp_path), validation_split=0.5)
