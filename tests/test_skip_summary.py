"""A run without ../shared/data says, in its summary, how many tests skipped and why."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")


def test_the_summary_counts_skips_for_want_of_shared_data(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        """
        import pytest

        def test_needs_carpall():
            pytest.skip("shared data folder missing: /x/shared/data/carpall (it needs it)")

        def test_needs_spc():
            pytest.skip("shared data folder missing: /x/shared/data/spc/pistonrings.csv")

        def test_needs_spc_too():
            pytest.skip("shared data folder missing: /x/shared/data/spc")

        def test_other_skip():
            pytest.skip("no GPU here")

        def test_runs():
            assert True
        """
    )
    result = pytester.runpytest("-p", "no:vein2vein", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(
        ["*3 tests skipped: ../shared/data is absent (carpall, spc); see the README*"]
    )


def test_no_summary_line_when_nothing_skipped_for_the_data(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile("def test_runs():\n    assert True\n")
    result = pytester.runpytest("-p", "no:vein2vein", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "../shared/data is absent" not in result.stdout.str()
