"""The webhook settings: read from HUB_WEBHOOK_*, validated, demo keys refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.delivery.outbox import DeliveryPolicy
from hub.settings import Settings, SettingsError

GOOD_PRODUCTION = {
    "HUB_PRODUCTION": "true",
    "HUB_DATABASE_URL": "postgresql+psycopg://hub@db.internal/hub",
    "HUB_SECRET_KEY": "s" * 40,
    "HUB_SUBJECT_SECRET": "t" * 40,
    "HUB_ISSUER": "https://hub.example.gov.uk",
}


def test_defaults(tmp_path: Path):
    settings = Settings.from_env({"HUB_ROOT": str(tmp_path)})
    assert settings.webhook_key_file == tmp_path / "instance" / "webhook-signing.jwk"
    assert settings.webhook_key_file != settings.signing_key_file  # one key, one purpose
    policy = DeliveryPolicy.from_settings(settings)
    assert (policy.max_attempts, policy.backoff_base, policy.backoff_cap) == (8, 10.0, 3600.0)
    assert policy.https_only is False and policy.lease > policy.timeout


def test_values_are_read_and_typed(tmp_path: Path):
    settings = Settings.from_env(
        {
            "HUB_WEBHOOK_KEY": str(tmp_path / "w.jwk"),
            "HUB_WEBHOOK_MAX_ATTEMPTS": "3",
            "HUB_WEBHOOK_BACKOFF_BASE": "0.5",
            "HUB_WEBHOOK_BACKOFF_CAP": "30",
            "HUB_WEBHOOK_TIMEOUT": "2.5",
        }
    )
    assert settings.webhook_key_file == tmp_path / "w.jwk"
    assert settings.webhook_max_attempts == 3
    assert (settings.webhook_backoff_base, settings.webhook_backoff_cap) == (0.5, 30.0)
    assert settings.webhook_timeout == 2.5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_WEBHOOK_MAX_ATTEMPTS": "0"}, "HUB_WEBHOOK_MAX_ATTEMPTS: must be between 1 and 100"),
        ({"HUB_WEBHOOK_BACKOFF_BASE": "soon"}, "HUB_WEBHOOK_BACKOFF_BASE: expected a number"),
        ({"HUB_WEBHOOK_BACKOFF_BASE": "nan"}, "HUB_WEBHOOK_BACKOFF_BASE: must be between"),
        ({"HUB_WEBHOOK_TIMEOUT": "600"}, "HUB_WEBHOOK_TIMEOUT: must be between"),
        (
            {"HUB_WEBHOOK_BACKOFF_BASE": "60", "HUB_WEBHOOK_BACKOFF_CAP": "10"},
            "must not exceed HUB_WEBHOOK_BACKOFF_CAP",
        ),
    ],
)
def test_wrong_values_are_named(env, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert message in str(caught.value)


def test_production_refuses_a_demo_webhook_key_and_plain_http():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**GOOD_PRODUCTION, "HUB_WEBHOOK_KEY": "keys/demo/webhook.jwk"})
    assert "HUB_WEBHOOK_KEY: demo keys are refused" in str(caught.value)
    assert DeliveryPolicy.from_settings(Settings.from_env(GOOD_PRODUCTION)).https_only
