"""Shared fixtures come from the vein2vein.testing pytest plugin (db, any_db, network)."""
