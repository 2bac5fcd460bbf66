"""Recursive least squares with exponential forgetting, exact and fast.

Two forms, with regressor vector ``z`` (a leading 1 when ``fit_intercept``),
a-priori error ``e = y - z'beta`` and forgetting ``nu``, both starting from
``V0 = delta I`` and ``beta0 = 0``.

``form="textbook"`` (the default), exponentially weighted least squares::

    k    = V z / (nu + z' V z)
    beta = beta + k e
    V    = (V - k z' V) / nu

``form="course"``, the course lab's equations::

    V     = (V - V z z' V / (1 + z' V z)) / nu
    alpha = V z                      (with the new V)
    beta  = beta + alpha e

In one line: the lab's form weights the newest record by ``nu``, the
textbook's by 1 (older records are discounted by ``nu`` in both); the two are
equal when ``nu = 1``. State is ``O(d^2)``: ``beta``, ``V`` and a few
counters, whatever the length of the stream.

Numerical safeguards (see :class:`RLS`):

* ``V`` is kept exactly symmetric: the update subtracts
  ``(u_i u_j) / (nu + z'u)`` with ``u = V z``, and ``u_i u_j`` is bitwise equal to ``u_j u_i``, so
  ``V[i, j]`` and ``V[j, i]`` go through the same operations on the same
  numbers. (Without this, with ``nu < 1`` the rounding in the antisymmetric
  part of ``V`` grows until it is as large as ``V``; see the tests.)
* Wind-up guard: with ``nu < 1`` and inputs that stop being exciting, ``V``
  grows like ``nu**-t`` in the unexcited directions and would overflow. When
  ``trace(V)`` exceeds ``TRACE_CAP_FACTOR * trace(V0)`` it is scaled back to
  that bound (a uniform scaling keeps ``V`` symmetric positive definite). On
  exciting inputs the trace stays far below the bound, so the guard never
  fires and results are those of the plain equations (``n_capped_`` counts
  how often it fired).
* A record whose a-priori error or ``nu + z'Vz`` is not finite (NaN or inf
  in the input) is predicted but not learned from (``n_skipped_``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from streamlearn.learn.base import Regressor
from streamlearn.learn.rls_kernels import (
    CAPPED,
    SKIPPED,
    learn_kernel,
    predict_kernel,
    predict_many_kernel,
    prequential_kernel,
    woodbury_block,
)

__all__ = ["RLS", "TRACE_CAP_FACTOR", "RLSForm"]

#: which update equations (see the module doc)
RLSForm = Literal["textbook", "course"]

#: ``trace(V)`` is capped at this multiple of ``trace(V0) = delta * p``.
TRACE_CAP_FACTOR = 1e6


class RLS(Regressor):
    """Exponentially weighted recursive least squares (fixed memory).

    Parameters
    ----------
    forgetting : float
        Forgetting factor ``nu`` in ``(0, 1]``; 1 weighs all records equally.
    delta : float
        Initial covariance scale: ``V0 = delta * I``. Large values mean a weak
        prior (a ridge penalty of ``1 / delta`` on every coefficient).
    fit_intercept : bool
        Prepend a constant 1 to every input so the model learns an intercept.
    form : {"textbook", "course"}
        The update equations (see the module doc); equal when ``forgetting`` is 1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(500, 3)
    >>> y = 2.0 * X[:, 0] + 0.3 * X[:, 1] - X[:, 2] + 0.5
    >>> model = RLS(forgetting=1.0, delta=1e6)
    >>> preds = model.test_then_train(X, y)   # predict each record, then learn it
    >>> np.round(model.coef_, 6).tolist(), round(model.intercept_, 6)
    ([2.0, 0.3, -1.0], 0.5)
    >>> model.n_learned
    500
    >>> round(model.predict_one(np.array([1.0, 1.0, 0.0])), 6)
    2.8

    With forgetting, the lab's form gives the newest record less weight:

    >>> lab, textbook = RLS(0.9, form="course"), RLS(0.9)
    >>> X2 = rng.randn(5, 2)
    >>> bool(np.allclose(lab.test_then_train(X2, X2[:, 0]), textbook.test_then_train(X2, X2[:, 0])))
    False
    """

    def __init__(
        self,
        forgetting: float = 1.0,
        delta: float = 10.0,
        fit_intercept: bool = True,
        form: RLSForm = "textbook",
    ) -> None:
        if not 0.0 < forgetting <= 1.0:
            raise ValueError(f"forgetting must be in (0, 1], got {forgetting}")
        if not delta > 0.0:
            raise ValueError(f"delta must be > 0, got {delta}")
        if form not in ("textbook", "course"):
            raise ValueError(f"form must be 'textbook' or 'course', got {form!r}")
        self._params = {
            "forgetting": forgetting,
            "delta": delta,
            "fit_intercept": fit_intercept,
            "form": form,
        }
        super().__init__()
        self.form: RLSForm = form
        self._course = form == "course"
        self.forgetting = float(forgetting)
        self.delta = float(delta)
        self.fit_intercept = bool(fit_intercept)
        self.n_features_in_ = -1  # unknown until the first record
        self._beta = np.zeros(0)
        self._V = np.zeros((0, 0))
        self._sse = 0.0  # sum of squared a-priori errors of learned records
        self._n_scored = 0
        self.n_capped_ = 0
        self.n_skipped_ = 0

    # -- shape ----------------------------------------------------------------
    def _ensure(self, d: int) -> None:
        """Allocate ``beta`` and ``V`` on the first record; check ``d`` afterwards."""
        if self.n_features_in_ < 0:
            p = d + int(self.fit_intercept)
            self.n_features_in_ = d
            self._beta = np.zeros(p)
            self._V = self.delta * np.eye(p)
        elif d != self.n_features_in_:
            raise ValueError(f"RLS was fitted with {self.n_features_in_} features, got {d}")

    @property
    def _cap(self) -> float:
        return TRACE_CAP_FACTOR * self.delta * len(self._beta)

    @staticmethod
    def _row(x: Any) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.float64).reshape(-1)

    @staticmethod
    def _matrix(X: Any, y: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        yy = np.zeros(0) if y is None else np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
        if y is not None and len(yy) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(yy)}")
        return X, yy

    # -- per record -------------------------------------------------------------
    def predict_one(self, x: Any) -> float:
        x = self._row(x)
        self._ensure(len(x))  # before any learning this is beta0 = 0
        return float(predict_kernel(self._beta, x, self.fit_intercept))

    def learn_one(self, x: Any, y: Any) -> None:
        x = self._row(x)
        self._ensure(len(x))
        _, e, status = learn_kernel(
            self._beta,
            self._V,
            x,
            float(y),
            self.forgetting,
            self.fit_intercept,
            self._cap,
            self._course,
        )
        self._count(e, status)

    def _count(self, e: float, status: int) -> None:
        # Same arithmetic, same order as the compiled loop: bitwise equal MSE.
        self.n_learned += 1
        if status == SKIPPED:
            self.n_skipped_ += 1
            return
        self._sse += e * e
        self._n_scored += 1
        if status == CAPPED:
            self.n_capped_ += 1

    # -- per batch ------------------------------------------------------------
    def predict_many(self, X: Any) -> np.ndarray:
        X, _ = self._matrix(X)
        out = np.zeros(len(X))
        if len(X) == 0:
            return out
        self._ensure(X.shape[1])
        predict_many_kernel(self._beta, X, self.fit_intercept, out)
        return out

    def test_then_train(self, X: Any, y: Any) -> np.ndarray:
        """Predict each record with everything before it, then learn from it.

        Compiled (numba, no fast-math) and bitwise equal to the loop of
        :meth:`predict_one` / :meth:`learn_one`: both run the same kernel.
        """
        X, yy = self._matrix(X, y)
        out = np.empty(len(X))
        if len(X) == 0:
            return out
        self._ensure(X.shape[1])
        sse, n_scored, n_capped, n_skipped = prequential_kernel(
            self._beta,
            self._V,
            X,
            yy,
            self.forgetting,
            self.fit_intercept,
            self._cap,
            out,
            self._sse,
            self._course,
        )
        self._sse = sse
        self._n_scored += n_scored
        self.n_capped_ += n_capped
        self.n_skipped_ += n_skipped
        self.n_learned += len(X)
        return out

    def learn_many(self, X: Any, y: Any) -> None:
        """Exact block update (Woodbury identity with forgetting weights).

        Algebraically equal to :meth:`learn_one` on each record in turn; the
        a-priori errors (for ``mse_``) come from the Cholesky factor of the
        block's innovation covariance. A chunk that could trip the trace cap,
        holds non-finite values or is numerically indefinite is applied record
        by record instead, so the result always matches the sequential loop
        up to rounding.
        """
        X, yy = self._matrix(X, y)
        if len(X) == 0:
            return
        if self._course:  # the block identity is the textbook form's: go record by record
            self.test_then_train(X, yy)
            return
        self._ensure(X.shape[1])
        Z = np.hstack([np.ones((len(X), 1)), X]) if self.fit_intercept else X
        nu, p = self.forgetting, len(self._beta)
        chunk = max(p, 16)  # S is chunk x chunk: keep it small and well conditioned
        for start in range(0, len(X), chunk):
            stop = min(start + chunk, len(X))
            m = stop - start
            # trace(V) grows at most by 1/nu per record, so below this bound
            # the cap cannot fire inside the chunk.
            safe = np.trace(self._V) * nu ** (-m) <= self._cap
            errors = (
                woodbury_block(self._beta, self._V, Z[start:stop], yy[start:stop], nu)
                if safe
                else None
            )
            if errors is None:
                self.test_then_train(X[start:stop], yy[start:stop])
                continue
            self._sse += float(errors @ errors)
            self._n_scored += m
            self.n_learned += m

    def diagnostics(self) -> dict[str, int]:
        """How often the wind-up guard fired, and records predicted but not learned (NaN, inf)."""
        return {"capped": self.n_capped_, "skipped": self.n_skipped_}

    # -- results ---------------------------------------------------------------
    @property
    def coef_(self) -> np.ndarray:
        return self._beta[int(self.fit_intercept) :].copy()

    @property
    def intercept_(self) -> float:
        return float(self._beta[0]) if self.fit_intercept and len(self._beta) else 0.0

    @property
    def V_(self) -> np.ndarray:
        """A copy of the current ``V`` (the scaled inverse information matrix)."""
        return self._V.copy()

    @property
    def mse_(self) -> float:
        """Running mean of squared a-priori errors (NaN before any record)."""
        return self._sse / self._n_scored if self._n_scored else float("nan")
