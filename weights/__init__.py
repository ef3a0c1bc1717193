"""Bundled model bundles (data only); `engine.registry` finds this folder."""
