"""The one report renderer: autoescaped, strict about missing names, the shared filters."""

from __future__ import annotations

import jinja2
import pytest

from vein2vein.support import REPORT_FILTERS, render, report_environment


def _text(template: str, **context: object) -> str:
    return report_environment("vein2vein.release").from_string(template).render(**context)


def test_one_environment_per_package_with_the_house_settings() -> None:
    env = report_environment("vein2vein.comparability")
    assert env is report_environment("vein2vein.comparability")
    assert env is not report_environment("vein2vein.release")
    assert env.autoescape is True
    assert env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks and env.keep_trailing_newline
    assert set(REPORT_FILTERS) <= set(env.filters)


def test_values_are_escaped() -> None:
    assert _text("{{ code }}", code="<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"


def test_a_missing_name_fails() -> None:
    with pytest.raises(jinja2.UndefinedError):
        _text("{{ absent }}")


@pytest.mark.parametrize(
    ("template", "value", "text"),
    [
        ("{{ x|num }}", -4.123, "−4.1"),
        ("{{ x|num(0.05) }}", 1.23456, "1.235"),
        ("{{ x|num }}", None, "n/a"),
        ("{{ x|sig }}", 3.14159, "3.142"),
        ("{{ x|sig }}", 123456, "123456"),
        ("{{ x|sig }}", float("nan"), "n/a"),
        ("{{ x|pct }}", 0.125, "12.5 %"),
        ("{{ x|pct }}", None, "n/a"),
        ("{{ x|pvalue }}", 0.012345, "0.0123"),
        ("{{ x|pvalue }}", None, "n/a"),
        ("{{ x|stat }}", -1.5, "−1.500"),
    ],
)
def test_number_filters(template: str, value: object, text: str) -> None:
    assert _text(template, x=value) == text


def test_render_reads_the_package_template_and_its_includes() -> None:
    css = render("vein2vein.release:coa.css")
    assert css.startswith("/* Certificate of analysis")


@pytest.mark.parametrize("name", ["coa.html.j2", ":coa.html.j2", "vein2vein.release:"])
def test_a_template_names_its_package(name: str) -> None:
    with pytest.raises(ValueError, match="<package>:<file>"):
        render(name)


def test_an_unknown_template_fails() -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        render("vein2vein.release:absent.html")
