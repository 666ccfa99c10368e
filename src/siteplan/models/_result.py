"""The result type shared by every location model, and input checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from siteplan.errors import InputError


@dataclass(frozen=True)
class LocationResult:
    """Outcome of one location model.

    Attributes
    ----------
    model : str
        ``"lscp"``, ``"mclp"``, ``"pmedian"``, ``"pcenter"``, ``"ufl"``, ``"cflp"``, ``"targets"``,
        ``"cpmedian"`` / ``"cmclp"`` (capacitated p-median / MCLP), or ``"<model>-heuristic"``.
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (time limit reached; see ``gap``) or
        ``"heuristic"`` (greedy/interchange; ``gap`` against the LP bound).
    objective : float
        Objective value in the model's units (sites, CNY, weighted metres, ...).
    bound : float
        Best proven bound on the objective (equal to ``objective`` when optimal).
    gap : float
        Relative gap ``|objective - bound| / |objective|`` (0 when optimal).
    selected : ndarray of int, shape (n_selected,)
        Candidate positions (0-based columns) of the open sites, sorted, including required sites.
    covered : ndarray of bool, shape (n_demand,)
        Demand point within the standard of an open site (for cost models: assigned).
    assignment : ndarray of int, shape (n_demand,)
        Candidate position serving each demand point, -1 when none.
    solve_time_s, build_time_s : float
        Seconds in the solver and in building the model.
    n_variables, n_constraints : int
        Size of the model handed to the solver (after reductions).
    uncoverable : ndarray of int, shape (n_uncoverable,)
        Demand positions no candidate can cover (reported, not an error, unless strict).
    extra : dict
        Model-specific details (e.g. the p-center radius, per-target shares).
    """

    model: str
    status: str
    objective: float
    bound: float
    gap: float
    selected: np.ndarray
    covered: np.ndarray
    assignment: np.ndarray
    solve_time_s: float = 0.0
    build_time_s: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    uncoverable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_selected(self) -> int:
        """Number of open sites."""
        return int(len(self.selected))

    def to_frame(self) -> pd.DataFrame:
        """One row per demand point: ``demand``, ``covered``, ``assigned_candidate``.

        Returns
        -------
        pandas.DataFrame, shape (n_demand, 3)
        """
        return pd.DataFrame(
            {
                "demand": np.arange(len(self.covered)),
                "covered": self.covered,
                "assigned_candidate": self.assignment,
            }
        )

    def summary(self) -> dict[str, Any]:
        """Scalar fields as a dict (for logs and the run manifest)."""
        return {
            "model": self.model,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "n_selected": self.n_selected,
            "n_covered": int(self.covered.sum()),
            "n_uncoverable": int(len(self.uncoverable)),
            "solve_time_s": self.solve_time_s,
            "build_time_s": self.build_time_s,
            "n_variables": self.n_variables,
            "n_constraints": self.n_constraints,
        }


def _check_01(values: np.ndarray) -> None:
    """A coverage matrix holds 0/1 (or booleans); a cost matrix passed by mistake is refused."""
    if values.dtype != bool and values.size:
        bad = values[(values != 0) & (values != 1)]
        if bad.size:
            raise InputError(
                f"coverage matrix must hold 0/1 (covered or not), got values such as {bad.flat[0]!r}: "
                "for travel costs pass (cost <= standard) or use the cost-matrix models"
            )


def as_cover(cover: Any) -> sp.csr_matrix:
    """Coverage matrix as boolean CSR, shape (n_demand, n_candidates); explicit False dropped.

    Raises
    ------
    InputError
        Not 2-D, or values other than 0/1 (e.g. a cost matrix passed as coverage).
    """
    if sp.issparse(cover):
        A = sp.csr_matrix(cover, copy=True)
        _check_01(A.data)
        A.data = A.data != 0
        A.eliminate_zeros()
        A = A.astype(bool)
    else:
        arr = np.asarray(cover)
        if arr.ndim != 2:
            raise InputError(f"coverage matrix must be 2-D (n_demand, n_candidates), got shape {arr.shape}")
        _check_01(arr)
        A = sp.csr_matrix(arr.astype(bool))
    A.sort_indices()
    return A


def as_mask(mask: Any, n: int, what: str = "required") -> np.ndarray:
    """Boolean mask of length n from None, a bool mask or a list of positions."""
    if mask is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(mask)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InputError(f"{what} mask has length {arr.shape}, expected {n} (one per candidate)")
        return arr.copy()
    out = np.zeros(n, dtype=bool)
    idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise InputError(f"{what} positions must be in 0..{n - 1}")
    out[idx] = True
    return out


def as_vector(v: Any, n: int, what: str, default: float = 1.0) -> np.ndarray:
    """Float vector of length n (None -> default); rejects NaN and negatives."""
    if v is None:
        return np.full(n, float(default))
    arr = np.asarray(v, dtype=np.float64).ravel()
    if arr.shape != (n,):
        raise InputError(f"{what} has length {arr.shape[0]}, expected {n}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError(f"{what} must be finite and >= 0")
    return arr


def rel_gap(obj: float, bound: float) -> float:
    """Relative gap |obj - bound| / max(|obj|, 1e-10)."""
    if not (np.isfinite(obj) and np.isfinite(bound)):
        return float("inf")
    return abs(obj - bound) / max(abs(obj), 1e-10)


def first_cover_assignment(A: sp.csr_matrix, open_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covered flag and first open covering candidate for each demand row of ``A``."""
    n = A.shape[0]
    Ao = A.multiply(open_mask[None, :]).tocsr() if open_mask.any() else sp.csr_matrix(A.shape, dtype=bool)
    Ao.eliminate_zeros()
    covered = np.diff(Ao.indptr) > 0
    assign = np.full(n, -1, dtype=np.int64)
    assign[covered] = Ao.indices[Ao.indptr[:-1][covered]]
    return covered, assign
