"""Write a SYNTHETIC CAR-T product's single-cell data and its sample sheet (README tour).

The tour's lots are synthetic, so the single-cell characterization of one of them is
too: :func:`vein2vein.simulate.synthetic_product` as Cell Ranger files
(``<sample>/filtered_feature_bc_matrix.h5``, ``<sample>/filtered_contig_annotations.csv``)
and ``samples.csv``, a sample sheet with its one row (timepoint ``M0``: the product),
in FOLDER. The sample is named ``SYNTHETIC-<patient>``.

Usage: ``python docs/tour/make_product.py FOLDER --patient PT-0002 [--cells 800] [--seed 0]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vein2vein.simulate import synthetic_product


def main(argv: list[str] | None = None) -> None:
    """Write the product files and the sample sheet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--patient", required=True, help="The patient the lot was made for.")
    parser.add_argument("--cells", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    name = f"SYNTHETIC-{args.patient}"
    product = synthetic_product(args.cells, seed=args.seed, sample=name)
    h5, contigs = product.write_10x(args.folder / name)
    sheet = args.folder / "samples.csv"
    sheet.write_text(
        "sample,patient,timepoint,source,sort,gex,tcr\n"
        f"{name},{args.patient},M0,PROD,NoSo,{name}/{h5.name},{name}/{contigs.name}\n",
        encoding="utf-8",
    )
    print(f"SYNTHETIC product {name} ({args.cells} cells) and {sheet} written")  # noqa: T201


if __name__ == "__main__":
    main()
