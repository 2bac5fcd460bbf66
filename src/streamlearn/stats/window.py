"""The last ``size`` values or rows of a stream, in fixed memory (a ring buffer)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Window"]


class Window:
    """The last ``size`` values (or rows) pushed, oldest first, in fixed memory.

    Storage is allocated on the first push, when the shape of a row is
    known, and never grows afterwards.

    Examples
    --------
    >>> w = Window(3)
    >>> w.push(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> w.values().tolist(), w.mean()
    ([2.0, 3.0, 4.0], 3.0)
    """

    def __init__(self, size: int, dtype: Any = np.float64) -> None:
        if size < 1:
            raise ValueError(f"window size must be >= 1, got {size}")
        self.size = int(size)
        self.dtype = dtype
        self.buffer: np.ndarray = np.zeros(0, dtype=dtype)
        self.head = 0  # where the next value goes
        self.filled = 0  # values held, at most size

    def __len__(self) -> int:
        return self.filled

    def push(self, values: np.ndarray) -> None:
        """Append values (or rows) in order, overwriting the oldest when full."""
        values = np.asarray(values, dtype=self.dtype)[-self.size :]
        n = len(values)
        if n == 0:
            return
        if self.buffer.shape[:1] != (self.size,):
            self.buffer = np.zeros((self.size, *values.shape[1:]), dtype=self.dtype)
        elif values.shape[1:] != self.buffer.shape[1:]:
            raise ValueError(
                f"window rows have shape {self.buffer.shape[1:]}, got {values.shape[1:]}"
            )
        end = self.head + n
        if end <= self.size:
            self.buffer[self.head : end] = values
        else:
            first = self.size - self.head
            self.buffer[self.head :] = values[:first]
            self.buffer[: n - first] = values[first:]
        self.head = end % self.size
        self.filled = min(self.size, self.filled + n)

    def values(self) -> np.ndarray:
        """A copy of what the window holds, oldest first."""
        if self.filled < self.size:
            return self.buffer[: self.filled].copy()
        return np.concatenate((self.buffer[self.head :], self.buffer[: self.head]))

    def mean(self) -> float:
        """Mean of the values held (NaN when empty); summed afresh, so identical after a restart."""
        return float(self.values().mean()) if self.filled else float("nan")
