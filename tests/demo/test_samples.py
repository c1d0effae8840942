"""The real samples the demo profiles are data shipped with it, with their provenance."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vein2vein.demo import CARPALL_SAMPLES, read_real_samples
from vein2vein.errors import InvalidInputError
from vein2vein.simulate import SYNTHETIC_LABEL

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"


def test_the_shipped_list_names_real_samples_and_their_source() -> None:
    real = read_real_samples()
    assert real.samples == ("CAR-T11141510", "CAR-T10484039", "CAR-T10484040")
    assert real.track_patient == "P02"
    assert real.label.startswith("real data: CARPALL")
    assert real.label != SYNTHETIC_LABEL and "SYNTHETIC" not in real.label
    assert "Anderson et al." in real.source and "../shared/data/carpall" in real.source


def test_the_shipped_samples_are_in_the_carpall_metadata() -> None:
    meta = CARPALL / "CARPALL_scRNAseq_CART_metadata.txt"
    if not meta.is_file():
        pytest.skip(f"shared data folder missing: {CARPALL}")
    with meta.open(newline="") as f:
        patients = {row["GEX_Sample"]: row["Patient"] for row in csv.DictReader(f, delimiter="\t")}
    real = read_real_samples()
    assert set(real.samples) <= set(patients)
    assert real.track_patient in {patients[s] for s in real.samples}


def test_a_sample_list_without_ids_is_refused_with_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "samples.yaml"
    text = CARPALL_SAMPLES.read_text().replace("  - sample: CAR-T10484039", "  - id: CAR-T10484039")
    bad.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        read_real_samples(bad)
    assert caught.value.field == "samples[1]"
    assert caught.value.file == str(bad)


def test_a_sample_list_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "samples.yaml"
    bad.write_text(CARPALL_SAMPLES.read_text() + "seed: 3\n")
    with pytest.raises(InvalidInputError, match="seed"):
        read_real_samples(bad)
