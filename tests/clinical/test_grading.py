"""ASTCT 2019 CRS/ICANS grading and CTCAE v5.0 neutropenia, against the published tables.

Sources (Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638):

* table "ASTCT CRS Consensus Grading" with its footnotes (fever >= 38 C; fever no longer
  required after antipyretic/anti-cytokine therapy; grade by the more severe of
  hypotension and hypoxia, with the example 39.5 C + one vasopressor + low-flow nasal
  cannula = grade 3; low flow <= 6 L/min, high flow > 6 L/min);
* table "ASTCT ICANS Consensus Grading for Adults" with its footnotes (worked example
  "ICE 3 with a generalized seizure = grade 3"; "ICE 0 awake with global aphasia =
  grade 3, ICE 0 unarousable = grade 4"; tremor, myoclonus and intracranial
  haemorrhage excluded);
* table "ASTCT ICANS Consensus Grading for Children" (CAPD 1-8 under grades 1 and 2,
  >= 9 grade 3, unable to perform CAPD grade 4);
* CTCAE v5.0 terms "Neutrophil count decreased" and "Febrile neutropenia".
"""

from __future__ import annotations

from typing import Any

import pytest

from vein2vein.clinical.grading._crs import CRSObservation, grade_crs
from vein2vein.clinical.grading._ctcae import (
    DEFAULT_ANC_LLN_PER_MM3,
    grade_febrile_neutropenia,
    grade_neutropenia,
)
from vein2vein.clinical.grading._icans import ICANSObservation, grade_icans
from vein2vein.errors import InvalidInputError


def crs(**kw: Any) -> CRSObservation:
    base: dict[str, Any] = {
        "temperature_c": 38.5,
        "hypotension": False,
        "vasopressors": [],
        "oxygen": "none",
        "fever_treated": False,
    }
    base.update(kw)
    return CRSObservation(**base)


def icans(**kw: Any) -> ICANSObservation:
    base: dict[str, Any] = {
        "age_years": 45,
        "ice_score": 10,
        "consciousness": "awake",
        "seizure": "none",
        "motor_weakness": "none",
        "cerebral_edema": "none",
    }
    base.update(kw)
    return ICANSObservation(**base)


def child(**kw: Any) -> ICANSObservation:
    kw.setdefault("age_years", 6)
    kw.setdefault("ice_score", None)
    kw.setdefault("capd_score", 0)
    return icans(**kw)


# ======================================================================== CRS


class TestCRSPaperTable:
    """Every cell of "ASTCT CRS Consensus Grading"."""

    def test_worked_example_single_vasopressor_and_low_flow_is_grade_3(self) -> None:
        # Table footnote example: a febrile patient (39.5 C) on a single vasopressor and
        # low-flow nasal cannula is grade 3 (the more severe axis decides).
        obs = crs(
            temperature_c=39.5,
            hypotension=True,
            vasopressors=["norepinephrine"],
            oxygen="nasal_cannula",
            oxygen_flow_l_min=3,
        )
        assert grade_crs(obs) == 3

    def test_grade_1_is_fever_without_hypotension_or_hypoxia(self) -> None:
        assert grade_crs(crs(temperature_c=38.0)) == 1

    @pytest.mark.parametrize(
        ("kw", "grade"),
        [
            ({"hypotension": True}, 2),  # hypotension not requiring vasopressors
            ({"oxygen": "nasal_cannula", "oxygen_flow_l_min": 2}, 2),  # low-flow NC
            ({"oxygen": "blow_by"}, 2),  # blow-by
            ({"hypotension": True, "vasopressors": ["phenylephrine"]}, 3),  # one vasopressor
            (
                {"hypotension": True, "vasopressors": ["norepinephrine", "vasopressin"]},
                3,
            ),  # "with or without vasopressin"
            ({"oxygen": "high_flow_nasal_cannula", "oxygen_flow_l_min": 40}, 3),
            ({"oxygen": "facemask"}, 3),
            ({"oxygen": "non_rebreather"}, 3),
            ({"oxygen": "venturi"}, 3),
            (
                {"hypotension": True, "vasopressors": ["norepinephrine", "epinephrine"]},
                4,
            ),  # multiple vasopressors
            ({"oxygen": "cpap"}, 4),
            ({"oxygen": "bipap"}, 4),
            ({"oxygen": "mechanical_ventilation"}, 4),
        ],
    )
    def test_table_cells(self, kw: dict[str, Any], grade: int) -> None:
        assert grade_crs(crs(**kw)) == grade

    def test_grade_is_the_more_severe_axis(self) -> None:
        # hypotension grade 2 + positive pressure grade 4 -> 4; pressors 4 + blow-by -> 4
        assert grade_crs(crs(hypotension=True, oxygen="cpap")) == 4
        both = crs(vasopressors=["dopamine", "epinephrine"], oxygen="blow_by")
        assert grade_crs(both) == 4

    def test_death_is_grade_5(self) -> None:
        assert grade_crs(crs(death_from_crs=True)) == 5
        # attributed by the clinician: grade 5 even when afebrile on the day of death
        assert grade_crs(crs(temperature_c=36.5, death_from_crs=True)) == 5


