"""One error tree; errors carry their context; the CLI maps classes to exit codes."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from vein2vein import errors
from vein2vein.cli import exit_code_for
from vein2vein.singlecell import tl


def test_invalid_input_names_file_field_and_reason() -> None:
    exc = errors.InvalidInputError("must be positive", file="runs/a.csv", field="volume_ml")
    assert str(exc) == "file runs/a.csv, field 'volume_ml': must be positive"
    assert (exc.file, exc.field, exc.reason) == ("runs/a.csv", "volume_ml", "must be positive")
    assert isinstance(exc, ValueError)


def test_every_error_is_in_the_tree() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.Vein2veinError | errors.Vein2veinWarning)
        assert cls.__doc__
        assert name in errors.__doc__, f"{name} missing from the documented tree"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.InvalidInputError, 2),
        (errors.IdentityError, 2),
        (errors.RecordNotFoundError, 2),
        (errors.RecordConflictError, 2),
        (errors.ReasonRequiredError, 2),
        (errors.PermissionDeniedError, 3),
        (errors.SignatureError, 3),
        (errors.AuditIntegrityError, 4),
        (errors.SigningKeyError, 4),
        (errors.TransitionRefusedError, 1),
        (errors.Vein2veinError, 4),
    ],
)
def test_cli_exit_codes(cls: type[errors.Vein2veinError], code: int) -> None:
    exc = cls("x") if not issubclass(cls, errors.InvalidInputError) else cls("x", field="f")
    assert exit_code_for(exc) == code


def test_a_domain_warning_is_logged_with_its_class(caplog: pytest.LogCaptureFixture) -> None:
    # Two cells with no T-cell lineage genes at all: every state-rule gene is missing.
    adata = ad.AnnData(
        X=np.ones((2, 2), dtype=np.float32),
        obs=pd.DataFrame(index=["c1", "c2"]),
        var=pd.DataFrame(index=["GENE1", "GENE2"]),
    )
    with caplog.at_level(logging.WARNING, logger="vein2vein"):
        tl.call_states(adata)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "missing from the matrix" in record.getMessage()
    assert record.category is errors.MissingGenesWarning
    assert issubclass(record.category, errors.Vein2veinWarning)
