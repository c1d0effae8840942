"""The ``vein2vein`` command line: one command group per domain.

Exit codes
----------
0   done (a check passed)
1   done, and a check said no (tampered audit trail, refused hand-off, refused
    disposition, an import whose rows were stored but not all decided, an empty result)
2   bad input: a field, file or record that cannot be accepted (a path that does not
    exist, text that is not UTF-8); nothing was written
3   not allowed: not authenticated (no valid session, token or password), the account is
    deactivated or locked, the role or the token's scopes do not allow it, or
    re-authentication for a signature failed
4   any other failure (the database needs ``vein2vein init``, cannot be reached, is busy
    or is not a database; an output file cannot be written)
"""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

from ..errors import (
    InvalidInputError,
    PermissionDeniedError,
    ReasonRequiredError,
    RecordConflictError,
    RecordNotFoundError,
    SignatureError,
    TransitionRefusedError,
    Vein2veinError,
)
from . import (
    _access,
    _admin,
    _audit,
    _clinical,
    _comparability,
    _demo,
    _identity,
    _invivo,
    _keys,
    _monitoring,
    _problems,
    _process,
    _release,
    _singlecell,
    _specs,
)
from ._common import STATE, err_console, read_secret_line

__all__ = ["app", "exit_code_for", "main", "run"]

app = typer.Typer(
    name="vein2vein",
    help="vein2vein: the quality platform for CAR-T cell therapy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(
    db: str | None = typer.Option(
        None, "--db", envvar="VEIN2VEIN_DATABASE_URL", help="SQLAlchemy URL of the database."
    ),
    user: str | None = typer.Option(
        None,
        "--user",
        "-u",
        envvar="VEIN2VEIN_USER",
        help="Who is acting: whose login session (or password) proves it.",
    ),
    token_stdin: bool = typer.Option(
        False,
        "--token-stdin",
        help="Act with an API token read from the first line of stdin (or VEIN2VEIN_TOKEN).",
    ),
    auth_password_stdin: bool = typer.Option(
        False,
        "--auth-password-stdin",
        help="Prove who is acting with their password, read from the first line of stdin, "
        "for this command only (scripts); a command that signs reads its own next line.",
    ),
) -> None:
    STATE.database_url = db
    STATE.user = user
    STATE.token = None
    STATE.password = None
    if token_stdin and auth_password_stdin:
        msg = "give one credential: --token-stdin or --auth-password-stdin"
        raise InvalidInputError(msg, field="token")
    # Global credentials come first on stdin, before anything the command reads.
    if token_stdin:
        STATE.token = read_secret_line("token")
    elif auth_password_stdin:
        STATE.password = read_secret_line("password")
    elif os.environ.get("VEIN2VEIN_TOKEN"):
        STATE.token = os.environ["VEIN2VEIN_TOKEN"]


_admin.register(app)
_access.register(app)
_identity.register(app)
_specs.register(app)
_release.register(app)
_problems.register(app, _release.release_app)
_process.register(app)
_monitoring.register(app, _process.process_app)
_comparability.register(app)
_clinical.register(app)
_invivo.register(app)
_singlecell.register(app)
_audit.register(app)
_keys.register(app)
_demo.register(app)

_EXIT_CODES: tuple[tuple[type[Vein2veinError], int], ...] = (
    (TransitionRefusedError, 1),
    (InvalidInputError, 2),
    (RecordNotFoundError, 2),
    (RecordConflictError, 2),
    (ReasonRequiredError, 2),
    (PermissionDeniedError, 3),
    (SignatureError, 3),
)


def exit_code_for(exc: Vein2veinError) -> int:
    """The documented exit code for an error class."""
    for cls, code in _EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 4


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (errors mapped centrally).

    Besides vein2vein's own errors, the failures a user's environment causes are
    mapped to a message and an exit code, never a traceback: a database that cannot
    be reached or is not a database (4), a file path that does not exist or is a
    folder (2), a file that cannot be written or read otherwise (4), text that is not
    UTF-8 (2).
    """
    try:
        app(args=argv, prog_name="vein2vein")  # standalone mode ends with SystemExit
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
    except Vein2veinError as exc:
        _report(str(exc), getattr(exc, "__notes__", []))
        return exit_code_for(exc)
    except (OperationalError, InterfaceError) as exc:
        _report(f"the database cannot be used: {_first_line(exc.orig or exc)}")
        return 4
    except DatabaseError as exc:
        if type(exc) is not DatabaseError:  # integrity, programming ...: not the user's
            raise
        _report(f"the database cannot be used: {_first_line(exc.orig or exc)}")
        return 4
    except UnicodeDecodeError as exc:
        _report(f"input is not UTF-8 text (byte {exc.start} cannot be decoded)")
        return 2
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        _report(f"{exc.filename or 'a path'}: {exc.strerror or exc}")
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _report(f"{where}{exc.strerror or exc}")
        return 4
    finally:
        STATE.close()
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _report(message: str, notes: list[str] | None = None) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    for note in notes or []:
        err_console.print(f"  {escape(str(note))}", highlight=False)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
