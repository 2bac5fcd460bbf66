"""A learner that lives in a process of its own, for ``--workers`` with River or scikit-learn.

Compiled learners release the GIL, so the race steps them on threads. River,
scikit-learn and plain Python learners hold it: on threads they take turns.
:class:`RemoteLearner` keeps such a learner in a worker process and forwards
every call through a pipe; the race's thread that waits for the answer
releases the GIL, so the worker processes learn at the same time.

- The results are those of the learner in this process: the same code runs on
  the same records in the same order.
- The learner's state stays in the worker. Pickling the proxy (a checkpoint)
  asks the worker for the learner, so a checkpoint holds the learner itself
  and a restored race starts new workers from it.
- An exception in the learner comes back with the learner's own traceback;
  a worker that dies (killed, out of memory) is reported as such.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from typing import Any

import numpy as np

from streamlearn.learn.base import Classifier, Learner, Regressor

__all__ = [
    "RemoteClassifier",
    "RemoteError",
    "RemoteLearner",
    "RemoteRegressor",
    "holds_gil",
    "remote",
]


def holds_gil(model: Learner) -> bool:
    """Whether a learner keeps the GIL while it learns (so threads do not help it)."""
    return bool(getattr(model, "holds_gil", False))


class RemoteError(RuntimeError):
    """A learner raised in its worker process: its error (``ValueError: ...``) and traceback."""

    def __init__(self, worker_error: str, worker_traceback: str) -> None:
        super().__init__(worker_error)
        self.worker_error = worker_error
        self.worker_traceback = worker_traceback


def _serve(conn: Any) -> None:
    """The worker process: hold one learner, run what the proxy asks, answer."""
    model: Learner | None = None
    while True:
        try:
            op, args = conn.recv()
        except EOFError:  # the proxy is gone
            return
        if op == "stop":
            return
        try:
            if op == "set":
                model, result = args[0], None
            elif op == "get":
                result = model
            else:
                assert model is not None
                result = getattr(model, op)(*args)
            conn.send(("ok", result, model.n_learned if model is not None else 0))
        except Exception as exc:
            lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            learned = model.n_learned if model is not None else 0
            conn.send(("error", (error, "".join(lines)), learned))


class RemoteLearner(Learner):
    """Stands in for ``model``, which learns in a worker process.

    Make one with :func:`remote`.
    """

    def __init__(self, model: Learner) -> None:
        self.name = type(model).__name__
        self.n_learned = model.n_learned
        self.feature_names = model.feature_names
        self.categorical_mask = model.categorical_mask
        self._dtype = model._prediction_dtype()
        self._model: Learner | None = model  # until a worker holds it
        self._conn: Any = None
        self._process: Any = None

    # -- the worker ------------------------------------------------------------
    def _call(self, op: str, *args: Any) -> Any:
        if self._conn is None:
            self._start()
        try:
            self._conn.send((op, args))
            status, result, learned = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._process.exitcode if self._process is not None else None
            self._conn = self._process = None
            raise RuntimeError(
                f"the worker process of {self.name} died (exit code {code})"
            ) from None
        self.n_learned = learned  # also after an error: where the learner stopped
        if status == "error":
            raise RemoteError(*result)
        return result

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork: Kafka and numba threads
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True, name=self.name)
        process.start()
        child.close()
        self._conn, self._process = parent, process
        model, self._model = self._model, None
        self._call("set", model)

    def local(self) -> Learner:
        """The learner itself, copied back from its worker (which keeps it)."""
        if self._conn is None:
            assert self._model is not None
            return self._model
        model: Learner = self._call("get")
        return model

    def close(self) -> None:
        """Stop the worker, keeping the learner here."""
        if self._conn is None:
            return
        self._model = self.local()
        with contextlib.suppress(OSError):  # a dead worker: nothing to stop
            self._conn.send(("stop", ()))
        self._process.join(timeout=5)
        self._conn.close()
        self._conn = self._process = None

    def __del__(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.is_alive():
            process.terminate()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = self.local()
        state["_conn"] = state["_process"] = None
        return state

    # -- the learner contract, forwarded ------------------------------------------
    def set_features(self, names: Any, categorical: Any) -> None:
        super().set_features(names, categorical)
        if self._conn is None:
            assert self._model is not None
            self._model.set_features(names, categorical)
        else:
            self._call("set_features", names, categorical)

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        self._call("learn_one", x, y)

    def predict_one(self, x: np.ndarray) -> Any:
        return self._call("predict_one", x)

    def learn_many(self, X: np.ndarray, y: np.ndarray) -> None:
        self._call("learn_many", X, y)

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = self._call("predict_many", X)
        return out

    def test_then_train(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        out: np.ndarray = self._call("test_then_train", X, y)
        return out

    def clone(self) -> Learner:
        return remote(self.local().clone())

    def diagnostics(self) -> dict[str, int]:
        if self._conn is None:
            return self.local().diagnostics()
        found: dict[str, int] = self._call("diagnostics")
        return found

    def _prediction_dtype(self) -> type:
        return self._dtype

    def __repr__(self) -> str:
        return f"RemoteLearner({self.local()!r})"


class RemoteRegressor(RemoteLearner, Regressor):
    """A regressor learning in a worker process."""


class RemoteClassifier(RemoteLearner, Classifier):
    """A classifier learning in a worker process."""


def remote(model: Learner) -> RemoteLearner:
    """``model``, moved to a worker process of its own (started on the first call).

    Examples
    --------
    >>> import numpy as np
    >>> from streamlearn.learn.baselines import Mean
    >>> proxy = remote(Mean())
    >>> proxy.test_then_train(np.zeros((3, 1)), np.array([1.0, 2.0, 3.0])).tolist()
    [0.0, 1.0, 1.5]
    >>> proxy.n_learned, type(proxy.local()).__name__
    (3, 'Mean')
    >>> proxy.close()
    """
    kind = RemoteClassifier if model.task == "classification" else RemoteRegressor
    return kind(model)
