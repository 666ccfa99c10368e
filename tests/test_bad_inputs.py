"""Every file of the bad-input corpus (tests/bad_inputs/) raises the documented error.

The manifest ``tests/bad_inputs/expected.toml`` lists, per file, the loader, the exception
type and substrings the message must (and must not) contain. A loader that lets another
exception escape (a traceback: KeyError, ValueError, UnicodeDecodeError ...) fails the test.
"""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest

from siteplan import errors
from siteplan.io import (
    GUANGYUAN_BOUNDS,
    aggregate_ledger,
    load_counties,
    load_facilities,
    load_roads,
    load_townships,
    load_villages,
    read_layer,
    read_table,
)
from siteplan.network import TravelNetwork

HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))["case"]

POINT_LOADERS = {"villages": load_villages, "townships": load_townships, "facilities": load_facilities}


def _run(case: dict) -> None:
    path = HERE / case["file"]
    kwargs = dict(case.get("kwargs", {}))
    if "townships" in kwargs:
        kwargs["townships"] = load_townships(HERE / kwargs["townships"])
    if "villages" in kwargs:
        kwargs["villages"] = load_villages(HERE / kwargs["villages"])
    loader = case["loader"]
    if loader in POINT_LOADERS:
        if case.get("region", True):
            kwargs.setdefault("region_bounds", GUANGYUAN_BOUNDS)
        POINT_LOADERS[loader](path, **kwargs)
    elif loader == "counties":
        load_counties(path, **kwargs)
    elif loader == "roads":
        load_roads(path, **kwargs)
    elif loader == "network":
        TravelNetwork.from_roads(load_roads(path, **kwargs), source=path)
    elif loader == "ledger":
        aggregate_ledger(path, **kwargs)
    elif loader == "table":
        read_table(path, **kwargs)
    elif loader == "layer":
        read_layer(path, **kwargs)
    else:  # pragma: no cover - manifest typo
        raise AssertionError(f"unknown loader {loader}")


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}-{c['error']}" for c in CASES])
def test_bad_input_raises_documented_error(case: dict) -> None:
    expected = getattr(errors, case["error"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.InputWarning)
        try:
            _run(case)
        except errors.SiteplanError as e:
            err = e
        else:
            pytest.fail(f"{case['file']}: no error raised")
    # Exact class, or MultipleInputErrors when it carries the expected class first.
    if isinstance(err, errors.MultipleInputErrors):
        assert type(err.errors[0]) is expected
    else:
        assert type(err) is expected, f"{type(err).__name__}: {err}"
    msg = str(err)
    for s in case["contains"]:
        assert s in msg, f"{s!r} not in {msg!r}"
    for s in case.get("absent", []):
        assert s not in msg, f"{s!r} leaked into {msg!r}"
    assert "Traceback" not in msg


def test_corpus_is_complete() -> None:
    """At least 30 faulty files, each one in the manifest, each manifest file present."""
    listed = {c["file"] for c in CASES}
    data = {
        p.name
        for p in HERE.iterdir()
        if p.is_file() and p.suffix not in (".py", ".toml", ".md", ".dbf", ".shx")
    }
    assert len(listed) >= 30
    assert data == listed
