"""``hub serve``'s gunicorn options come from settings; no machine-wide control socket."""

from __future__ import annotations

from pathlib import Path

import pytest
from gunicorn.config import Config

from hub.serving import gunicorn_options
from hub.settings import Settings, SettingsError


def _applied(settings: Settings, workers: int = 3) -> Config:
    config = Config()
    for name, value in gunicorn_options(settings, workers).items():
        config.set(name, value)
    return config


def test_worker_model_and_counts_are_settings():
    settings = Settings.from_env({"HUB_WORKER_CLASS": "sync", "HUB_THREADS": "8"})
    config = _applied(settings, workers=5)
    assert (config.workers, config.threads) == (5, 1)  # sync workers are single-threaded
    assert config.worker_class_str == "sync"
    threaded = _applied(Settings.from_env({"HUB_THREADS": "8"}), workers=2)
    assert (threaded.worker_class_str, threaded.workers, threaded.threads) == ("gthread", 2, 8)


def test_no_control_socket_unless_a_path_of_its_own_is_given(tmp_path: Path):
    default = _applied(Settings.from_env({}))
    assert default.control_socket_disable is True
    own = tmp_path / "hub-a.ctl"
    config = _applied(Settings.from_env({"HUB_CONTROL_SOCKET": str(own)}))
    assert config.control_socket_disable is False and config.control_socket == str(own)


@pytest.mark.parametrize(
    ("name", "value"), [("HUB_WORKER_CLASS", "eventlet"), ("HUB_SERVER", "uwsgi")]
)
def test_unknown_server_or_worker_model_is_refused(name: str, value: str):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value}).validate()
