"""The one report renderer: a Jinja environment per package's templates, one set of filters.

Every HTML report of vein2vein (certificate of analysis, comparability, outcomes,
in vivo, product profile) is rendered here, so that all are autoescaped (a patient code
or a comment is text, never markup), fail on a name the template uses but the caller
did not give (:class:`jinja2.StrictUndefined`: a report is never silently missing a
value), lay out their blocks the same way, and write numbers with the same filters:

==========  ===========================================================================
filter      writes
==========  ===========================================================================
``num``     :func:`~vein2vein.support.format_number`, report style: ``x|num``,
            ``x|num(margin)`` (two significant digits of the scale, − as minus, n/a)
``sig``     four significant digits (integers as they are), ``n/a`` when missing
``pct``     a share as a percent with one decimal: ``0.125|pct`` is ``12.5 %``
``pvalue``  a p-value to three significant digits, ``n/a`` when missing
``stat``    a test statistic to three decimals, − as minus
==========  ===========================================================================

Templates stay next to the code that fills them, in the ``templates`` folder of their
package (shipped as package data); a template is named ``"<package>:<file>"``, and an
``{% include %}`` inside it names a file of the same folder.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import jinja2

__all__ = ["REPORT_FILTERS", "render", "report_environment"]

_MINUS: Final = "\u2212"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _num(value: float | None, scale: float | None = None) -> str:
    from ._numbers import format_number

    return format_number(value, scale, style="report")


def _sig(value: Any) -> str:
    if _missing(value):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _pvalue(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.3g}"


def _stat(x: float) -> str:
    return f"{x:.3f}".replace("-", _MINUS)


REPORT_FILTERS: Final[dict[str, Callable[..., str]]] = {
    "num": _num,
    "sig": _sig,
    "pct": _pct,
    "pvalue": _pvalue,
    "stat": _stat,
}
"""The number filters every report environment has (see the module's table)."""


@functools.cache
def report_environment(package: str) -> jinja2.Environment:
    """The Jinja environment of one package's report templates (one per package).

    Autoescaped, :class:`jinja2.StrictUndefined`, block tags trimmed, the trailing
    newline kept, and :data:`REPORT_FILTERS`. Templates are read as package resources
    (from a wheel or a zip as well as a checkout) from ``<package>/templates/``.

    Parameters
    ----------
    package
        The dotted name of the package that holds a ``templates`` folder.

    Returns
    -------
    jinja2.Environment
        The same object for the same package.

    Examples
    --------
    >>> import jinja2
    >>> env = report_environment("vein2vein.release")
    >>> env.autoescape, env.undefined is jinja2.StrictUndefined, sorted(env.filters)[:2]
    (True, True, ['abs', 'attr'])
    """

    def load(name: str) -> str | None:
        try:
            return (files(package) / "templates" / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None  # jinja2 raises TemplateNotFound

    import jinja2  # on first use, so that importing vein2vein.support stays cheap

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(REPORT_FILTERS)
    return env


def render(template: str, /, **context: Any) -> str:
    """Render a report template with ``context``.

    Parameters
    ----------
    template
        ``"<package>:<file>"``, e.g. ``"vein2vein.release:coa.html.j2"``: the file in
        the package's ``templates`` folder.
    **context
        The names the template uses; every one it uses must be given.

    Returns
    -------
    str
        The rendered document, every value HTML-escaped unless marked safe.

    Raises
    ------
    ValueError
        When ``template`` does not name a package.
    jinja2.TemplateNotFound
        When the package has no such template.
    jinja2.UndefinedError
        When the template uses a name that ``context`` lacks.

    Examples
    --------
    >>> render("vein2vein.release:coa.css").splitlines()[0][:23]
    '/* Certificate of analy'

    The filters and the escaping, on a template given as text:

    >>> env = report_environment("vein2vein.release")
    >>> env.from_string("{{ who }}: {{ x|num(0.5) }}, p {{ p|pvalue }}").render(
    ...     who="<b>A</b>", x=-1.234, p=0.01234
    ... )
    '&lt;b&gt;A&lt;/b&gt;: −1.23, p 0.0123'
    """
    package, sep, name = template.partition(":")
    if not sep or not package or not name:
        msg = f"a report template is named '<package>:<file>', not {template!r}"
        raise ValueError(msg)
    return report_environment(package).get_template(name).render(**context)
