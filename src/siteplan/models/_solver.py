"""Thin, checked wrapper around HiGHS (via :mod:`highspy`) for the location models.

Every model builds its MILP as sparse arrays (a CSR constraint matrix) and calls
:func:`solve_milp`. The wrapper always inspects the model status:

* ``Optimal`` -> status ``"optimal"``;
* time limit (or other limit) with an incumbent -> status ``"feasible"`` with the gap;
* ``Infeasible`` -> :class:`~siteplan.errors.InfeasibleError`;
* anything else (unbounded, error, limit without incumbent) -> :class:`~siteplan.errors.SolverError`.

HiGHS runs single-threaded with a fixed random seed so the same input gives the same output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, SolverError

INF = float("inf")


@dataclass(frozen=True)
class MilpSolution:
    """Raw outcome of one MILP/LP solve (internal)."""

    status: str
    x: np.ndarray
    objective: float
    bound: float
    gap: float
    solve_time_s: float
    n_variables: int
    n_constraints: int


_BANNER_DONE = False


def _highs():
    """The highspy module; the first call swallows HiGHS's one-time stdout banner."""
    global _BANNER_DONE
    import highspy

    if not _BANNER_DONE:
        _BANNER_DONE = True
        import os
        import sys

        try:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            try:
                highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # no real fd 1 (some notebooks): keep the banner
            pass
    return highspy


def solve_milp(
    c: np.ndarray,
    A: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray | None,
    *,
    maximize: bool = False,
    offset: float = 0.0,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
    mip_abs_gap: float | None = None,
    warm_start: np.ndarray | None = None,
    infeasible_message: str = "the model has no feasible solution",
    uncoverable: list[str] | None = None,
    seed: int = 0,
    threads: int = 1,
) -> MilpSolution:
    """Solve ``min/max c x + offset`` s.t. ``row_lower <= A x <= row_upper``, bounds, integrality.

    Parameters
    ----------
    c : ndarray, shape (n_var,)
    A : scipy.sparse matrix, shape (n_con, n_var)
    row_lower, row_upper : ndarray, shape (n_con,)
        ``-inf`` / ``inf`` for one-sided rows.
    col_lower, col_upper : ndarray, shape (n_var,)
    integer : ndarray of bool, shape (n_var,), or None
        Integer columns; None or all False = LP.
    maximize : bool
    offset : float
        Constant added to the objective.
    time_limit_s : float
        Wall-clock limit in seconds.
    mip_gap : float
        Relative MIP gap at which HiGHS stops (0 = prove optimality).
    mip_abs_gap : float, optional
        Absolute gap at which HiGHS stops (default 1e-9, or 1e-6 with a positive ``mip_gap``).
        A value below 1 still proves optimality when every solution value is an integer.
    warm_start : ndarray, shape (n_var,), optional
        A feasible point handed to HiGHS with ``setSolution``.
    infeasible_message : str
        Message of the :class:`InfeasibleError` raised when HiGHS proves infeasibility.
    uncoverable : list of str, optional
        Passed to :class:`InfeasibleError`.

    Returns
    -------
    MilpSolution

    Raises
    ------
    InfeasibleError
        HiGHS proves the model infeasible.
    SolverError
        Any status other than optimal, infeasible, or a limit with an incumbent.
    """
    highspy = _highs()
    A = sp.csr_matrix(A)
    A.sum_duplicates()
    n_con, n_var = A.shape
    c = np.asarray(c, dtype=np.float64)
    is_mip = integer is not None and bool(np.any(integer))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if mip_abs_gap is None:
        mip_abs_gap = 1e-9 if mip_gap == 0 else 1e-6
    h.setOptionValue("mip_abs_gap", float(mip_abs_gap))
    lp = highspy.HighsLp()
    lp.num_col_ = n_var
    lp.num_row_ = n_con
    lp.col_cost_ = c
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.offset_ = float(offset)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_var
    lp.a_matrix_.num_row_ = n_con
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel error)")
    if is_mip:
        idx = np.flatnonzero(integer).astype(np.int32)
        h.changeColsIntegrality(
            len(idx), idx, np.full(len(idx), highspy.HighsVarType.kInteger.value, dtype=np.uint8)
        )
    if warm_start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(warm_start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    t0 = time.perf_counter()
    h.run()
    solve_time = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    MS = highspy.HighsModelStatus
    if ms == MS.kInfeasible:
        raise InfeasibleError(infeasible_message, uncoverable=uncoverable)
    if ms == MS.kOptimal:
        st = "optimal"
    elif ms in (MS.kTimeLimit, MS.kIterationLimit, MS.kSolutionLimit, MS.kInterrupt) and has_sol:
        st = "feasible"
    else:
        raise SolverError(
            f"HiGHS returned model status '{h.modelStatusToString(ms)}' without a usable solution"
            + (" (time limit reached before a first solution; raise time_limit_s)" if ms == MS.kTimeLimit else "")
        )
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    obj = float(info.objective_function_value)
    if warm_start is not None and is_mip:
        # Guard: with setSolution, HiGHS 1.16 was seen to return the warm start as x together
        # with an objective value that x does not have (and below the true optimum). Check
        # that x reproduces the objective and satisfies the rows; otherwise solve again cold.
        ax = A @ x
        tol = 1e-6 * max(1.0, abs(obj))
        consistent = abs(float(c @ x) + float(offset) - obj) <= tol and bool(
            np.all(ax >= np.asarray(row_lower) - 1e-6) and np.all(ax <= np.asarray(row_upper) + 1e-6)
        )
        if not consistent:
            return solve_milp(
                c, A, row_lower, row_upper, col_lower, col_upper, integer, maximize=maximize,
                offset=offset, time_limit_s=time_limit_s, mip_gap=mip_gap, mip_abs_gap=mip_abs_gap, warm_start=None,
                infeasible_message=infeasible_message, uncoverable=uncoverable, seed=seed, threads=threads,
            )
    if is_mip:
        bound = float(info.mip_dual_bound)
        gap = float(info.mip_gap) if st == "feasible" else max(0.0, float(info.mip_gap))
        if st == "optimal" and not np.isfinite(gap):
            gap = 0.0
    else:
        bound, gap = obj, 0.0
    return MilpSolution(st, x, obj, bound, gap, solve_time, n_var, n_con)


def round_binary(x: np.ndarray) -> np.ndarray:
    """Indices of entries of ``x`` above 0.5 (binary columns), sorted."""
    return np.flatnonzero(np.asarray(x) > 0.5)
