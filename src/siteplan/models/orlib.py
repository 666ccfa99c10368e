"""Readers of OR-Library benchmark files (Beasley) used to verify the models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path


def _numbers(path: str | Path) -> list[str]:
    return Path(path).read_text().split()


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an OR-Library ``pmedN.txt`` file.

    The graph is undirected; an edge listed several times takes its LAST cost (the rule that
    reproduces the published optima). Costs are all-pairs shortest paths.

    Returns
    -------
    D : ndarray, shape (n_vertices, n_vertices)
        Shortest-path distances (every vertex is both demand and candidate).
    p : int
    """
    tok = _numbers(path)
    n, e, p = int(tok[0]), int(tok[1]), int(tok[2])
    arr = np.asarray(tok[3 : 3 + 3 * e], dtype=np.int64).reshape(e, 3)
    edges: dict[tuple[int, int], int] = {}
    for a, b, c in arr:
        a, b = int(a) - 1, int(b) - 1
        edges[(min(a, b), max(a, b))] = int(c)
    ij = np.array(list(edges.keys()))
    c = np.array(list(edges.values()), dtype=np.float64)
    G = sp.csr_matrix((c, (ij[:, 0], ij[:, 1])), shape=(n, n))
    D = shortest_path(G, method="D", directed=False)
    return D, p


def read_scp(path: str | Path) -> tuple[sp.csr_matrix, np.ndarray]:
    """Read an OR-Library set-covering file (``scp41.txt``).

    Returns
    -------
    cover : scipy.sparse.csr_matrix of bool, shape (n_rows, n_columns)
    cost : ndarray, shape (n_columns,)
    """
    tok = _numbers(path)
    m, n = int(tok[0]), int(tok[1])
    cost = np.asarray(tok[2 : 2 + n], dtype=np.float64)
    pos = 2 + n
    rows, cols = [], []
    for r in range(m):
        k = int(tok[pos])
        cs = np.asarray(tok[pos + 1 : pos + 1 + k], dtype=np.int64) - 1
        rows.append(np.full(k, r))
        cols.append(cs)
        pos += 1 + k
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    A = sp.csr_matrix((np.ones(len(r), bool), (r, c)), shape=(m, n))
    return A, cost


def read_cap(path: str | Path) -> dict[str, np.ndarray]:
    """Read an OR-Library capacitated warehouse file (``cap71.txt``).

    Returns
    -------
    dict
        ``capacity`` (m,), ``fixed_cost`` (m,), ``demand`` (n_customers,), ``assign_cost``
        (n_customers, m): cost of serving ALL of a customer's demand from a warehouse.
    """
    tok = _numbers(path)
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    cap, fixed = [], []
    for _ in range(m):
        c = tok[pos]
        cap.append(float(c) if c.replace(".", "").isdigit() else np.inf)
        fixed.append(float(tok[pos + 1]))
        pos += 2
    demand = np.empty(n)
    C = np.empty((n, m))
    for i in range(n):
        demand[i] = float(tok[pos])
        C[i] = np.asarray(tok[pos + 1 : pos + 1 + m], dtype=np.float64)
        pos += 1 + m
    return {"capacity": np.asarray(cap), "fixed_cost": np.asarray(fixed), "demand": demand, "assign_cost": C}
