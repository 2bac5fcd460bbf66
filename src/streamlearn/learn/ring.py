"""A fixed-size ring buffer of the most recent ``(x, y)`` records."""

from __future__ import annotations

import numpy as np

from streamlearn.stats.window import Window

__all__ = ["RingBuffer"]


class RingBuffer:
    """The last ``size`` rows of ``X`` and ``y``, in fixed memory.

    Parameters
    ----------
    size
        Records kept; older ones are overwritten.
    y_dtype
        ``float64`` for regression targets, ``int64`` for class codes.

    Examples
    --------
    >>> import numpy as np
    >>> buf = RingBuffer(3, np.float64)
    >>> buf.push(np.arange(8.0).reshape(4, 2), np.arange(4.0))
    >>> X, y = buf.ordered()
    >>> y.tolist(), X[:, 0].tolist()
    ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    """

    def __init__(self, size: int, y_dtype: type = np.float64) -> None:
        self.size = int(size)
        self._X = Window(size)
        self._y = Window(size, y_dtype)

    @property
    def X(self) -> np.ndarray:
        """The storage of the features (``(size, d)`` once a record came)."""
        return self._X.buffer

    def __len__(self) -> int:
        return len(self._y)

    def push(self, X: np.ndarray, y: np.ndarray) -> None:
        """Append records in order, overwriting the oldest when full."""
        self._X.push(X)
        self._y.push(y)

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the records held, oldest first."""
        return self._X.values(), self._y.values()
