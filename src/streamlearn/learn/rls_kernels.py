"""Compiled and block kernels behind :class:`streamlearn.learn.rls.RLS`.

Every per-record path (``predict_one``, ``learn_one``, ``test_then_train``,
``predict_many``) runs the same ``_predict``/``_step`` code compiled by numba
without fast-math, so their results are bitwise identical: without
fast-math flags numba/LLVM neither reassociates nor fuses floating-point
operations, so it is IEEE double arithmetic in the order written here.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular

__all__ = [
    "CAPPED",
    "OK",
    "SKIPPED",
    "learn_kernel",
    "predict_kernel",
    "predict_many_kernel",
    "prequential_kernel",
    "woodbury_block",
]

#: status of one update
OK, CAPPED, SKIPPED = 0, 1, 2


@njit(cache=True, nogil=True, fastmath=False)
def _fill_z(z: np.ndarray, x: np.ndarray, fit_intercept: bool) -> None:
    if fit_intercept:
        z[0] = 1.0
        for j in range(x.shape[0]):
            z[j + 1] = x[j]
    else:
        for j in range(x.shape[0]):
            z[j] = x[j]


@njit(cache=True, nogil=True, fastmath=False)
def _predict(beta: np.ndarray, z: np.ndarray) -> float:
    s = 0.0
    for j in range(z.shape[0]):
        s += beta[j] * z[j]
    return s


@njit(cache=True, nogil=True, fastmath=False)
def _step(
    beta: np.ndarray,
    V: np.ndarray,
    z: np.ndarray,
    y: float,
    nu: float,
    cap: float,
    u: np.ndarray,
    course: bool = False,
) -> tuple[float, float, int]:
    """One RLS update of ``beta`` and ``V`` in place: (prediction, a-priori error, status).

    ``course``: the lab's form, ``V = (V - u u' / (1 + z'u)) / nu`` then
    ``beta += (V z) e`` with the new ``V`` (see :mod:`streamlearn.learn.rls`).
    """
    p = z.shape[0]
    pred = _predict(beta, z)
    e = y - pred
    # u = V z, accumulated column by column: V is exactly symmetric, so this is
    # the row-wise dot product in the same order, but the inner loop runs over
    # independent elements and vectorises without reassociation.
    for i in range(p):
        u[i] = 0.0
    for j in range(p):
        zj = z[j]
        for i in range(p):
            u[i] += V[j, i] * zj
    denom = 1.0 if course else nu
    for i in range(p):
        denom += z[i] * u[i]
    if not (np.isfinite(e) and np.isfinite(denom) and denom > 0.0):
        return pred, e, SKIPPED  # NaN/inf input: predict, do not poison the state
    c = 1.0 / denom
    if not course:
        for i in range(p):
            beta[i] += (u[i] * c) * e  # gain k = u / denom
    # V - k (Vz)' = V - u u' / denom. Forming u_i * u_j first (commutative,
    # so bitwise equal to u_j * u_i) keeps V exactly symmetric. Like the
    # course's ``1.0/nu * (...)`` we multiply by 1/nu: a division per element
    # would halve the throughput.
    inv_nu = 1.0 / nu
    for i in range(p):
        ui = u[i]
        for j in range(p):
            V[i, j] = (V[i, j] - (ui * u[j]) * c) * inv_nu
    if course:  # the lab's gain: the new V times z, reusing u for it
        for i in range(p):
            u[i] = 0.0
        for j in range(p):
            zj = z[j]
            for i in range(p):
                u[i] += V[j, i] * zj
        for i in range(p):
            beta[i] += u[i] * e
    trace = 0.0
    for i in range(p):
        trace += V[i, i]
    if trace > cap:  # wind-up guard, see the module docstring of rls.py
        scale = cap / trace
        for i in range(p):
            for j in range(p):
                V[i, j] *= scale
        return pred, e, CAPPED
    return pred, e, OK


@njit(cache=True, nogil=True, fastmath=False)
def predict_kernel(beta: np.ndarray, x: np.ndarray, fit_intercept: bool) -> float:
    z = np.empty(beta.shape[0])
    _fill_z(z, x, fit_intercept)
    return _predict(beta, z)


@njit(cache=True, nogil=True, fastmath=False)
def predict_many_kernel(
    beta: np.ndarray, X: np.ndarray, fit_intercept: bool, out: np.ndarray
) -> None:
    z = np.empty(beta.shape[0])
    for r in range(X.shape[0]):
        _fill_z(z, X[r], fit_intercept)
        out[r] = _predict(beta, z)


@njit(cache=True, nogil=True, fastmath=False)
def learn_kernel(
    beta: np.ndarray,
    V: np.ndarray,
    x: np.ndarray,
    y: float,
    nu: float,
    fit_intercept: bool,
    cap: float,
    course: bool = False,
) -> tuple[float, float, int]:
    p = beta.shape[0]
    z = np.empty(p)
    u = np.empty(p)
    _fill_z(z, x, fit_intercept)
    return _step(beta, V, z, y, nu, cap, u, course)


@njit(cache=True, nogil=True, fastmath=False)
def prequential_kernel(
    beta: np.ndarray,
    V: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    nu: float,
    fit_intercept: bool,
    cap: float,
    out: np.ndarray,
    sse: float,
    course: bool = False,
) -> tuple[float, int, int, int]:
    """Prequential loop: ``out[r]`` is the prediction before learning record ``r``.

    Returns the updated sum of squared errors (accumulated in record order, as
    ``learn_one`` does) and the counts of scored, capped and skipped records.
    """
    p = beta.shape[0]
    z = np.empty(p)
    u = np.empty(p)
    n_scored = 0
    n_capped = 0
    n_skipped = 0
    for r in range(X.shape[0]):
        _fill_z(z, X[r], fit_intercept)
        pred, e, status = _step(beta, V, z, y[r], nu, cap, u, course)
        out[r] = pred
        if status == SKIPPED:
            n_skipped += 1
            continue
        sse += e * e
        n_scored += 1
        if status == CAPPED:
            n_capped += 1
    return sse, n_scored, n_capped, n_skipped


def woodbury_block(
    beta: np.ndarray, V: np.ndarray, Z: np.ndarray, y: np.ndarray, nu: float
) -> np.ndarray | None:
    """Apply ``m`` records at once; return their a-priori errors, or None.

    With forgetting, the ``m`` sequential updates equal one weighted least
    squares step in which record ``i`` (1-based) has noise variance ``nu**i``
    relative to the prior ``V``. With ``S = diag(nu**i) + Z V Z'`` and
    ``G = V Z' S^-1`` (Woodbury)::

        beta_m = beta + G (y - Z beta)
        V_m    = (V - G Z V) / nu**m

    and the sequential a-priori errors are the innovations of ``y - Z beta``:
    with ``S = C C'`` (Cholesky), ``e = diag(C) * C^-1 (y - Z beta)``.
    ``beta`` and ``V`` are updated in place. Returns None, touching nothing,
    when the block holds non-finite values or ``S`` is not numerically
    positive definite; the caller then runs the sequential loop.
    """
    m = len(Z)
    if not (np.isfinite(Z).all() and np.isfinite(y).all()):
        return None
    U = V @ Z.T  # p x m
    S = Z @ U
    S = 0.5 * (S + S.T)
    S[np.diag_indices(m)] += nu ** np.arange(1, m + 1, dtype=np.float64)
    try:
        C = cholesky(S, lower=True, check_finite=False)
    except LinAlgError:
        return None
    r = y - Z @ beta
    errors = np.diag(C) * solve_triangular(C, r, lower=True, check_finite=False)
    G = cho_solve((C, True), U.T, check_finite=False).T  # p x m
    V_new = (V - G @ U.T) / nu**m
    if not np.isfinite(V_new).all():
        return None
    beta += G @ r
    V[:] = 0.5 * (V_new + V_new.T)
    return errors
