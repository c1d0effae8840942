"""ProductProfile: versioned JSON round-trip and clear refusals of bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.profile._model import (
    PROFILE_SCHEMA_VERSION,
    InputFile,
    ProductProfile,
    ScoreSummary,
    load_profile,
    profiles_table,
    save_profile,
)


def _profile(**changes: object) -> ProductProfile:
    base: dict[str, object] = {
        "sample": "S1",
        "patient": "P01",
        "timepoint": "M0",
        "source": "PROD",
        "sort": "NoSo",
        "package_version": "0.1.0",
        "inputs": [InputFile(role="gex", name="a.h5", sha256="0" * 64)],
        "parameters": {"qc": {"min_genes": 200}},
        "seed": 0,
        "n_cells": 1000,
        "car_positive_fraction": 0.25,
        "cd4_cd8_ratio": 1.5,
        "state_fractions": {"exhausted": 0.1, "effector": 0.9},
        "signature_scores": {"exhaustion": ScoreSummary(median=0.1, q1=-0.2, q3=0.4, n=1000)},
        "diversity": {"shannon": 5.0, "gini": float("nan")},
    }
    base.update(changes)
    return ProductProfile.model_validate(base)


def test_round_trip_is_exact_and_fingerprinted(tmp_path: Path) -> None:
    profile = _profile()
    path = save_profile(profile, tmp_path / "S1.profile.json")
    back = load_profile(path)
    assert back == profile
    assert back.schema_version == PROFILE_SCHEMA_VERSION
    assert back.sha256() == profile.sha256()
    assert ProductProfile.model_validate_json(path.read_text()) == profile
    assert back.diversity["gini"] is None  # NaN is stored as null, JSON stays valid
    assert _profile(n_cells=1001).sha256() != profile.sha256()


def test_metrics_flatten_the_numbers() -> None:
    m = _profile().metrics()
    assert m["car_positive_fraction"] == 0.25
    assert m["state.exhausted"] == 0.1
    assert m["score.exhaustion.median"] == 0.1
    assert m["score.exhaustion.iqr"] == pytest.approx(0.6)
    assert m["diversity.shannon"] == 5.0
    assert "diversity.gini" not in m


def test_unknown_schema_version_is_refused_naming_the_file(tmp_path: Path) -> None:
    payload = json.loads(_profile().to_json())
    payload["schema_version"] = 99
    path = tmp_path / "future.profile.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(InvalidInputError) as info:
        load_profile(path)
    assert info.value.file == str(path)
    assert info.value.field == "schema_version"
    assert "99" in info.value.reason


def test_missing_field_and_non_json_are_refused(tmp_path: Path) -> None:
    payload = json.loads(_profile().to_json())
    del payload["n_cells"]
    path = tmp_path / "old.profile.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(InvalidInputError) as info:
        load_profile(path)
    assert (info.value.file, info.value.field) == (str(path), "n_cells")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInputError, match="not a profile JSON"):
        load_profile(bad)
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_profile(tmp_path / "absent.json")


def test_out_of_range_fraction_is_refused(tmp_path: Path) -> None:
    payload = json.loads(_profile().to_json())
    payload["car_positive_fraction"] = 1.5
    path = tmp_path / "p.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(InvalidInputError) as info:
        load_profile(path)
    assert info.value.field == "car_positive_fraction"


def test_profiles_table_has_one_row_per_profile_with_every_metric() -> None:
    a = _profile()
    b = _profile(sample="S2", patient="P02", car_positive_fraction=None, n_clonotypes=40)
    table = profiles_table([a, b])
    assert list(table["sample"]) == ["S1", "S2"]
    assert list(table.columns[:7]) == [
        "sample", "patient", "timepoint", "source", "sort", "provenance", "sha256"
    ]  # fmt: skip
    assert table.loc[0, "sha256"] == a.sha256()
    for profile, (_, row) in zip([a, b], table.iterrows(), strict=True):
        for key, value in profile.metrics().items():
            assert row[key] == pytest.approx(value)
    # a metric one profile lacks is missing, not zero
    assert table.loc[0, "car_positive_fraction"] == 0.25
    assert pd.isna(table.loc[1, "car_positive_fraction"])
    assert pd.isna(table.loc[0, "n_clonotypes"]) and table.loc[1, "n_clonotypes"] == 40
