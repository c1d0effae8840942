"""Shipped single-cell data: gene signatures and the cell-state rule (YAML)."""
