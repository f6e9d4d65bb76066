"""A metric's samples as two packed arrays (values, and the repetition of each).

One row per sample made a run of 10,000 benchmarks x 30 samples 300,000 rows to
write, sort and turn into Python tuples (about 0.7 s of CPU a run read back,
most of a large compare); stored as one little-endian float64 array per metric
(and the repetitions as int64, ``NO_REPETITION`` where a sample has none) it is
10,000 rows and one ``frombuffer`` each. Values round-trip bit for bit.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

NO_REPETITION = -(2**63)  # a sample no repetition produced (a result file's)
#: the stored byte order is little-endian; ``array`` works in the machine's own. The
#: store itself needs no numpy (its import is a sixth of `perflab results list`), only
#: :func:`unpack_many`, for the statistics, does.
_SWAP = sys.byteorder != "little"


def _stored(packed: array[float] | array[int]) -> bytes:
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _read(code: str, blob: bytes) -> list[float] | list[int]:
    packed = array(code)
    packed.frombytes(blob)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()


def pack_values(values: Sequence[float]) -> bytes:
    return _stored(array("d", values))


def unpack_values(blob: bytes | None) -> list[float]:
    if not blob:
        return []
    values: list[float] = _read("d", blob)  # type: ignore[assignment]
    return values


def unpack_many(blobs: list[bytes | None]) -> tuple[list[int], FloatArray]:
    """Many metrics' values at once: how many each has, and all of them end to end."""
    import numpy as np

    lengths = [len(blob) // 8 if blob else 0 for blob in blobs]
    return lengths, np.frombuffer(b"".join(blob or b"" for blob in blobs), dtype="<f8")


def pack_repetitions(repetitions: Sequence[int | None]) -> bytes:
    return _stored(array("q", [NO_REPETITION if r is None else r for r in repetitions]))


def unpack_repetitions(blob: bytes | None, count: int) -> list[int | None]:
    """The repetitions of ``count`` samples (all None for a blob that was never written)."""
    if not blob:
        return [None] * count
    found: list[int | None] = _read("q", blob)  # type: ignore[assignment]
    if NO_REPETITION not in found:  # the usual case; a list scan of 30 values is quick
        return found
    if found.count(NO_REPETITION) == len(found):
        return [None] * count
    return [None if r == NO_REPETITION else r for r in found]
