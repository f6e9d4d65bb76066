"""A metric's samples as two packed arrays (values, and the repetition of each).

One row per sample made a run of 10,000 benchmarks x 30 samples 300,000 rows to
write, sort and turn into Python tuples (about 0.7 s of CPU a run read back,
most of a large compare); stored as one little-endian float64 array per metric
(and the repetitions as int64, ``NO_REPETITION`` where a sample has none) it is
10,000 rows and one ``frombuffer`` each. Values round-trip bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

NO_REPETITION = -(2**63)  # a sample no repetition produced (a result file's)
_VALUES = np.dtype("<f8")
_REPS = np.dtype("<i8")
FloatArray = npt.NDArray[np.float64]


def pack_values(values: Sequence[float]) -> bytes:
    return np.asarray(values, dtype=_VALUES).tobytes()


def unpack_values(blob: bytes | None) -> list[float]:
    if not blob:
        return []
    values: list[float] = np.frombuffer(blob, dtype=_VALUES).tolist()
    return values


def unpack_many(blobs: list[bytes | None]) -> tuple[list[int], FloatArray]:
    """Many metrics' values at once: how many each has, and all of them end to end."""
    lengths = [len(blob) // _VALUES.itemsize if blob else 0 for blob in blobs]
    return lengths, np.frombuffer(b"".join(blob or b"" for blob in blobs), dtype=_VALUES)


def pack_repetitions(repetitions: Sequence[int | None]) -> bytes:
    return np.asarray(
        [NO_REPETITION if r is None else r for r in repetitions], dtype=_REPS
    ).tobytes()


def unpack_repetitions(blob: bytes | None, count: int) -> list[int | None]:
    """The repetitions of ``count`` samples (all None for a blob that was never written)."""
    if not blob:
        return [None] * count
    found: list[int | None] = np.frombuffer(blob, dtype=_REPS).tolist()
    if NO_REPETITION not in found:  # the usual case; a list scan beats numpy on 30 values
        return found
    if found.count(NO_REPETITION) == len(found):
        return [None] * count
    return [None if r == NO_REPETITION else r for r in found]
