"""Reading specification documents, with errors that name the file, field and line."""

from __future__ import annotations

import hashlib
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import SpecError
from ._model import SCHEMA_VERSION, FieldProblem, Specification, check_schema_version

__all__ = ["load_spec", "load_spec_text", "shipped_spec", "shipped_specs"]

_DATA_PACKAGE = "vein2vein.specs.data"
_LOADER_FIELDS = ("sha256", "path")
# pydantic adds the type it tried to a union member's location (e.g. "...value.float").
_TYPE_TAG = re.compile(r"^(float|str|int|bool|none|date|list|dict)$|[\[\]]")
Loc = tuple[str | int, ...]


def load_spec(path: str | os.PathLike[str]) -> Specification:
    """Load a specification from a YAML file.

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    Specification
        The specification, with ``sha256`` (of the file's bytes) and ``path`` set.

    Raises
    ------
    SpecError
        When the file cannot be read, is not valid YAML, or does not validate; the
        message names the file, the field (``items[3].criterion.low``) and the line.
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"cannot read the specification: {exc.strerror or exc}"
        raise SpecError(msg, file=name) from None
    return _load(data, source=name, path=str(Path(path).resolve()))


def load_spec_text(text: str, *, source_name: str = "<text>") -> Specification:
    """Load a specification from YAML text.

    Parameters
    ----------
    text
        The YAML document.
    source_name
        What to call the text in error messages (a file name, ``"<upload>"`` ...).

    Returns
    -------
    Specification
        The specification; ``sha256`` is that of the UTF-8 encoded text, ``path`` is None.

    Raises
    ------
    SpecError
        As :func:`load_spec`.

    Examples
    --------
    >>> spec = load_spec_text('''
    ... schema_version: 1
    ... id: demo
    ... title: Demo
    ... version: "1.0"
    ... effective_date: 2025-01-01
    ... product: demo product
    ... stage: final_product
    ... source: example
    ... items:
    ...   - analyte: viability
    ...     name: viability
    ...     unit: "%"
    ...     criterion: {kind: ">=", value: 80}
    ... ''')
    >>> spec.items[0].criterion_text
    '≥ 80 %'
    """
    return _load(text.encode("utf-8"), source=source_name, path=None)


def shipped_specs() -> list[str]:
    """The names of the specifications shipped with vein2vein.

    Examples
    --------
    >>> "anti-cd19-cart-release" in shipped_specs()
    True
    """
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in files(_DATA_PACKAGE).iterdir()
        if entry.name.endswith(".yaml")
    )


def shipped_spec(name: str) -> Specification:
    """Load a specification shipped with vein2vein, by name (see :func:`shipped_specs`).

    Raises
    ------
    SpecError
        When there is no shipped specification of that name.

    Examples
    --------
    >>> shipped_spec("apheresis-intake").items[0].stage
    'apheresis'
    """
    stem = name.removesuffix(".yaml")
    known = shipped_specs()
    if stem not in known:
        msg = f"no shipped specification {name!r}; shipped: {', '.join(known)}"
        raise SpecError(msg, field="name")
    resource = files(_DATA_PACKAGE).joinpath(f"{stem}.yaml")
    return _load(resource.read_bytes(), source=f"{stem}.yaml", path=str(resource))


def _load(data: bytes, *, source: str, path: str | None) -> Specification:
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        raise SpecError(msg, file=source) from None
    root, document = _parse_yaml(text, source)
    if not isinstance(document, dict) or not isinstance(root, yaml.MappingNode):
        msg = (
            "line 1: a specification is a YAML mapping with schema_version, id, title, "
            "version, effective_date, product, source and items"
        )
        raise SpecError(msg, file=source)
    _refuse_duplicate_keys(root, (), source)
    for key in _LOADER_FIELDS:
        if key in document:
            msg = f"line {_line_of(root, (key,))}: {key} is set by the loader; remove it"
            raise SpecError(msg, file=source, field=key)
    version = document.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool):
        # Check the format version first: a newer document fails for that reason alone.
        try:
            check_schema_version(version)
        except ValueError as exc:
            line = _line_of(root, ("schema_version",))
            msg = f"line {line}: {exc}"
            raise SpecError(msg, file=source, field="schema_version") from None
    try:
        spec = Specification.model_validate(document)
    except ValidationError as exc:
        raise _spec_error(exc, root, source) from None
    return spec.model_copy(update={"sha256": digest, "path": path})


def _parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise SpecError(msg, file=source) from None
    except (ValueError, TypeError) as exc:  # e.g. a date such as 2025-13-01
        msg = f"a value cannot be read: {exc}"
        raise SpecError(msg, file=source) from None
    finally:
        loader.dispose()
    return root, document


def _yaml_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    if mark is None:
        return SpecError(f"not valid YAML: {problem}", file=source)
    reason = f"line {mark.line + 1}: not valid YAML: {problem}"
    lines = text.splitlines()
    suspect = lines[mark.line] if mark.line < len(lines) else ""
    if re.search(r":\s*>", suspect):
        reason += ' (quote operators in YAML, e.g. kind: ">=")'
    return SpecError(reason, file=source)


def _refuse_duplicate_keys(node: yaml.Node, loc: Loc, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in seen:
                msg = f"line {line}: key {name!r} appears twice (first on line {seen[name]})"
                raise SpecError(msg, file=source, field=_path_text((*loc, name)))
            seen[name] = line
            _refuse_duplicate_keys(value, (*loc, name), source)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _refuse_duplicate_keys(child, (*loc, index), source)


def _line_of(root: yaml.Node, loc: Loc) -> int:
    """The line of the deepest node on ``loc`` that exists (a key's own line)."""
    node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if str(key.value) == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _path_text(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field (not part of schema_version {SCHEMA_VERSION})"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not allowed; use one of {expected}"
    return str(error["msg"]).removeprefix("Value error, ")


def _spec_error(exc: ValidationError, root: yaml.Node, source: str) -> SpecError:
    problems: list[tuple[str, int, str]] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(p for p in error["loc"] if not _TYPE_TAG.search(str(p)))
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FieldProblem):
            loc, message = (*loc, *cause.path), str(cause)
        else:
            message = _message(error)
        path = _path_text(loc)
        if any(p == path for p, _, _ in problems):
            continue  # the same field, another member of a union
        problems.append((path, _line_of(root, loc), message))
    path, line, message = problems[0]
    spec_error = SpecError(f"line {line}: {message}", file=source, field=path or None)
    for other_path, other_line, other_message in problems[1:]:
        spec_error.add_note(f"also field {other_path!r}: line {other_line}: {other_message}")
    return spec_error
