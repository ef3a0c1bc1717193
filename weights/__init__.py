"""Bundled model bundles (data only); `engine.lm.registry` finds this folder."""
