"""P1: RLS test-then-train throughput against the course's per-record NumPy loop.

Run: ``.venv/bin/python benchmarks/rls.py [--records 500000] [--subset 50000]``

Both sides see the same records of the course's linear producer (10 features,
seed 2452020515) on one core (BLAS threads pinned to 1). The compiled loop is
timed after a warm-up call, so numba's compile (or cache load) time is
reported on its own line. The course loop is timed on ``--subset`` records and
its rate is taken as the rate for the whole stream (it is per record, so its
cost is linear in the number of records).

Targets (DESIGN.md, P1): >= 1,000,000 records/s and >= 10x the course loop.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: the target is single-core throughput

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from streamlearn.learn.rls import RLS  # noqa: E402
from streamlearn.learn.rls_kernels import prequential_kernel  # noqa: E402

SEED = 2452020515
TARGET_RATE = 1_000_000
TARGET_RATIO = 10.0


def course_linear(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The course's linear producer, draw for draw: randn(1,10) then rand(1) per record."""
    np.random.seed(seed)
    beta = np.zeros((10, 1))
    beta[0] = beta[9] = 1.0
    X = np.empty((n, 10))
    y = np.empty(n)
    for i in range(n):
        x = np.random.randn(1, 10)[0]
        X[i] = x
        y[i] = x.dot(beta)[0] + 0.1 * np.random.rand(1)[0]
    return X, y


def RLSstep(  # the course's name
    y: float, x: np.ndarray, n: int, beta: np.ndarray, V: np.ndarray, nu: float, mse: float
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The course lab's step, as the lab writes it: NumPy matrix ops on one record.

    Column vectors, intercept prepended, V updated first with the lab's
    ``1 + x'Vx`` and the gain read from the updated V (``V_new x`` equals
    ``V x / (nu (1 + x'Vx))``: the lab's form, ``RLS(form="course")``), then
    the a-priori error moves beta, and the running MSE is updated.
    """
    x = np.append(1, x).reshape(-1, 1)
    yhat = float((x.T @ beta)[0, 0])
    err = y - yhat
    V = 1.0 / nu * (V - V.dot(x).dot(x.T).dot(V) / (1.0 + float(x.T.dot(V).dot(x)[0, 0])))
    alpha = V.dot(x)
    beta = beta + alpha * err
    mse = ((n - 1) * mse + err**2) / n
    return beta, V, yhat, mse


def course_loop(X: np.ndarray, y: np.ndarray, nu: float, delta: float = 10.0) -> np.ndarray:
    p = X.shape[1] + 1
    beta, V, mse = np.zeros((p, 1)), delta * np.eye(p), 0.0
    preds = np.empty(len(X))
    for i in range(len(X)):
        beta, V, preds[i], mse = RLSstep(y[i], X[i], i + 1, beta, V, nu, mse)
    return preds


def timed(fn, *args):  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument(
        "--subset", type=int, default=50_000, help="records for the slow course loop"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs of the compiled loop (best kept)"
    )
    args = parser.parse_args()
    n, sub = args.records, min(args.subset, args.records)

    gen_s, _, (X, y) = timed(course_linear, n)
    print(
        f"data: {n:,} records x 10 features of the course's linear producer ({gen_s:.1f} s to generate)"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.1f} (wall-clock rates suffer when it exceeds 1)"
    )

    hits_before = sum(prequential_kernel.stats.cache_hits.values())
    compile_s, _, _ = timed(RLS(0.99).test_then_train, X[:10], y[:10])
    from_cache = sum(prequential_kernel.stats.cache_hits.values()) > hits_before
    how = "loaded from numba's on-disk cache" if from_cache else "compiled (numba cache was cold)"
    print(f"warm-up (first call, {how}): {compile_s:.3f} s, excluded below")

    ok_wall = ok_cpu = True
    for nu in (1.0, 0.99):
        runs = [timed(RLS(nu, form="course").test_then_train, X, y) for _ in range(args.repeat)]
        textbook = n / min(timed(RLS(nu).test_then_train, X, y)[0] for _ in range(args.repeat))
        fast_wall = n / min(r[0] for r in runs)
        fast_cpu = n / min(r[1] for r in runs)
        course_wall_s, course_cpu_s, course_preds = timed(course_loop, X[:sub], y[:sub], nu)
        course_wall, course_cpu = sub / course_wall_s, sub / course_cpu_s
        drift = float(np.max(np.abs(course_preds - runs[0][2][:sub])))

        print(f"\nforgetting={nu}                    wall clock        CPU time")
        print(
            f"  RLS(form='course')  : {fast_wall:>12,.0f} rec/s  {fast_cpu:>12,.0f} rec/s   ({n:,} records, best of {args.repeat})"
        )
        print(f"  RLS() textbook form : {textbook:>12,.0f} rec/s")
        print(
            f"  course RLSstep loop : {course_wall:>12,.0f} rec/s  {course_cpu:>12,.0f} rec/s   "
            f"({sub:,} records, {course_wall_s:.1f} s; ~{n / course_wall:.0f} s for {n:,})"
        )
        print(
            f"  ratio               : {fast_wall / course_wall:>12,.1f} x      {fast_cpu / course_cpu:>12,.1f} x"
        )
        print(f"  max |prediction difference| over the subset: {drift:.3g}")
        ok_wall = ok_wall and fast_wall >= TARGET_RATE and fast_wall / course_wall >= TARGET_RATIO
        ok_cpu = ok_cpu and fast_cpu >= TARGET_RATE and fast_cpu / course_cpu >= TARGET_RATIO

    targets = f">= {TARGET_RATE:,} records/s and >= {TARGET_RATIO:.0f}x the course loop, both forgetting factors"
    print(f"\n{'PASS' if ok_wall else 'FAIL'}: P1 ({targets}), wall clock")
    print(f"{'PASS' if ok_cpu else 'FAIL'}: P1 ({targets}), CPU time of the single thread")


if __name__ == "__main__":
    main()
