"""Strict YAML input: a small configuration mapping with declared keys.

PyYAML's loaders take the last of two equal keys without a word, and a misspelt key
would be ignored by a reader that only looks up the keys it knows. This reader refuses
both, naming the file, the line and the key, and reads only UTF-8 text.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidInputError

__all__ = ["read_yaml_mapping"]


def _refuse_duplicates(node: yaml.Node, source: str, path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            field = f"{path}.{name}" if path else name
            if name in seen:
                msg = f"line {line}: key {name!r} appears twice (first on line {seen[name]})"
                raise InvalidInputError(msg, file=source, field=field)
            seen[name] = line
            _refuse_duplicates(value, source, field)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _refuse_duplicates(child, source, f"{path}[{index}]")


def read_yaml_mapping(
    path: str | os.PathLike[str],
    *,
    keys: Collection[str],
    required: Collection[str] = (),
) -> dict[str, Any]:
    r"""Read a YAML file whose document is a mapping with known keys only.

    Parameters
    ----------
    path
        The YAML file (UTF-8, an optional byte-order mark is skipped).
    keys
        The keys the mapping may have (top level).
    required
        The keys it must have.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    InvalidInputError
        Naming the file, the line and the key: a file that cannot be read or is not
        UTF-8, not valid YAML, not a mapping, a key that appears twice (at any depth),
        an unknown key or a missing required key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("true_tox: [0.1, 0.2]\ntrue_tox: [0.3, 0.4]\n")
    >>> try:
    ...     read_yaml_mapping(p, keys=["true_tox"])
    ... except InvalidInputError as exc:
    ...     print(exc.reason)
    line 2: key 'true_tox' appears twice (first on line 1)
    """
    source = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        msg = f"cannot read: {exc.strerror or exc}"
        raise InvalidInputError(msg, file=source) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        raise InvalidInputError(msg, file=source) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = "" if mark is None else f"line {mark.line + 1}: "
        msg = f"{where}not valid YAML: {exc.problem or exc.context or 'syntax error'}"
        raise InvalidInputError(msg, file=source) from None
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise InvalidInputError(msg, file=source) from None
    except (ValueError, TypeError) as exc:  # e.g. a date such as 2025-13-01
        msg = f"a value cannot be read: {exc}"
        raise InvalidInputError(msg, file=source) from None
    finally:
        loader.dispose()
    if root is not None:
        _refuse_duplicates(root, source, "")
    if not isinstance(document, dict) or not isinstance(root, yaml.MappingNode):
        msg = f"line 1: expected a mapping with the keys {', '.join(keys)}"
        raise InvalidInputError(msg, file=source)
    for key, _ in root.value:
        name = str(key.value)
        if name not in keys:
            msg = f"line {key.start_mark.line + 1}: unknown key {name!r}; the keys are " + (
                ", ".join(keys)
            )
            raise InvalidInputError(msg, file=source, field=name)
    missing = [k for k in required if k not in document]
    if missing:
        msg = f"line 1: missing key {missing[0]!r}"
        raise InvalidInputError(msg, file=source, field=missing[0])
    return document
