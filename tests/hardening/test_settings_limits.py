"""The new ``HUB_DB_*`` and ``HUB_WORKER_*`` settings are parsed, bounded and explained."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.db import serving_options
from hub.settings import Settings, SettingsError


def test_defaults_bound_every_database_wait():
    settings = Settings.from_env({"HUB_DATABASE_URL": "postgresql+psycopg://u@db/hub"})
    options = serving_options(settings)
    assert options["pool_timeout"] == 10
    args = options["connect_args"]
    assert args["connect_timeout"] == 5
    assert args["keepalives"] == 1 and args["tcp_user_timeout"] == 30_000
    assert args["options"] == "-c statement_timeout=30000 -c lock_timeout=10000"
    assert (settings.worker_timeout, settings.worker_graceful_timeout) == (60, 30)


def test_values_are_read_from_the_environment():
    settings = Settings.from_env({
        "HUB_DB_CONNECT_TIMEOUT": "3", "HUB_DB_STATEMENT_TIMEOUT": "2.5",
        "HUB_DB_LOCK_TIMEOUT": "0.5", "HUB_DB_POOL_TIMEOUT": "1", "HUB_DB_NETWORK_TIMEOUT": "9",
        "HUB_WORKER_TIMEOUT": "20", "HUB_WORKER_GRACEFUL_TIMEOUT": "5",
    })
    assert (settings.db_connect_timeout, settings.db_statement_timeout) == (3, 2.5)
    assert (settings.db_lock_timeout, settings.db_pool_timeout) == (0.5, 1.0)
    assert (settings.db_network_timeout, settings.worker_timeout) == (9, 20)


@pytest.mark.parametrize(
    "env, named",
    [
        ({"HUB_DB_CONNECT_TIMEOUT": "0"}, "HUB_DB_CONNECT_TIMEOUT"),
        ({"HUB_DB_STATEMENT_TIMEOUT": "forever"}, "HUB_DB_STATEMENT_TIMEOUT"),
        ({"HUB_DB_LOCK_TIMEOUT": "40"}, "HUB_DB_LOCK_TIMEOUT"),  # above the statement timeout
        ({"HUB_DB_POOL_TIMEOUT": "-1"}, "HUB_DB_POOL_TIMEOUT"),
        ({"HUB_DB_NETWORK_TIMEOUT": "1"}, "HUB_DB_NETWORK_TIMEOUT"),
        ({"HUB_WORKER_TIMEOUT": "1"}, "HUB_WORKER_TIMEOUT"),
    ],
)
def test_wrong_values_are_named(env, named):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert named in str(raised.value)


def test_hub_serve_refuses_a_moved_origin_with_a_message(app, settings, database_url):
    env = {
        "HUB_ROOT": str(settings.root), "HUB_DATABASE_URL": database_url,
        "HUB_ISSUER": "http://127.0.0.1:9999", "HUB_HUB_KEY": str(settings.signing_key_file),
        "HUB_MASTER_KEY": str(settings.master_key_path),
        "HUB_WEBHOOK_KEY": str(settings.webhook_key_file),
        "HUB_SECRET_KEY": settings.secret_key, "HUB_SUBJECT_SECRET": settings.subject_secret,
    }
    result = CliRunner().invoke(main, ["serve", "--port", "1"], env=env)
    assert result.exit_code != 0
    assert "127.0.0.1:8000/hub-ledger" in result.output
    assert "127.0.0.1:9999/hub-ledger" in result.output
    assert "Traceback" not in result.output
