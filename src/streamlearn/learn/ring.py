"""A fixed-size ring buffer of the most recent ``(x, y)`` records."""

from __future__ import annotations

import numpy as np

__all__ = ["RingBuffer"]


class RingBuffer:
    """The last ``size`` rows of ``X`` and ``y``, in fixed memory.

    Storage is allocated on the first push (when the number of features is
    known) and never grows afterwards.

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
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self.size = int(size)
        self.y_dtype = y_dtype
        self.X: np.ndarray = np.zeros((0, 0))
        self.y: np.ndarray = np.zeros(0, dtype=y_dtype)
        self.pos = 0  # where the next record goes
        self.count = 0  # records held, at most size

    def __len__(self) -> int:
        return self.count

    def push(self, X: np.ndarray, y: np.ndarray) -> None:
        """Append records in order, overwriting the oldest when full."""
        n = len(X)
        if n == 0:
            return
        if self.X.shape[0] == 0:
            self.X = np.zeros((self.size, X.shape[1]))
            self.y = np.zeros(self.size, dtype=self.y_dtype)
        elif X.shape[1] != self.X.shape[1]:
            raise ValueError(f"window holds {self.X.shape[1]} features, got {X.shape[1]}")
        if n > self.size:  # only the last `size` records can survive
            X, y = X[-self.size :], y[-self.size :]
            self.pos = (self.pos + n - self.size) % self.size
            n = self.size
        idx = (self.pos + np.arange(n)) % self.size
        self.X[idx] = X
        self.y[idx] = y
        self.pos = (self.pos + n) % self.size
        self.count = min(self.size, self.count + n)

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the records held, oldest first."""
        if self.count < self.size:
            return self.X[: self.count].copy(), self.y[: self.count].copy()
        order = (self.pos + np.arange(self.size)) % self.size
        return self.X[order], self.y[order]
