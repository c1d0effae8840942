"""The README's tour runs as written: its sh block, top to bottom, in bash.

The block under "## A short tour" is run with ``bash -euo pipefail`` as a new user
would paste it at the root of a clone: from a folder that holds the repository's
``docs/`` and ``.venv`` (links to this checkout's and to the running virtualenv) with
``../shared/data`` beside it where the real data sets are present. HOME and TMPDIR
point into the test's folder, so whatever the tour writes stays there.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
HEADING = "## A short tour"


def tour_script(readme: Path = REPO / "README.md") -> str:
    """The first ```sh block under the tour's heading, as text."""
    text = readme.read_text(encoding="utf-8")
    start = text.find(f"\n{HEADING}\n")
    if start < 0:
        pytest.fail(f"README.md has no {HEADING!r} section")
    section = text[start + 1 :]
    following = re.search(r"^## ", section[len(HEADING) :], flags=re.MULTILINE)
    if following is not None:
        section = section[: len(HEADING) + following.start()]
    block = re.search(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    if block is None:
        pytest.fail(f"the {HEADING!r} section of README.md has no ```sh block")
    return block.group(1)


def python_example(readme: Path = REPO / "README.md") -> str:
    """The ```python block that follows the tour ("In Python ...")."""
    text = readme.read_text(encoding="utf-8")
    found = re.search(r"^In Python.*?^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    if found is None:
        pytest.fail("README.md has no ```python block after 'In Python'")
    return found.group(1)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The tour run once in a folder of its own; its output and the scratch folder."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "vein2vein").exists():
        pytest.skip(f"no vein2vein command beside {sys.executable}: run in the virtualenv")
    root = tmp_path_factory.mktemp("tour")
    clone = root / "clone"
    clone.mkdir()
    (clone / "docs").symlink_to(REPO / "docs")
    (clone / ".venv").symlink_to(bin_dir.parent)
    if SHARED_DATA.is_dir():
        (root / "shared").mkdir()
        (root / "shared" / "data").symlink_to(SHARED_DATA)
    for folder in ("home", "tmp"):
        (root / folder).mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VEIN2VEIN_") and k not in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")
    }
    env |= {
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "COLUMNS": "120",
    }
    bash = shutil.which("bash")
    assert bash is not None
    # The Python example runs after the tour, in its folder, with its settings.
    script = f"{tour_script()}\npython - <<'EOF'\n{python_example()}EOF\n"
    return subprocess.run(
        [bash, "-euo", "pipefail", "-c", script],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def scratch(tour: subprocess.CompletedProcess[str]) -> Path:
    """The scratch folder the tour wrote to (it says which)."""
    found = re.search(r"^the tour writes to (.+)$", tour.stdout, flags=re.MULTILINE)
    assert found is not None, tour.stdout
    return Path(found.group(1))


def text(tour: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr with rich's wrapping undone."""
    return " ".join(f"{tour.stdout}\n{tour.stderr}".split())


@pytest.mark.slow
def test_the_tour_runs_to_the_end(tour: subprocess.CompletedProcess[str]) -> None:
    assert tour.returncode == 0, f"{tour.stdout[-6000:]}\n{tour.stderr[-6000:]}"
    said = text(tour)
    assert said.count("audit trail intact") == 2
    assert "Traceback" not in said


@pytest.mark.slow
def test_the_python_example_runs_after_it(tour: subprocess.CompletedProcess[str]) -> None:
    with closing(sqlite3.connect(scratch(tour) / "records.db")) as con:
        found = con.execute("SELECT count(*) FROM patients WHERE patient_code = 'PT-0005'")
        assert found.fetchone() == (1,)


def test_everything_it_writes_stays_in_its_scratch_folder(
    tour: subprocess.CompletedProcess[str],
) -> None:
    folder = scratch(tour)
    root = folder.parents[1]
    assert folder.parent == root / "tmp"
    for name in ("records.db", "signing-key.pem", "witness", "sessions", "coa.pdf"):
        assert (folder / name).exists(), name
    # Nothing of vein2vein's under HOME (no ~/.config key, no ~/.local/state sessions);
    # libraries may keep caches there (matplotlib's font list).
    assert not [p for p in (root / "home").rglob("*") if "vein2vein" in p.name], "HOME"
    assert sorted(p.name for p in (root / "clone").iterdir()) == [".venv", "docs"]


@pytest.mark.slow
def test_the_reader_sees_what_the_comments_promise(tour: subprocess.CompletedProcess[str]) -> None:
    said = text(tour)
    folder = scratch(tour)
    # custody: the wrong bag is refused and the tour goes on
    assert "REFUSED" in said and "exit 1: the wrong bag was scanned" in said
    # release: the problems block, then no longer; the lot is released and certified
    assert "exit 1: DEV-000001 and OOS-000001 keep the lot from release" in said
    assert "OOS investigation OOS-000001 opened" in said
    assert "HUB-A-A999926000001: released (signed by quinn)" in said
    assert (folder / "coa.pdf").read_bytes().startswith(b"%PDF")
    # process: the drift is caught
    assert re.search(r"DEV-\d{6} HUB-A-A999926000004 ph N1", said)
    assert (folder / "ph-chart.png").is_file()
    assert (folder / "comparability").is_dir()
    # clinical, single-cell and in vivo records
    assert "infused batch HUB-A-A999926000001" in said
    assert (folder / "outcomes" / "outcomes-report.html").is_file()
    assert "report-only results of profile SYNTHETIC-PT-0002 stored" in said
    assert "in vivo lot LV-0001: released" in said
    assert "PT-0101 dosed 1e+07 TU/kg from in vivo lot LV-0001" in said
    # identity and access: the token acts, five failures lock, the admin unlocks
    assert "exit 3: otto is locked" in said
    assert "user otto deactivated" in said


@pytest.mark.slow
def test_the_real_data_parts_ran(tour: subprocess.CompletedProcess[str]) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder missing: {SHARED_DATA} (the tour's real-data parts)")
    said = text(tour)
    folder = scratch(tour)
    assert "xbar_r chart: 40 subgroups of 5, Phase I: 25" in said
    assert (folder / "profiles" / "CAR-T11141510.profile.json").is_file()
    assert (folder / "tracking" / "P02.tracking.csv").is_file()
    assert not (folder / "singlecell" / "GEX").is_symlink()  # copies, inside the folder


def test_the_shipped_synthetic_files_are_what_their_generator_writes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "docs" / "tour" / "make_inputs.py"), str(tmp_path)],
        check=True,
    )
    for made in sorted(tmp_path.iterdir()):
        assert made.read_bytes() == (REPO / "docs" / "tour" / made.name).read_bytes(), made.name


def test_a_readme_without_the_tour_fails_clearly(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# vein2vein\n\n## Two commands\n\n```sh\nmake demo\n```\n")
    with pytest.raises(pytest.fail.Exception, match="no '## A short tour' section"):
        tour_script(readme)
    readme.write_text("# vein2vein\n\n## A short tour\n\nprose only\n\n## Next\n\n```sh\nx\n```\n")
    with pytest.raises(pytest.fail.Exception, match="has no ```sh block"):
        tour_script(readme)