class TestCRSFever:
    def test_fever_threshold_is_38_0(self) -> None:
        assert grade_crs(crs(temperature_c=37.99)) == 0
        assert grade_crs(crs(temperature_c=38.0)) == 1

    def test_no_fever_and_untreated_is_grade_0_even_with_hypotension_and_hypoxia(self) -> None:
        obs = crs(temperature_c=37.2, hypotension=True, vasopressors=["norepinephrine"])
        assert grade_crs(obs) == 0
        assert grade_crs(crs(temperature_c=36.8, oxygen="bipap")) == 0

    def test_after_tocilizumab_fever_is_not_required(self) -> None:
        # Footnote: once antipyretic or anti-cytokine therapy is given, grading is
        # driven by hypotension and hypoxia.
        kw = {"temperature_c": 36.9, "hypotension": True, "vasopressors": ["norepinephrine"]}
        assert grade_crs(crs(fever_treated=False, **kw)) == 0
        assert grade_crs(crs(fever_treated=True, **kw)) == 3
        low_flow = {"oxygen": "nasal_cannula", "oxygen_flow_l_min": 2.0}
        assert grade_crs(crs(temperature_c=37.0, fever_treated=True, **low_flow)) == 2

    def test_treated_afebrile_without_hypotension_or_hypoxia_is_grade_0(self) -> None:
        assert grade_crs(crs(temperature_c=37.0, fever_treated=True)) == 0

    def test_treated_and_still_febrile_without_organ_findings_is_grade_1(self) -> None:
        assert grade_crs(crs(temperature_c=38.4, fever_treated=True)) == 1


