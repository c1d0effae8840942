"""Daily series: grading frames, reading CSV, and cutting episodes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from vein2vein.clinical import (
    EPISODE_COLUMNS,
    CRSObservation,
    DatedObservation,
    grade_observations,
    read_observations_csv,
    toxicity_episodes,
)
from vein2vein.clinical.grading._icans import ICANSObservation
from vein2vein.errors import InvalidInputError


def series(grades: list[int], *, days: list[Any] | None = None, **columns: Any) -> pd.DataFrame:
    days = list(range(len(grades))) if days is None else days
    frame = pd.DataFrame({"patient_id": "P1", "day": days, "grade": grades})
    frame["tocilizumab"] = columns.pop("tocilizumab", False)
    frame["steroids"] = columns.pop("steroids", False)
    for name, value in columns.items():
        frame[name] = value
    return frame


def one(frame: pd.DataFrame) -> dict[str, Any]:
    episodes = toxicity_episodes(frame, kind="crs")
    assert len(episodes) == 1
    return dict(episodes.iloc[0])


# ======================================================================== episodes


class TestEpisodes:
    def test_columns_and_dtypes(self) -> None:
        ep = toxicity_episodes(series([0, 1, 2, 0]), kind="crs")
        assert tuple(ep.columns) == EPISODE_COLUMNS
        assert str(ep["onset_day"].dtype) == "Int64"
        assert str(ep["tocilizumab_days_from_onset"].dtype) == "Int64"
        assert ep["max_grade"].dtype == "int64"
        assert ep["resolved"].dtype == bool

    def test_onset_maximum_duration_and_resolution(self) -> None:
        ep = one(series([0, 1, 2, 2, 0, 0, 0]))
        assert ep["patient_id"] == "P1"
        assert ep["kind"] == "crs"
        assert ep["episode"] == 1
        assert ep["onset_day"] == 1
        assert ep["max_grade"] == 2
        assert ep["max_grade_day"] == 2  # first day at the maximum
        assert ep["last_day"] == 3
        assert ep["duration_days"] == 3
        assert ep["resolution_day"] == 4
        assert ep["resolved"]
        assert ep["missing_days"] == 0

    def test_reoccurrence_after_resolution_is_a_new_episode(self) -> None:
        ep = toxicity_episodes(series([0, 1, 0, 2, 3, 0]), kind="crs")
        assert ep["episode"].tolist() == [1, 2]
        assert ep["onset_day"].tolist() == [1, 3]
        assert ep["max_grade"].tolist() == [1, 3]
        assert ep["resolution_day"].tolist() == [2, 5]
        assert ep["duration_days"].tolist() == [1, 2]

    def test_a_gap_neither_ends_nor_extends_an_episode(self) -> None:
        # day 3 and 4 not assessed; toxicity on day 2 and day 5: one episode.
        ep = one(series([1, 2, 1, 0], days=[1, 2, 5, 6]))
        assert (ep["onset_day"], ep["last_day"], ep["resolution_day"]) == (1, 5, 6)
        assert ep["duration_days"] == 5
        assert ep["missing_days"] == 2

    def test_unobserved_days_before_resolution(self) -> None:
        ep = one(series([1, 1, 0], days=[1, 2, 6]))
        assert (ep["last_day"], ep["resolution_day"], ep["duration_days"]) == (2, 6, 2)
        assert ep["missing_days"] == 0

    def test_open_episode_is_unresolved(self) -> None:
        ep = one(series([0, 2, 3]))
        assert not ep["resolved"]
        assert ep["resolution_day"] is pd.NA
        assert ep["duration_days"] == 2

    def test_several_assessments_a_day_count_as_the_worst(self) -> None:
        frame = series([0, 1, 3, 0, 0], days=[1, 2, 2, 3, 3], tocilizumab=[0, 0, 1, 0, 0])
        ep = one(frame)
        assert (ep["onset_day"], ep["max_grade"], ep["resolution_day"]) == (2, 3, 3)
        assert ep["tocilizumab_day"] == 2

    def test_tocilizumab_and_steroid_timing_relative_to_onset(self) -> None:
        frame = series(
            [0, 1, 2, 2, 1, 0],
            tocilizumab=[True, True, False, True, False, True],
            steroids=[False, False, False, True, True, False],
        )
        ep = one(frame)
        # day 0 (prophylaxis, before onset) and day 5 (resolution) are not attributed
        assert ep["tocilizumab_day"] == 1
        assert ep["tocilizumab_days_from_onset"] == 0
        assert ep["steroids_day"] == 3
        assert ep["steroids_days_from_onset"] == 2

    def test_no_treatment_gives_empty_timing(self) -> None:
        ep = one(series([1, 0]))
        assert ep["tocilizumab_day"] is pd.NA
        assert ep["steroids_days_from_onset"] is pd.NA

    def test_death_ends_the_series(self) -> None:
        ep = one(series([0, 3, 4, 5]))
        assert (ep["max_grade"], ep["resolved"]) == (5, False)
        with pytest.raises(InvalidInputError, match="follows the grade 5") as info:
            toxicity_episodes(series([0, 5, 0]), kind="crs")
        assert info.value.field == "day"

    def test_no_toxicity_gives_an_empty_frame_with_the_columns(self) -> None:
        ep = toxicity_episodes(series([0, 0, 0]), kind="icans")
        assert ep.empty
        assert tuple(ep.columns) == EPISODE_COLUMNS

    def test_patients_are_summarised_separately(self) -> None:
        frame = pd.concat(
            [series([0, 1, 0]), series([2, 2, 0, 1]).assign(patient_id="P2")], ignore_index=True
        )
        ep = toxicity_episodes(frame, kind="crs")
        assert ep["patient_id"].tolist() == ["P1", "P2", "P2"]
        assert ep["episode"].tolist() == [1, 1, 2]

    def test_without_patient_id_the_frame_is_one_patient(self) -> None:
        ep = toxicity_episodes(series([1, 0]).drop(columns="patient_id"), kind="crs")
        assert ep["patient_id"].tolist() == [None]

    def test_calendar_dates(self) -> None:
        days = [dt.date(2024, 3, d) for d in (1, 2, 3, 5, 6)]
        ep = one(series([0, 1, 2, 1, 0], days=days, tocilizumab=[0, 0, 1, 0, 0]))
        assert ep["onset_day"] == dt.date(2024, 3, 2)
        assert ep["resolution_day"] == dt.date(2024, 3, 6)
        assert ep["duration_days"] == 4
        assert ep["missing_days"] == 1
        assert ep["tocilizumab_days_from_onset"] == 1

    def test_timestamps_and_iso_strings_are_dates(self) -> None:
        stamps = pd.to_datetime(["2024-03-01", "2024-03-02"])
        assert one(series([1, 0], days=list(stamps)))["onset_day"] == dt.date(2024, 3, 1)
        assert one(series([1, 0], days=["2024-03-01", "2024-03-02"]))["resolution_day"] == (
            dt.date(2024, 3, 2)
        )

    def test_study_days_and_dates_cannot_mix(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes(series([1, 0], days=[1, dt.date(2024, 1, 2)]), kind="crs")
        assert info.value.field == "day"

    @pytest.mark.parametrize(
        ("column", "value"),
        [("grade", 6), ("grade", 1.5), ("tocilizumab", "maybe"), ("day", "tomorrow")],
    )
    def test_bad_cells_name_the_row_and_field(self, column: str, value: object) -> None:
        frame = series([0, 1, 0]).astype({column: object})
        frame.loc[1, column] = value
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes(frame, kind="crs")
        assert info.value.field == column
        assert "row 1" in info.value.reason

    def test_missing_treatment_column_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes(series([1, 0]).drop(columns="steroids"), kind="crs")
        assert info.value.field == "steroids"

    def test_unknown_kind_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes(series([1, 0]), kind="hlh")
        assert info.value.field == "kind"

    def test_observation_fields_are_graded_when_no_grade_column(self) -> None:
        frame = pd.DataFrame(
            {
                "day": [0, 1, 2, 3],
                "temperature_c": [37.0, 38.6, 37.1, 36.9],
                "hypotension": [False, True, True, False],
                "vasopressors": ["", "", "norepinephrine", None],
                "oxygen": ["none"] * 4,
                "fever_treated": [False, False, True, True],
                "tocilizumab": [False, True, False, False],
                "steroids": False,
            }
        )
        ep = one(frame)
        assert (ep["onset_day"], ep["max_grade"], ep["max_grade_day"]) == (1, 3, 2)
        assert ep["resolution_day"] == 3


class TestDatedObservations:
    def crs(self, temperature: float, **kw: Any) -> CRSObservation:
        base: dict[str, Any] = {
            "hypotension": False,
            "oxygen": "none",
            "fever_treated": False,
        }
        base.update(kw)
        return CRSObservation(temperature_c=temperature, **base)

    def test_a_list_of_dated_observations(self) -> None:
        records = [
            DatedObservation(patient_id="P7", day=d, observation=o, tocilizumab=t, steroids=False)
            for d, o, t in [
                (1, self.crs(38.7), False),
                (2, self.crs(39.1, hypotension=True), True),
                (3, self.crs(37.0, fever_treated=True), False),
            ]
        ]
        ep = toxicity_episodes(records, kind="crs")
        assert len(ep) == 1
        assert ep.loc[0, "max_grade"] == 2
        assert ep.loc[0, "resolution_day"] == 3
        assert ep.loc[0, "tocilizumab_days_from_onset"] == 1

    def test_the_kind_must_match_the_observations(self) -> None:
        record = DatedObservation(
            patient_id="P7", day=1, observation=self.crs(38.5), tocilizumab=False, steroids=False
        )
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes([record], kind="icans")
        assert info.value.field == "observation"

    def test_icans_records(self) -> None:
        def obs(ice: int) -> ICANSObservation:
            return ICANSObservation(
                age_years=60,
                ice_score=ice,
                consciousness="awake",
                seizure="none",
                motor_weakness="none",
                cerebral_edema="none",
            )

        records = [
            DatedObservation(
                patient_id="P1", day=d, observation=obs(i), tocilizumab=False, steroids=s
            )
            for d, i, s in [
                (4, 10, False),
                (5, 6, True),
                (6, 2, True),
                (7, 9, False),
                (8, 10, False),
            ]
        ]
        ep = toxicity_episodes(records, kind="icans")
        assert ep.loc[0, "onset_day"] == 5
        assert ep.loc[0, "max_grade"] == 3
        assert ep.loc[0, "duration_days"] == 3
        assert ep.loc[0, "steroids_days_from_onset"] == 0

    def test_not_a_list_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            toxicity_episodes("P1,1,2", kind="crs")  # type: ignore[arg-type]
        assert info.value.field == "observations"

    def test_dated_observation_validates(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            DatedObservation(
                patient_id="", day=1, observation=self.crs(38.5), tocilizumab=False, steroids=False
            )
        assert info.value.field == "patient_id"


# ======================================================================== grade_observations


class TestGradeObservations:
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "temperature_c": [38.5, 39.0, 37.0],
                "hypotension": [True, False, False],
                "vasopressors": [["norepinephrine", "vasopressin"], "epinephrine;dopamine", None],
                "oxygen": ["none", "nasal_cannula", "none"],
                "oxygen_flow_l_min": [float("nan"), 6.5, float("nan")],
                "fever_treated": [False, False, False],
                "note": ["kept", "kept", "kept"],
            }
        )

    def test_adds_a_grade_column_and_keeps_other_columns(self) -> None:
        frame = self.frame()
        out = grade_observations(frame, kind="crs")
        assert out["grade"].tolist() == [3, 4, 0]
        assert out["note"].tolist() == ["kept"] * 3
        assert "grade" not in frame.columns

    def test_icans_frame_with_nullable_scores(self) -> None:
        frame = pd.DataFrame(
            {
                "age_years": [40, 7],
                "ice_score": pd.array([8, None], dtype="Int64"),
                "capd_score": [float("nan"), 10.0],
                "consciousness": ["awake", "awake"],
                "seizure": ["none", "none"],
                "motor_weakness": ["none", "none"],
                "cerebral_edema": ["none", "none"],
            }
        )
        assert grade_observations(frame, kind="icans")["grade"].tolist() == [1, 3]

    def test_bad_rows_name_the_row_and_field_with_the_rest_as_notes(self) -> None:
        frame = self.frame()
        frame.loc[0, "temperature_c"] = 101.3
        frame.loc[2, "oxygen"] = "tent"
        with pytest.raises(InvalidInputError) as info:
            grade_observations(frame, kind="crs")
        assert info.value.field == "temperature_c"
        assert info.value.reason.startswith("row 0:")
        assert any("row 2" in note and "oxygen" in note for note in info.value.__notes__)

    def test_missing_required_column(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_observations(self.frame().drop(columns="fever_treated"), kind="crs")
        assert info.value.field == "fever_treated"

    def test_an_existing_grade_column_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_observations(self.frame().assign(grade=1), kind="crs")
        assert info.value.field == "grade"


# ======================================================================== CSV

CRS_HEADER = (
    "patient_id,day,tocilizumab,steroids,temperature_c,hypotension,vasopressors,oxygen,"
    "oxygen_flow_l_min,fever_treated"
)
ICANS_HEADER = (
    "patient_id,day,tocilizumab,steroids,age_years,ice_score,capd_score,consciousness,"
    "seizure,motor_weakness,cerebral_edema"
)


def write(tmp_path: Path, text: str, name: str = "obs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestReadObservationsCSV:
    def test_crs_file_round_trip(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "\ufeff"
            + CRS_HEADER
            + ",comment\n"
            + "P1,0,false,false,37.1,no,,none,,no,baseline\n"
            + "P1,1,false,false,38.6,no,,none,,no,\n"
            + "P1,2,yes,false,39.2,yes,Noradrenaline;vasopressin,nasal_cannula,6.5,no,\n"
            + "\n"
            + "P1,3,false,true,37.4,yes,,none,,yes,\n"
            + "P1,4,false,false,36.9,no,,none,,yes,\n",
        )
        frame = read_observations_csv(path, kind="crs")
        assert frame.index.name == "line"
        assert frame.index.tolist() == [2, 3, 4, 6, 7]
        assert frame.loc[4, "vasopressors"] == ("norepinephrine", "vasopressin")
        assert frame.loc[2, "comment"] == "baseline"
        assert not frame["death_from_crs"].any()
        graded = grade_observations(frame, kind="crs")
        assert graded["grade"].tolist() == [0, 1, 3, 2, 0]
        ep = toxicity_episodes(graded, kind="crs")
        assert ep[["onset_day", "max_grade", "resolution_day"]].iloc[0].tolist() == [1, 3, 4]
        assert ep.loc[0, "tocilizumab_days_from_onset"] == 1

    def test_icans_file_with_a_child(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            ICANS_HEADER
            + ",able_to_perform_assessment\n"
            + "C1,2024-05-01,false,false,6,,3,awakens_to_voice,none,none,none,\n"
            + "C1,2024-05-02,false,true,6,,,unarousable,none,none,none,false\n"
            + "C1,2024-05-03,false,false,6,,0,awake,none,none,none,true\n",
        )
        frame = read_observations_csv(path, kind="icans")
        assert str(frame["capd_score"].dtype) == "Int64"
        assert frame.loc[2, "day"] == dt.date(2024, 5, 1)
        ep = toxicity_episodes(frame, kind="icans")
        assert ep.loc[0, "max_grade"] == 4
        assert ep.loc[0, "resolution_day"] == dt.date(2024, 5, 3)

    def test_fahrenheit_names_file_line_and_field(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            CRS_HEADER
            + "\nP1,0,false,false,37.0,no,,none,,no\nP1,1,false,false,101.3,no,,none,,no\n",
        )
        with pytest.raises(InvalidInputError) as info:
            read_observations_csv(path, kind="crs")
        err = info.value
        assert (err.file, err.field) == (str(path), "temperature_c")
        assert err.reason.startswith("line 3:")
        assert "38.5 C" in err.reason
        assert str(path) in str(err)

    def test_every_bad_line_is_reported(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            ICANS_HEADER
            + "\nA,1,false,false,5,8,,awake,none,none,none"
            + "\nA,2,false,false,30,12,,awake,none,none,none"
            + "\nA,3,false,false,5,,40,awake,none,none,none"
            + "\nA,4,maybe,false,30,10,,awake,none,none,none"
            + "\nA,5,false,false,30,10,,awake,none\n",
        )
        with pytest.raises(InvalidInputError) as info:
            read_observations_csv(path, kind="icans")
        assert info.value.field == "ice_score"  # ICE for a 5-year-old without CAPD
        assert info.value.reason.startswith("line 2:")
        notes = "\n".join(info.value.__notes__)
        assert "line 3" in notes and "ice_score" in notes
        assert "line 4" in notes and "capd_score" in notes
        assert "line 5" in notes and "tocilizumab" in notes
        assert "line 6: 9 fields, the header has 11" in notes

    @pytest.mark.parametrize(
        ("text", "field", "words"),
        [
            (CRS_HEADER.replace(",fever_treated", ""), "fever_treated", "lacks"),
            (CRS_HEADER + ",temprature_c", "temprature_c", "unknown column"),
            (CRS_HEADER + ",oxygen", "oxygen", "more than once"),
            ("", None, "empty"),
        ],
    )
    def test_bad_header(self, tmp_path: Path, text: str, field: str | None, words: str) -> None:
        path = write(tmp_path, text + "\nP1,0,false,false,37,no,,none,,no\n")
        with pytest.raises(InvalidInputError, match=words) as info:
            read_observations_csv(path, kind="crs")
        assert info.value.field == field
        assert info.value.file == str(path)

    def test_mixed_days_and_dates(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            CRS_HEADER
            + "\nP1,0,false,false,37,no,,none,,no\nP1,2024-01-02,false,false,37,no,,none,,no\n",
        )
        with pytest.raises(InvalidInputError, match="mixes") as info:
            read_observations_csv(path, kind="crs")
        assert info.value.field == "day"

    @pytest.mark.parametrize(
        ("row", "field"),
        [
            (",0,false,false,37,no,,none,,no", "patient_id"),
            ("P1,,false,false,37,no,,none,,no", "day"),
            ("P1,0,false,false,37,no,,nasal_cannula,,no", "oxygen_flow_l_min"),
            ("P1,0,false,false,37,no,dobutamine,none,,no", "vasopressors"),
            ("P1,0,false,false,hot,no,,none,,no", "temperature_c"),
            ("P1,0,false,false,37,,,none,,no", "hypotension"),
        ],
    )
    def test_bad_cells(self, tmp_path: Path, row: str, field: str) -> None:
        path = write(tmp_path, CRS_HEADER + "\n" + row + "\n")
        with pytest.raises(InvalidInputError) as info:
            read_observations_csv(path, kind="crs")
        assert info.value.field == field
        assert info.value.reason.startswith("line 2:")

    def test_header_only(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInputError, match="no observations"):
            read_observations_csv(write(tmp_path, CRS_HEADER + "\n"), kind="crs")

    def test_unreadable_file(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInputError, match="cannot read") as info:
            read_observations_csv(tmp_path / "missing.csv", kind="crs")
        assert info.value.file == str(tmp_path / "missing.csv")
        path = tmp_path / "latin1.csv"
        path.write_bytes(b"patient_id\xe9\n")
        with pytest.raises(InvalidInputError, match="UTF-8"):
            read_observations_csv(path, kind="crs")

    def test_unknown_kind(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInputError) as info:
            read_observations_csv(write(tmp_path, CRS_HEADER), kind="CRS")
        assert info.value.field == "kind"

    def test_errors_after_reading_name_the_line(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            CRS_HEADER + "\nP1,0,false,false,37,no,,none,,no\nP1,1,false,false,39,no,,none,,no\n",
        )
        frame = read_observations_csv(path, kind="crs")
        frame.loc[3, "oxygen"] = "tent"
        with pytest.raises(InvalidInputError) as info:
            grade_observations(frame, kind="crs")
        assert info.value.reason.startswith("line 3:")
        assert info.value.field == "oxygen"
