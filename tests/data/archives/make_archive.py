"""Write the archived system of record of this release (synthetic content)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from vein2vein.identity import Handoff, log_custody
from vein2vein.records import Batch, Database, Donation, sign
from vein2vein.testing import PASSWORD, make_batch, make_network


def main(path: Path) -> None:
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    net = make_network(db)
    batch = make_batch(net)
    with db.unit_of_work(net.actor("qc_analyst")) as uow:
        sign(
            uow, uow.session.get(Donation, batch.donation_id), password=PASSWORD, meaning="reviewed"
        )  # type: ignore[arg-type]
    with db.unit_of_work(net.actor("operator")) as uow:
        b = uow.get(Batch, batch.batch_code)
        log_custody(
            uow,
            batch=b.batch_code,
            handoff=Handoff(
                from_party="HUB-A",
                to_party="courier",
                occurred_at=b.started_at + timedelta(hours=1),
                scanned_din=b.donation.din,
                temperature_c=5.0,
                condition="refrigerated",
            ),
        )
        # A refused hand-off: its deviation is referenced by the custody event, which
        # migrations that rebuild the deviations table must survive.
        log_custody(
            uow,
            batch=b.batch_code,
            handoff=Handoff(
                from_party="courier",
                to_party="HUB-B",
                occurred_at=b.started_at + timedelta(hours=2),
                scanned_din="W000026999999",
            ),
        )
    db.dispose()  # the last connection to close checkpoints the WAL into the file


if __name__ == "__main__":
    main(Path(sys.argv[1]))