class TestCRSOxygenFlow:
    @pytest.mark.parametrize(
        ("flow", "grade"), [(0.5, 2), (2, 2), (6, 2), (6.0, 2), (6.01, 3), (6.5, 3), (15, 3)]
    )
    def test_nasal_cannula_above_6_l_min_is_high_flow(self, flow: float, grade: int) -> None:
        assert grade_crs(crs(oxygen="nasal_cannula", oxygen_flow_l_min=flow)) == grade

    def test_high_flow_device_is_grade_3_whatever_the_flow(self) -> None:
        assert grade_crs(crs(oxygen="high_flow_nasal_cannula", oxygen_flow_l_min=4)) == 3
        assert grade_crs(crs(oxygen="high_flow_nasal_cannula")) == 3

    def test_blow_by_is_low_flow(self) -> None:
        assert grade_crs(crs(oxygen="blow_by", oxygen_flow_l_min=10)) == 2

    def test_nasal_cannula_without_flow_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(oxygen="nasal_cannula")
        assert info.value.field == "oxygen_flow_l_min"
        assert "6 L/min" in info.value.reason

    def test_flow_without_oxygen_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(oxygen="none", oxygen_flow_l_min=2)
        assert info.value.field == "oxygen_flow_l_min"

    @pytest.mark.parametrize("flow", [0, -1, 101, float("nan"), float("inf")])
    def test_impossible_flow_is_refused(self, flow: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(oxygen="facemask", oxygen_flow_l_min=flow)
        assert info.value.field == "oxygen_flow_l_min"


class TestCRSVasopressors:
    def test_vasopressin_with_one_vasopressor_is_grade_3_not_4(self) -> None:
        obs = crs(hypotension=True, vasopressors=["norepinephrine", "vasopressin"])
        assert grade_crs(obs) == 3

    def test_vasopressin_alone_counts_as_one_vasopressor(self) -> None:
        # Grade 2 is "not requiring vasopressors"; vasopressin is excluded only from
        # "multiple". Documented decision: grade 3.
        assert grade_crs(crs(hypotension=True, vasopressors=["vasopressin"])) == 3

    def test_two_vasopressors_plus_vasopressin_is_grade_4(self) -> None:
        obs = crs(vasopressors=["norepinephrine", "phenylephrine", "vasopressin"])
        assert grade_crs(obs) == 4

    def test_synonyms_of_one_drug_count_once(self) -> None:
        obs = crs(vasopressors=["Noradrenaline", "norepinephrine", " LEVOPHED "])
        assert obs.vasopressors == ("norepinephrine",)
        assert grade_crs(obs) == 3
        assert crs(vasopressors=["AVP", "arginine-vasopressin"]).vasopressors == ("vasopressin",)

    def test_a_vasopressor_implies_hypotension_requiring_it(self) -> None:
        # On pressors the pressure may be normal because of them: the drug grades.
        assert grade_crs(crs(hypotension=False, vasopressors=["epinephrine"])) == 3

    def test_hypotension_with_a_vasopressor_is_grade_3(self) -> None:
        assert grade_crs(crs(hypotension=True, vasopressors=["dopamine"])) == 3

    @pytest.mark.parametrize("drug", ["dobutamine", "milrinone", "saline", "norepi"])
    def test_unknown_drug_is_refused(self, drug: str) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(vasopressors=[drug])
        assert info.value.field == "vasopressors"
        assert drug in info.value.reason

    @pytest.mark.parametrize("value", ["norepinephrine", 3, [""], [None]])
    def test_malformed_list_is_refused(self, value: object) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(vasopressors=value)
        assert info.value.field == "vasopressors"


class TestCRSValidation:
    @pytest.mark.parametrize("fahrenheit", [101.3, 100.4, 98.6, 104])
    def test_fahrenheit_is_refused_with_the_conversion(self, fahrenheit: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(temperature_c=fahrenheit)
        assert info.value.field == "temperature_c"
        assert "Fahrenheit" in info.value.reason
        assert f"{(fahrenheit - 32) * 5 / 9:.1f} C" in info.value.reason

    def test_101_3_f_is_38_5_c(self) -> None:
        with pytest.raises(InvalidInputError, match=r"101\.3 F = 38\.5 C"):
            crs(temperature_c=101.3)

    @pytest.mark.parametrize("value", [25.0, 45.0])
    def test_range_ends_are_accepted(self, value: float) -> None:
        assert crs(temperature_c=value).temperature_c == value

    @pytest.mark.parametrize("value", [24.9, 45.1, 60, 0, -5, 300, float("nan"), float("inf")])
    def test_out_of_range_temperature_is_refused(self, value: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(temperature_c=value)
        assert info.value.field == "temperature_c"

    def test_unknown_oxygen_mode_names_the_field_and_the_choices(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(oxygen="nasal_prongs")
        assert info.value.field == "oxygen"
        assert "high_flow_nasal_cannula" in info.value.reason

    def test_missing_and_unknown_fields_are_named(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            CRSObservation(temperature_c=38.5, hypotension=False, oxygen="none")
        assert info.value.field == "fever_treated"
        with pytest.raises(InvalidInputError) as info:
            crs(hypoxia=True)
        assert info.value.field == "hypoxia"

    def test_booleans_are_strict(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(hypotension="maybe")
        assert info.value.field == "hypotension"

    def test_several_problems_are_all_reported(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            crs(oxygen="tent", hypotension="x")
        assert info.value.field in {"oxygen", "hypotension"}
        assert len(info.value.__notes__) == 1

    def test_observations_are_immutable(self) -> None:
        obs = crs()
        with pytest.raises(ValueError, match="frozen"):
            obs.temperature_c = 40.0  # type: ignore[misc]

    def test_the_error_is_a_vein2vein_invalid_input_error(self) -> None:
        with pytest.raises(ValueError, match="temperature_c"):
            crs(temperature_c=101.3)


# ======================================================================== ICANS


class TestICANSAdultTable:
    """Rows of "ASTCT ICANS Consensus Grading for Adults"."""

    def test_worked_example_ice_3_with_generalized_seizure_is_grade_3(self) -> None:
        assert grade_icans(icans(ice_score=3, seizure="rapidly_resolving")) == 3

    @pytest.mark.parametrize(
        ("ice", "grade"),
        [(10, 0), (9, 1), (8, 1), (7, 1), (6, 2), (5, 2), (3, 2), (2, 3), (1, 3), (0, 3)],
    )
    def test_ice_score(self, ice: int, grade: int) -> None:
        assert grade_icans(icans(ice_score=ice)) == grade

    def test_ice_0_awake_with_global_aphasia_is_grade_3(self) -> None:
        # Footnote: "ICE score of 0 ... grade 3 ICANS if awake with global aphasia".
        assert grade_icans(icans(ice_score=0, consciousness="awake")) == 3

    def test_ice_0_unarousable_is_grade_4(self) -> None:
        # Footnote: "... grade 4 ICANS if unarousable".
        assert grade_icans(icans(ice_score=0, consciousness="unarousable")) == 4
        unable = icans(
            ice_score=None, able_to_perform_assessment=False, consciousness="unarousable"
        )
        assert grade_icans(unable) == 4

    def test_unable_to_perform_ice_while_awake_reads_as_ice_0(self) -> None:
        assert grade_icans(icans(ice_score=None, able_to_perform_assessment=False)) == 3
        assert grade_icans(icans(ice_score=0, able_to_perform_assessment=False)) == 3

    @pytest.mark.parametrize(
        ("level", "grade"),
        [
            ("awake", 0),
            ("awakens_spontaneously", 1),
            ("awakens_to_voice", 2),
            ("awakens_to_touch", 3),
            ("unarousable", 4),
        ],
    )
    def test_depressed_level_of_consciousness(self, level: str, grade: int) -> None:
        # An unarousable patient cannot score on ICE: ICE 0 is recorded with it.
        ice = 0 if level == "unarousable" else 10
        assert grade_icans(icans(ice_score=ice, consciousness=level)) == grade

    @pytest.mark.parametrize(
        ("seizure", "grade"),
        [("none", 0), ("rapidly_resolving", 3), ("prolonged_or_repetitive", 4)],
    )
    def test_seizure(self, seizure: str, grade: int) -> None:
        assert grade_icans(icans(seizure=seizure)) == grade

    def test_deep_focal_motor_weakness_is_grade_4(self) -> None:
        assert grade_icans(icans(motor_weakness="deep_focal")) == 4

    @pytest.mark.parametrize(("edema", "grade"), [("none", 0), ("focal", 3), ("diffuse", 4)])
    def test_cerebral_edema(self, edema: str, grade: int) -> None:
        assert grade_icans(icans(cerebral_edema=edema)) == grade

    @pytest.mark.parametrize(
        "sign",
        [
            "decerebrate_or_decorticate_posturing",
            "cranial_nerve_vi_palsy",
            "papilledema",
            "cushings_triad",
        ],
    )
    def test_signs_of_raised_icp_count_as_diffuse_edema(self, sign: str) -> None:
        obs = icans(**{sign: True})
        assert obs.effective_cerebral_edema == "diffuse"
        assert grade_icans(obs) == 4

    @pytest.mark.parametrize("finding", ["tremor", "myoclonus", "intracranial_hemorrhage"])
    def test_excluded_findings_do_not_grade(self, finding: str) -> None:
        assert grade_icans(icans(**{finding: True})) == 0
        assert grade_icans(icans(ice_score=8, **{finding: True})) == 1

    def test_most_severe_domain_wins(self) -> None:
        obs = icans(ice_score=8, consciousness="awakens_to_voice", cerebral_edema="focal")
        assert obs.domain_grades == {
            "encephalopathy": 1,
            "consciousness": 2,
            "seizure": 0,
            "motor": 0,
            "cerebral_edema": 3,
        }
        assert grade_icans(obs) == 3

    def test_death_is_grade_5(self) -> None:
        assert grade_icans(icans(death_from_icans=True)) == 5


class TestICANSChildrenTable:
    """Rows of "ASTCT ICANS Consensus Grading for Children" (CAPD below age 12)."""

    @pytest.mark.parametrize(
        ("capd", "grade"), [(0, 0), (1, 1), (4, 1), (8, 1), (9, 3), (20, 3), (32, 3)]
    )
    def test_capd_thresholds(self, capd: int, grade: int) -> None:
        assert grade_icans(child(capd_score=capd)) == grade

    def test_capd_1_to_8_with_awakening_to_voice_is_grade_2(self) -> None:
        # CAPD 1-8 appears under grade 1 and grade 2; consciousness separates them.
        assert grade_icans(child(capd_score=8, consciousness="awakens_spontaneously")) == 1
        assert grade_icans(child(capd_score=8, consciousness="awakens_to_voice")) == 2

    def test_unable_to_perform_capd_is_grade_4(self) -> None:
        obs = child(capd_score=None, able_to_perform_assessment=False)
        assert grade_icans(obs) == 4

    def test_other_domains_apply_to_children(self) -> None:
        assert grade_icans(child(capd_score=2, seizure="rapidly_resolving")) == 3
        assert grade_icans(child(capd_score=2, papilledema=True)) == 4
        assert grade_icans(child(capd_score=2, death_from_icans=True)) == 5

    def test_age_12_switches_to_ice(self) -> None:
        assert child(age_years=11.99, capd_score=3).assessment_tool == "capd"
        assert icans(age_years=12, ice_score=10).assessment_tool == "ice"

    def test_developmental_delay_uses_capd_after_12(self) -> None:
        obs = icans(age_years=15, ice_score=None, capd_score=10, developmental_delay=True)
        assert obs.assessment_tool == "capd"
        assert grade_icans(obs) == 3


class TestICANSValidation:
    def test_ice_for_a_5_year_old_without_capd_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(age_years=5, ice_score=8)
        assert info.value.field == "ice_score"
        assert "CAPD" in info.value.reason

    def test_ice_and_capd_for_a_child_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            child(ice_score=8, capd_score=3)
        assert info.value.field == "ice_score"

    def test_capd_for_an_adult_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=None, capd_score=4)
        assert info.value.field == "capd_score"
        assert "developmental_delay" in info.value.reason

    @pytest.mark.parametrize("ice", [11, 12, -1])
    def test_ice_out_of_range(self, ice: int) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=ice)
        assert info.value.field == "ice_score"
        assert str(ice) in info.value.reason

    @pytest.mark.parametrize("capd", [33, -1])
    def test_capd_out_of_range(self, capd: int) -> None:
        with pytest.raises(InvalidInputError) as info:
            child(capd_score=capd)
        assert info.value.field == "capd_score"

    @pytest.mark.parametrize("value", [7.5, "7", True])
    def test_scores_must_be_whole_numbers(self, value: object) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=value)
        assert info.value.field == "ice_score"

    def test_missing_score_is_refused_when_the_patient_could_be_assessed(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=None)
        assert info.value.field == "ice_score"
        with pytest.raises(InvalidInputError) as info:
            child(capd_score=None)
        assert info.value.field == "capd_score"

    def test_a_score_when_unable_to_perform_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=6, able_to_perform_assessment=False)
        assert info.value.field == "ice_score"
        with pytest.raises(InvalidInputError) as info:
            child(capd_score=6, able_to_perform_assessment=False)
        assert info.value.field == "capd_score"

    def test_unarousable_patient_cannot_score_on_ice(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(ice_score=7, consciousness="unarousable")
        assert info.value.field == "ice_score"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("consciousness", "drowsy"),
            ("seizure", "focal"),
            ("motor_weakness", "mild"),
            ("cerebral_edema", "global"),
        ],
    )
    def test_unknown_categories_are_named(self, field: str, value: str) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(**{field: value})
        assert info.value.field == field

    @pytest.mark.parametrize("age", [-1, 121, float("nan")])
    def test_impossible_age(self, age: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            icans(age_years=age)
        assert info.value.field == "age_years"


# ======================================================================== CTCAE


class TestNeutrophilCountDecreased:
    @pytest.mark.parametrize(
        ("anc", "grade"),
        [
            (5000, 0),
            (2000, 0),
            (1999, 1),
            (1500, 1),
            (1499, 2),
            (1000, 2),
            (999, 3),
            (500, 3),
            (499, 4),
            (0, 4),
        ],
    )
    def test_ctcae_v5_boundaries_at_the_default_lln(self, anc: float, grade: int) -> None:
        assert DEFAULT_ANC_LLN_PER_MM3 == 2000
        assert grade_neutropenia(anc) == grade

    def test_lln_is_the_laboratorys(self) -> None:
        assert grade_neutropenia(1900, lln=1800) == 0
        assert grade_neutropenia(1799, lln=1800) == 1
        # LLN 1500: grade 1 is empty
        assert grade_neutropenia(1500, lln=1500) == 0
        assert grade_neutropenia(1499, lln=1500) == 2

    @pytest.mark.parametrize("anc", [1.2, 0.5, 99.5])
    def test_counts_in_10e9_per_l_are_refused(self, anc: float) -> None:
        with pytest.raises(InvalidInputError, match="10\\^9/L") as info:
            grade_neutropenia(anc)
        assert info.value.field == "anc_per_mm3"

    @pytest.mark.parametrize("anc", [-1, float("nan"), float("inf"), "1000", True])
    def test_impossible_counts_are_refused(self, anc: object) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_neutropenia(anc)  # type: ignore[arg-type]
        assert info.value.field == "anc_per_mm3"

    @pytest.mark.parametrize("lln", [1.8, 999, 5001, float("nan")])
    def test_implausible_lln_is_refused(self, lln: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_neutropenia(1000, lln=lln)
        assert info.value.field == "lln"


class TestFebrileNeutropenia:
    def test_single_temperature_above_38_3(self) -> None:
        assert grade_febrile_neutropenia(999, max_temperature_c=38.4) == 3
        assert grade_febrile_neutropenia(999, max_temperature_c=38.3) == 0

    def test_anc_must_be_below_1000(self) -> None:
        assert grade_febrile_neutropenia(1000, max_temperature_c=39.0) == 0
        assert grade_febrile_neutropenia(0, max_temperature_c=39.0) == 3

    def test_sustained_38_for_more_than_one_hour(self) -> None:
        kw = {"max_temperature_c": 38.0}
        assert grade_febrile_neutropenia(400, hours_at_or_above_38c=1.0, **kw) == 0
        assert grade_febrile_neutropenia(400, hours_at_or_above_38c=1.01, **kw) == 3

    def test_grades_4_and_5(self) -> None:
        kw = {"max_temperature_c": 39.2}
        assert grade_febrile_neutropenia(100, life_threatening=True, **kw) == 4
        assert grade_febrile_neutropenia(100, death=True, **kw) == 5
        assert grade_febrile_neutropenia(100, life_threatening=True, death=True, **kw) == 5

    def test_severity_flags_without_the_definition_are_refused(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_febrile_neutropenia(1500, max_temperature_c=39.0, life_threatening=True)
        assert info.value.field == "life_threatening"
        with pytest.raises(InvalidInputError) as info:
            grade_febrile_neutropenia(500, max_temperature_c=37.0, death=True)
        assert info.value.field == "death"

    def test_duration_at_38_needs_a_maximum_of_38(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_febrile_neutropenia(500, max_temperature_c=37.5, hours_at_or_above_38c=2)
        assert info.value.field == "hours_at_or_above_38c"

    @pytest.mark.parametrize("hours", [-1, float("nan")])
    def test_bad_duration(self, hours: float) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_febrile_neutropenia(500, max_temperature_c=38.5, hours_at_or_above_38c=hours)
        assert info.value.field == "hours_at_or_above_38c"

    def test_fahrenheit_is_refused(self) -> None:
        # CTCAE prints 38.3 C as 101 F: a value of 101 is Fahrenheit.
        with pytest.raises(InvalidInputError, match="Fahrenheit") as info:
            grade_febrile_neutropenia(500, max_temperature_c=101)
        assert info.value.field == "max_temperature_c"

    def test_flags_must_be_booleans(self) -> None:
        with pytest.raises(InvalidInputError) as info:
            grade_febrile_neutropenia(500, max_temperature_c=39, death="no")  # type: ignore[arg-type]
        assert info.value.field == "death"
