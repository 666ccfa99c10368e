"""Scenario file validation: unknown keys, bad values, missing files, unknown facility types."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from siteplan.errors import ScenarioError
from siteplan.scenario import DEFAULT_SCENARIO, check_files, load_scenario


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_scenario_loads_and_names_existing_standard():
    sc = load_scenario()
    assert sc.source_file == DEFAULT_SCENARIO
    assert sc.standard().name == sc.model.standard
    assert sc.path("villages") == DEFAULT_SCENARIO.parent / "villages.csv"


def test_mistyped_key_names_key_and_closest_valid_one(tmp_path):
    p = write(tmp_path, "[model]\nknd = 'mclp'\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert "model.knd" in msg and "did you mean 'kind'" in msg and str(p) in msg


def test_mistyped_section_names_closest_section(tmp_path):
    p = write(tmp_path, "[standrds]\nname='x'\n")
    with pytest.raises(ScenarioError, match="unknown key 'standrds'; did you mean 'standards'"):
        load_scenario(p)


def test_unknown_facility_type_names_value_and_closest(tmp_path):
    p = write(tmp_path, "[care_sites]\ntypes = ['childrens_hom']\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert "unknown facility type 'childrens_hom'" in msg and "did you mean 'childrens_home'" in msg


def test_missing_file_names_key_and_path(tmp_path):
    sc_dir = tmp_path / "sc"
    sc_dir.mkdir()
    p = write(sc_dir, "[data]\nvillages = 'no_such_villages.csv'\n")
    sc = load_scenario(p)
    with pytest.raises(ScenarioError) as e:
        check_files(sc)
    assert "data.villages" in str(e.value) and "no_such_villages.csv" in str(e.value)


def test_three_faults_give_three_distinct_messages(tmp_path):
    msgs = set()
    for text in ("[model]\nknd='mclp'\n", "[data]\nvillages='nope.csv'\n", "[care_sites]\ntypes=['police_staton']\n"):
        p = write(tmp_path, text)
        try:
            check_files(load_scenario(p))
        except ScenarioError as e:
            msgs.add(str(e))
    assert len(msgs) == 3


def test_bad_value_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match="model.township_target"):
        load_scenario(write(tmp_path, "[model]\ntownship_target = 1.5\n"))
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[model\nkind='x'\n"))


def test_model_standard_must_exist(tmp_path):
    with pytest.raises(ScenarioError, match="did you mean 'walk_30min'"):
        load_scenario(write(tmp_path, "[model]\nstandard = 'walk_30mn'\n"))


def test_overrides_merge_into_file(tmp_path):
    src = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    p = write(tmp_path, src)
    shutil.copy(DEFAULT_SCENARIO.parent / "scenario.toml", tmp_path / "copy.toml")
    sc = load_scenario(p, model={"kind": "mclp", "p": 5})
    assert sc.model.kind == "mclp" and sc.model.p == 5
    assert sc.model.standard == "walk_30min"  # untouched keys kept
