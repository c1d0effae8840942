"""``python -m vein2vein.cli``: the same as the ``vein2vein`` console script."""

from __future__ import annotations

from . import run

if __name__ == "__main__":
    run()
