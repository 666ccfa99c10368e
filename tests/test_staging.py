"""All-or-nothing output folders."""

from __future__ import annotations

import pytest

from siteplan.staging import staged_output_dir


def test_success_replaces_previous_outputs(tmp_path):
    final = tmp_path / "out" / "run"
    with staged_output_dir(final) as d:
        (d / "a.txt").write_text("first")
    with staged_output_dir(final) as d:
        (d / "b.txt").write_text("second")
    assert sorted(p.name for p in final.iterdir()) == ["b.txt"]
    assert [p.name for p in final.parent.iterdir()] == ["run"]  # no temp folders left


def test_failure_keeps_previous_outputs_intact(tmp_path):
    final = tmp_path / "run"
    with staged_output_dir(final) as d:
        (d / "a.txt").write_text("good")
    with pytest.raises(RuntimeError):
        with staged_output_dir(final) as d:
            (d / "a.txt").write_text("half")
            (d / "b.txt").write_text("half")
            raise RuntimeError("late stage failed")
    assert (final / "a.txt").read_text() == "good"
    assert not (final / "b.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
