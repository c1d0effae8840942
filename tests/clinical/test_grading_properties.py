"""Properties of the graders: bounded, monotone in the severity of every domain."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vein2vein.clinical.grading._crs import CRSObservation, grade_crs
from vein2vein.clinical.grading._ctcae import grade_febrile_neutropenia, grade_neutropenia
from vein2vein.clinical.grading._icans import ICANSObservation, grade_icans

FAST = settings(max_examples=150, deadline=None)

# ---------------------------------------------------------------- CRS

# Hypotension axis, least to most severe (as table rows): none; hypotension without
# vasopressors; one vasopressor (with or without vasopressin); multiple vasopressors.
HYPOTENSION_LEVELS: list[list[tuple[bool, tuple[str, ...]]]] = [
    [(False, ())],
    [(True, ())],
    [
        (True, ("norepinephrine",)),
        (False, ("phenylephrine",)),
        (True, ("vasopressin",)),
        (True, ("epinephrine", "vasopressin")),
    ],
    [
        (True, ("norepinephrine", "epinephrine")),
        (True, ("dopamine", "phenylephrine", "vasopressin")),
    ],
]
# Hypoxia axis, least to most severe.
OXYGEN_LEVELS: list[list[tuple[str, float | None]]] = [
    [("none", None)],
    [("blow_by", None), ("nasal_cannula", 1.0), ("nasal_cannula", 6.0)],
    [
        ("nasal_cannula", 6.5),
        ("high_flow_nasal_cannula", 30.0),
        ("facemask", None),
        ("non_rebreather", 15.0),
        ("venturi", None),
    ],
    [("cpap", None), ("bipap", None), ("mechanical_ventilation", None)],
]


@st.composite
def crs_levels(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "hypo": draw(st.integers(0, 3)),
        "hypo_pick": draw(st.integers(0, 3)),
        "oxy": draw(st.integers(0, 3)),
        "oxy_pick": draw(st.integers(0, 4)),
        "temperature_c": draw(st.floats(35.0, 41.5)),
        "fever_treated": draw(st.booleans()),
    }


def build_crs(levels: dict[str, Any]) -> CRSObservation:
    hyp_options = HYPOTENSION_LEVELS[levels["hypo"]]
    hypotension, drugs = hyp_options[levels["hypo_pick"] % len(hyp_options)]
    oxy_options = OXYGEN_LEVELS[levels["oxy"]]
    oxygen, flow = oxy_options[levels["oxy_pick"] % len(oxy_options)]
    return CRSObservation(
        temperature_c=levels["temperature_c"],
        hypotension=hypotension,
        vasopressors=list(drugs),
        oxygen=oxygen,
        oxygen_flow_l_min=flow,
        fever_treated=levels["fever_treated"],
    )


@FAST
@given(crs_levels())
def test_crs_grade_follows_the_table(levels: dict[str, Any]) -> None:
    grade = grade_crs(build_crs(levels))
    febrile = levels["temperature_c"] >= 38.0
    organ = max([0, 2, 3, 4][levels["hypo"]], [0, 2, 3, 4][levels["oxy"]])
    if not febrile and not levels["fever_treated"]:
        assert grade == 0
    elif organ:
        assert grade == organ
    else:
        assert grade == (1 if febrile else 0)


@FAST
@given(crs_levels(), st.sampled_from(["hypo", "oxy", "temperature_c", "fever_treated"]))
def test_crs_grade_is_monotone_in_each_domain(levels: dict[str, Any], domain: str) -> None:
    worse = dict(levels)
    if domain in ("hypo", "oxy"):
        assume(levels[domain] < 3)
        worse[domain] = levels[domain] + 1
    elif domain == "temperature_c":
        worse[domain] = min(levels[domain] + 1.0, 45.0)
    else:
        assume(not levels[domain])
        worse[domain] = True
    assert grade_crs(build_crs(worse)) >= grade_crs(build_crs(levels))


@FAST
@given(crs_levels())
def test_crs_death_is_always_grade_5(levels: dict[str, Any]) -> None:
    obs = build_crs(levels)
    dead = CRSObservation(**{**obs.model_dump(), "death_from_crs": True})
    assert grade_crs(dead) == 5
    assert 0 <= grade_crs(obs) <= 4


@FAST
@given(st.floats(0.1, 100.0))
def test_crs_nasal_cannula_flow_is_monotone(flow: float) -> None:
    def grade(f: float) -> int:
        return grade_crs(
            CRSObservation(
                temperature_c=38.5,
                hypotension=False,
                oxygen="nasal_cannula",
                oxygen_flow_l_min=f,
                fever_treated=False,
            )
        )

    assert grade(flow) == (2 if flow <= 6.0 else 3)
    assert grade(min(flow * 1.5, 100.0)) >= grade(flow)


# ---------------------------------------------------------------- ICANS

CONSCIOUSNESS = [
    "awake",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_to_touch",
    "unarousable",
]
SEIZURE = ["none", "rapidly_resolving", "prolonged_or_repetitive"]
MOTOR = ["none", "deep_focal"]
EDEMA = ["none", "focal", "diffuse"]
SIGNS = ["decerebrate_or_decorticate_posturing", "cranial_nerve_vi_palsy", "papilledema"]


@st.composite
def icans_levels(draw: st.DrawFn) -> dict[str, Any]:
    child = draw(st.booleans())
    levels: dict[str, Any] = {
        "child": child,
        "age_years": draw(st.floats(0.5, 11.9) if child else st.floats(12.0, 90.0)),
        # badness of the encephalopathy score: ICE 10 - score, or the CAPD score;
        # None = unable to perform the assessment
        "score": draw(st.one_of(st.none(), st.integers(0, 32 if child else 10))),
        "consciousness": draw(st.integers(0, 4)),
        "seizure": draw(st.integers(0, 2)),
        "motor": draw(st.integers(0, 1)),
        "edema": draw(st.integers(0, 2)),
        "sign": draw(st.sampled_from([None, *SIGNS])),
        "excluded": draw(st.sampled_from([None, "tremor", "myoclonus", "intracranial_hemorrhage"])),
    }
    return levels


def build_icans(levels: dict[str, Any]) -> ICANSObservation:
    score = levels["score"]
    kw: dict[str, Any] = {
        "age_years": levels["age_years"],
        "able_to_perform_assessment": score is not None,
        "consciousness": CONSCIOUSNESS[levels["consciousness"]],
        "seizure": SEIZURE[levels["seizure"]],
        "motor_weakness": MOTOR[levels["motor"]],
        "cerebral_edema": EDEMA[levels["edema"]],
    }
    if score is not None:
        kw["capd_score" if levels["child"] else "ice_score"] = (
            score if levels["child"] else 10 - score
        )
    if levels["sign"]:
        kw[levels["sign"]] = True
    if levels["excluded"]:
        kw[levels["excluded"]] = True
    return ICANSObservation(**kw)


def valid(levels: dict[str, Any]) -> bool:
    # An unarousable patient cannot score above 0 on ICE.
    return not (
        not levels["child"]
        and levels["consciousness"] == 4
        and levels["score"] is not None
        and levels["score"] < 10
    )


@FAST
@given(icans_levels())
def test_icans_grade_is_the_worst_domain(levels: dict[str, Any]) -> None:
    assume(valid(levels))
    obs = build_icans(levels)
    grade = grade_icans(obs)
    assert grade == max(obs.domain_grades.values())
    assert 0 <= grade <= 4
    assert grade >= [0, 1, 2, 3, 4][levels["consciousness"]]
    assert grade >= [0, 3, 4][levels["seizure"]]
    if levels["sign"]:
        assert grade == 4


@FAST
@given(
    icans_levels(),
    st.sampled_from(["score", "consciousness", "seizure", "motor", "edema", "unable"]),
)
def test_icans_grade_is_monotone_in_each_domain(levels: dict[str, Any], domain: str) -> None:
    assume(valid(levels))
    worse = dict(levels)
    top = {"score": 32 if levels["child"] else 10, "consciousness": 4, "seizure": 2}
    top |= {"motor": 1, "edema": 2}
    if domain == "unable":
        assume(levels["score"] is not None)
        worse["score"] = None
    else:
        assume(levels[domain] is not None and levels[domain] < top[domain])
        worse[domain] = levels[domain] + 1
    assume(valid(worse))
    assert grade_icans(build_icans(worse)) >= grade_icans(build_icans(levels))


@FAST
@given(icans_levels())
def test_icans_excluded_findings_never_change_the_grade(levels: dict[str, Any]) -> None:
    assume(valid(levels))
    with_finding = grade_icans(build_icans(levels))
    without = grade_icans(build_icans({**levels, "excluded": None}))
    assert with_finding == without


@FAST
@given(icans_levels())
def test_icans_death_is_always_grade_5(levels: dict[str, Any]) -> None:
    assume(valid(levels))
    obs = build_icans(levels)
    assert grade_icans(ICANSObservation(**{**obs.model_dump(), "death_from_icans": True})) == 5


# ---------------------------------------------------------------- CTCAE


@FAST
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.floats(1000, 5000))
def test_neutropenia_grade_falls_as_the_count_rises(a: int, b: int, lln: float) -> None:
    low, high = sorted((a, b))
    assert grade_neutropenia(low, lln=lln) >= grade_neutropenia(high, lln=lln)
    assert 0 <= grade_neutropenia(low, lln=lln) <= 4


@FAST
@given(st.integers(0, 10_000), st.floats(1000, 5000), st.floats(1000, 5000))
def test_neutropenia_grade_rises_with_the_lln(anc: int, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert grade_neutropenia(anc, lln=high) >= grade_neutropenia(anc, lln=low)


@FAST
@given(st.integers(0, 5000), st.floats(36.0, 41.0), st.floats(0, 6))
def test_febrile_neutropenia_is_0_or_3(anc: int, temp: float, hours: float) -> None:
    hours = hours if temp >= 38.0 else 0.0
    grade = grade_febrile_neutropenia(anc, max_temperature_c=temp, hours_at_or_above_38c=hours)
    expected = anc < 1000 and (temp > 38.3 or hours > 1.0)
    assert grade == (3 if expected else 0)
