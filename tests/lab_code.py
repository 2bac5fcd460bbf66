"""The course lab's own code, as the lab writes it, for the tests to compare against.

These functions follow the lab's notebooks: the RLS step with its own form of
the update, the ``updateStateByKey`` functions (which expect their initial
state from ``initialRDD``), the ML race on a window of the 50 latest records
whose newest half is the training set, and the debugging section's
``WRONGupdateFunction``. They are plain NumPy and scikit-learn, independent of
streamlearn: the oracles of ``tests/test_course_lab.py``.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression

N_FEATURES = 10


# -- RLS ------------------------------------------------------------------------------------
def RLSstep(y, x, n, beta, V, nu):
    """The lab's RLS update (x is the 1 x n row with the intercept's 1 first)."""
    x = x.reshape(1, n)
    V = 1.0 / nu * (V - V.dot(x.T).dot(x).dot(V) / (1.0 + float(x.dot(V).dot(x.T)[0, 0])))
    alpha = V.dot(x.T)
    yhat = x.dot(beta)
    err = y - yhat
    beta = beta + alpha * err
    return beta, V, float(err[0, 0]), float(yhat[0, 0])


def textbook_RLSstep(y, x, n, beta, V, nu):
    """The textbook exponentially weighted RLS: ``k = V z / (nu + z'Vz)``."""
    x = x.reshape(1, n)
    u = V.dot(x.T)
    k = u / (nu + float(x.dot(u)[0, 0]))
    yhat = x.dot(beta)
    err = y - yhat
    beta = beta + k * err
    V = (V - k.dot(u.T)) / nu
    V = 0.5 * (V + V.T)  # kept symmetric: without it, rounding grows until V is garbage
    return beta, V, float(err[0, 0]), float(yhat[0, 0])


def rls_predictions(rows: np.ndarray, nu: float, step=RLSstep) -> np.ndarray:
    """The lab's sequential loop: each record predicted, then learned (``rows``: counter, y, x)."""
    n = N_FEATURES + 1
    beta, V = np.zeros((n, 1)), 10.0 * np.eye(n)
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        x = np.append(1.0, row[2:])
        beta, V, _err, out[i] = step(row[1], x, n, beta, V, nu)
    return out


# -- updateStateByKey functions (initial states come from initialRDD) --------------------------
def updateFunction_first(new_values, state):
    if state is None:
        state = new_values[0]
    return state


def updateFunction_abssum(new_values, state):
    return state + np.sum(np.abs(new_values))


def updateFunction_stack(new_values, state):
    return np.vstack([state, np.array(new_values)])


def updateFunction_mean(new_values, state):
    N, mu = state
    for x in new_values:
        N = N + 1
        mu = mu + (x - mu) / N
    return (N, mu)


def updateFunction_meanvar(new_values, state):
    N, mu, S = state
    for x in new_values:
        N = N + 1
        mu_new = mu + (x - mu) / N
        S = S + N * (N - 1) * (mu_new - mu) ** 2
        mu = mu_new
    return (N, mu, S)


def initial_rls_state(nu):
    n = N_FEATURES + 1
    return {"beta": np.zeros((n, 1)), "V": 10.0 * np.eye(n), "nu": nu, "errors": []}


def updateFunction_RLS(new_values, state):
    n = N_FEATURES + 1
    beta, V, nu = state["beta"], state["V"], state["nu"]
    for v in new_values:
        v = np.array(v)
        x = np.append(1.0, v[2:])
        beta, V, err, _yhat = RLSstep(v[1], x, n, beta, V, nu)
        state["errors"].append(err)
    state["beta"], state["V"] = beta, V
    return state


def initial_ml_state(name, seed=0):
    models = {
        "RF": RandomForestRegressor(n_estimators=100, random_state=seed),
        "LR": LinearRegression(),
        "GB": GradientBoostingRegressor(random_state=seed),
    }
    return {
        "model": models[name],
        "X": np.zeros((50, N_FEATURES)),
        "y": np.zeros(50),
        "predictions": [],
    }


def updateFunction_ML(new_values, state):
    """Per micro-batch: the batch goes on top of the window (50 latest records, newest first);
    the model is refit on the newest half and predicts the batch's last record."""
    rows = np.array(new_values)
    X = np.vstack([rows[::-1, 2:], state["X"]])[:50]
    y = np.concatenate([rows[::-1, 1], state["y"]])[:50]
    state["X"], state["y"] = X, y
    model = state["model"]
    model.fit(X[:25], y[:25])
    state["predictions"].append(float(model.predict(rows[-1:, 2:])[0]))
    return state


# -- the debugging section -------------------------------------------------------------------
def WRONGupdateFunction(new_values, state):
    x = np.array(new_values).reshape(1, -1)  # every record of the batch in one row: wrong
    beta = state["beta"].reshape(1, -1)
    yhat = x * beta
    state["yhat"] = yhat
    return state


# -- the ML race, record by record -------------------------------------------------------------
def ml_race_predictions(rows: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """The lab's race semantics on every record: predict with the model refit on the newest
    half of the window before the record, then put the record on top of the window."""
    X = np.zeros((50, N_FEATURES))
    y = np.zeros(50)
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        model = initial_ml_state(name, seed)["model"]
        model.fit(X[:25], y[:25])
        out[i] = model.predict(row[2:].reshape(1, -1))[0]
        X = np.vstack([row[2:].reshape(1, -1), X])[:50]
        y = np.concatenate([[row[1]], y])[:50]
    return out
