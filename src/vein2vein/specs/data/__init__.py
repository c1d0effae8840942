"""Specifications shipped with vein2vein (YAML); load them with ``shipped_spec(name)``."""
