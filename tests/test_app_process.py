"""What create_app does to its process: a serving app freezes what it built out of the
garbage collector's reach (docs/deployment.md); a test app does not."""

from __future__ import annotations

import gc

from recovery import create_app
from tests.conftest import base_config


def test_a_serving_app_freezes_what_it_built_and_a_test_app_does_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    gc.unfreeze()
    try:
        create_app(base_config(tmp_path, url))
        assert gc.get_freeze_count() == 0
        create_app({**base_config(tmp_path, url), "TESTING": False})
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the suite goes on collecting as before
