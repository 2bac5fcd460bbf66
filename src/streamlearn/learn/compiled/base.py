"""What the compiled learners share in Python: the layout of columns, classes, batches.

A compiled learner fixes its layout at the first record (which columns are
numbers, which are categories), keeps a running standardiser of the numbers,
and hands its arrays to three numba kernels built from the same row
functions: ``predict``, ``learn`` and ``test_then_train``. So the batch
loop equals the per-record loop bit for bit, and the state is a fixed set of
arrays whose size does not grow with the stream (classifiers grow a class
axis up to ``max_classes``).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from streamlearn.learn.base import NO_CLASS, Learner

__all__ = ["CompiledClassifier", "CompiledLearner", "CompiledRegressor"]


class CompiledLearner(Learner):
    """Base of the compiled learners (see the module doc).

    Subclasses set ``_params`` in ``__init__`` and implement :meth:`_allocate`
    (arrays for ``dn`` numbers and ``dc`` categories), :meth:`_layout`,
    :meth:`_state` and the three ``_run_*`` methods calling their kernels.
    """

    def __init__(self) -> None:
        super().__init__()
        self.n_features_in_ = -1

    # -- layout -----------------------------------------------------------------------
    def _ensure(self, d: int) -> None:
        if self.n_features_in_ >= 0:
            if d != self.n_features_in_:
                raise ValueError(
                    f"{type(self).__name__} was fitted with {self.n_features_in_} features, got {d}"
                )
            return
        cat = self.categorical_mask if len(self.categorical_mask) == d else np.zeros(d, dtype=bool)
        self.num_idx = np.flatnonzero(~cat).astype(np.int64)
        self.cat_idx = np.flatnonzero(cat).astype(np.int64)
        dn = len(self.num_idx)
        self.mean, self.m2 = np.zeros(dn), np.zeros(dn)
        self.seen = np.zeros(dn, dtype=np.int64)
        self._allocate(dn, len(self.cat_idx))
        self.n_features_in_ = d

    @abstractmethod
    def _allocate(self, dn: int, dc: int) -> None: ...

    @abstractmethod
    def _layout(self) -> tuple[Any, ...]: ...

    @abstractmethod
    def _state(self) -> tuple[Any, ...]: ...

    def _scaler(self) -> tuple[np.ndarray, ...]:
        return (self.num_idx, self.mean, self.m2, self.seen)

    def _prepare(self, X: Any, y: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        dtype = np.int64 if self.task == "classification" else np.float64
        yy = np.zeros(0, dtype=dtype) if y is None else np.ascontiguousarray(y, dtype=dtype)
        yy = yy.reshape(-1)
        if y is not None and len(yy) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(yy)}")
        self._ensure(X.shape[1])
        return X, yy

    # -- the contract --------------------------------------------------------------------
    @abstractmethod
    def _run_predict(self, X: np.ndarray, out: np.ndarray) -> None: ...

    @abstractmethod
    def _run_learn(self, X: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _run_test_then_train(self, X: np.ndarray, y: np.ndarray, out: np.ndarray) -> None: ...

    def _empty(self, n: int) -> np.ndarray:
        if self.task == "classification":
            return np.full(n, NO_CLASS, dtype=np.int64)
        return np.zeros(n, dtype=np.float64)

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        X, _ = self._prepare(X)
        out = self._empty(len(X))
        if len(X):
            self._run_predict(X, out)
        return out

    def predict_one(self, x: np.ndarray) -> Any:
        return self.predict_many(x)[0].item()

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        X, yy = self._prepare(X, y)
        if len(X):
            self._run_learn(X, yy)
            self.n_learned += len(X)

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self.learn_many(x, np.array([y]))

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Predict each record with everything before it, then learn it (one compiled loop)."""
        X, yy = self._prepare(X, y)
        out = self._empty(len(X))
        if len(X):
            self._run_test_then_train(X, yy, out)
            self.n_learned += len(X)
        return out


class CompiledRegressor(CompiledLearner):
    task: ClassVar[Any] = "regression"


class CompiledClassifier(CompiledLearner):
    """A compiled learner with a class axis that grows with the labels seen.

    Subclasses list their arrays with a class axis in :attr:`_class_arrays`
    (attribute name, axis); labels beyond ``max_classes`` are not learned and
    are counted in the ``labels_skipped`` diagnostic.
    """

    task: ClassVar[Any] = "classification"
    _class_arrays: ClassVar[tuple[tuple[str, int], ...]] = ()

    def __init__(self, max_classes: int = 64) -> None:
        if max_classes < 1:
            raise ValueError("max_classes must be >= 1")
        super().__init__()
        self.max_classes = int(max_classes)
        self.n_classes = np.zeros(1, dtype=np.int64)  # classes allocated (kernels read it)
        self.n_skipped_ = 0

    def _prepare(self, X: Any, y: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
        X, yy = super()._prepare(X, y)
        if len(yy):
            top = int(yy.max())
            if top >= self.n_classes[0] and self.n_classes[0] < self.max_classes:
                self._grow(min(top + 1, self.max_classes))
            self.n_skipped_ += int(np.count_nonzero((yy < 0) | (yy >= self.max_classes)))
        return X, yy

    def _grow(self, want: int) -> None:
        have = int(self.n_classes[0])
        # geometric growth: a stream of new classes costs few copies
        want = min(self.max_classes, max(want, 2 * have, 2))
        for name, axis in self._class_arrays:
            old = getattr(self, name)
            shape = list(old.shape)
            shape[axis] = want
            new = np.zeros(shape, dtype=old.dtype)
            index = [slice(None)] * old.ndim
            index[axis] = slice(0, have)
            new[tuple(index)] = old[tuple(index)]
            setattr(self, name, new)
        self.n_classes[0] = want

    def diagnostics(self) -> dict[str, int]:
        """Labels not learned because the class table was full (``max_classes``)."""
        return {"labels_skipped": self.n_skipped_} if self.n_skipped_ else {}
