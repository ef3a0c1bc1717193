"""Fixtures shared with the front-end tests."""

from tests.logpt_tui.conftest import models_dir  # noqa: F401 - a user models dir with one tiny bundle
