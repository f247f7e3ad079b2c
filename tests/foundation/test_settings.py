"""Settings come from HUB_* variables and are validated with a message per wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import Settings, SettingsError

GOOD_PRODUCTION = {
    "HUB_PRODUCTION": "true",
    "HUB_DATABASE_URL": "postgresql+psycopg://hub@db.internal/hub",
    "HUB_SECRET_KEY": "s" * 40,
    "HUB_SUBJECT_SECRET": "t" * 40,
    "HUB_ISSUER": "https://hub.example.gov.uk",
}


def test_defaults_use_sqlite_under_instance(tmp_path: Path):
    settings = Settings.from_env({"HUB_ROOT": str(tmp_path)}).with_defaults()
    assert settings.database_url == f"sqlite:///{tmp_path}/instance/hub.sqlite3"
    assert settings.production is False
    assert settings.token_lifetime == 600


def test_values_are_read_and_typed():
    settings = Settings.from_env({"HUB_TOKEN_LIFETIME": "300", "HUB_LOG_JSON": "false",
                                  "HUB_ISSUER": "https://hub.example"})
    assert settings.token_lifetime == 300
    assert settings.log_json is False
    assert settings.issuer == "https://hub.example"


def test_settings_are_frozen():
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.production = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_TOKEN_LIFETIME": "ten"}, "HUB_TOKEN_LIFETIME: expected an integer"),
        ({"HUB_TOKEN_LIFETIME": "86400"}, "HUB_TOKEN_LIFETIME: must be between 60 and 3600"),
        ({"HUB_PRODUCTION": "maybe"}, "HUB_PRODUCTION: expected true/false"),
        ({"HUB_DATABASE_URL": "mysql://x@y/z"}, "only sqlite and postgresql"),
        ({"HUB_DATABASE_URL": "not a url"}, "HUB_DATABASE_URL: not a database URL"),
        ({"HUB_ISSUER": "ftp://hub"}, "HUB_ISSUER"),
        ({"HUB_LOG_LEVEL": "LOUD"}, "HUB_LOG_LEVEL"),
    ],
)
def test_each_wrong_value_is_named(env, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HUB_TOKEN_LIFETIME": "x", "HUB_PRODUCTION": "perhaps"})
    assert len(caught.value.problems) == 2


def test_production_accepts_a_complete_configuration():
    assert Settings.from_env(GOOD_PRODUCTION).production is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"HUB_DATABASE_URL": "sqlite:///hub.db"}, "production needs PostgreSQL"),
        ({"HUB_DATABASE_URL": ""}, "production needs PostgreSQL"),
        ({"HUB_SECRET_KEY": ""}, "HUB_SECRET_KEY"),
        ({"HUB_SECRET_KEY": "short"}, "HUB_SECRET_KEY"),
        ({"HUB_SUBJECT_SECRET": ""}, "HUB_SUBJECT_SECRET"),
        ({"HUB_ISSUER": "http://hub.example"}, "https issuer"),
        ({"HUB_HUB_KEY": "keys/demo/hub.key"}, "demo keys are refused"),
        ({"HUB_MASTER_KEY": "/srv/keys/demo/master.key"}, "demo keys are refused"),
    ],
)
def test_production_refuses_demo_conveniences(change, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**GOOD_PRODUCTION, **change})
    assert message in str(caught.value)


def test_create_app_validates_settings(tmp_path: Path):
    from hub import create_app

    with pytest.raises(SettingsError):
        create_app(Settings(root=tmp_path, production=True))
