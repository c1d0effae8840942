"""Which real CARPALL samples the demo profiles: data shipped with the demo, not code.

:data:`CARPALL_SAMPLES` (``carpall_samples.yaml`` beside this module) names the samples,
the patient whose clones are tracked, where the data come from and the label that the
demo puts on what it derives from them (real, not synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..errors import InvalidInputError
from ..support import read_yaml_mapping

__all__ = ["CARPALL_SAMPLES", "RealSamples", "read_real_samples"]

CARPALL_SAMPLES: Final = Path(__file__).with_name("carpall_samples.yaml")


@dataclass(frozen=True, slots=True)
class RealSamples:
    """Real samples the demo profiles, with their provenance.

    Attributes
    ----------
    samples
        GEX sample ids, in the order they are profiled.
    track_patient
        The patient whose product clones are followed through later samples.
    label
        Put on every result derived from these samples (says they are real).
    source
        Where the data come from (publication, repository, local folder).
    """

    samples: tuple[str, ...]
    track_patient: str
    label: str
    source: str


def read_real_samples(path: str | Path = CARPALL_SAMPLES) -> RealSamples:
    """Read a demo sample list (by default the shipped ``carpall_samples.yaml``).

    Raises
    ------
    InvalidInputError
        Naming the file and field: an unknown or missing key, or a sample without an id.

    Examples
    --------
    >>> real = read_real_samples()
    >>> real.track_patient, real.samples[0]
    ('P02', 'CAR-T11141510')
    >>> real.label.startswith("real data")
    True
    """
    keys = ("source", "label", "track_patient", "samples")
    doc = read_yaml_mapping(path, keys=keys, required=keys)
    entries = doc["samples"]
    if not isinstance(entries, list) or not entries:
        msg = "a non-empty list of samples is required"
        raise InvalidInputError(msg, file=str(path), field="samples")
    names: list[str] = []
    for k, entry in enumerate(entries):
        name = entry.get("sample") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            msg = "each sample needs its id under 'sample'"
            raise InvalidInputError(msg, file=str(path), field=f"samples[{k}]")
        names.append(name)
    return RealSamples(
        samples=tuple(names),
        track_patient=str(doc["track_patient"]),
        label=str(doc["label"]),
        source=str(doc["source"]),
    )
