"""The log's origin is pinned once; a hub configured under another origin refuses to start."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from alembic import command

from hub import create_app, db, schema
from hub.ledger.checkpoint import sign_checkpoint
from hub.ledger.origin import OriginMismatch, pinned_origin
from hub.operations import initialise
from hub.settings import SettingsError

PINNED = "127.0.0.1:8000/hub-ledger"


def test_the_first_start_pins_the_origin_and_another_issuer_is_refused(app, settings):
    with app.app_context():
        assert pinned_origin(db.session()) == PINNED
    moved = dataclasses.replace(settings, issuer="https://hub.example")
    with pytest.raises(SettingsError) as raised:
        create_app(moved)
    message = str(raised.value)
    assert PINNED in message and "hub.example/hub-ledger" in message
    assert f"HUB_ORIGIN={PINNED}" in message


def test_keeping_the_origin_lets_the_issuer_change(app, settings):
    moved = dataclasses.replace(settings, issuer="https://hub.example", origin=PINNED)
    other = create_app(moved)
    try:
        assert other.test_client().get("/readyz").status_code == 200
    finally:
        other.extensions["hub.engine"].dispose()


def test_readyz_reports_a_mismatch_found_after_start(app, settings):
    app.config["HUB_SETTINGS"] = dataclasses.replace(settings, origin="elsewhere/hub-ledger")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert PINNED in response.get_json()["checks"]["origin"]


def test_no_checkpoint_is_ever_signed_under_another_origin(app):
    with app.app_context():
        session = db.session()
        with pytest.raises(OriginMismatch):
            sign_checkpoint(session, app.extensions["hub.signing_key"], "elsewhere/hub-ledger")
        session.rollback()


def test_hub_init_pins_and_then_refuses_a_mismatch(clean_db, settings):
    assert f"log origin: {PINNED}" in initialise(settings)
    with pytest.raises(SettingsError):
        initialise(dataclasses.replace(settings, origin="elsewhere/hub-ledger"))


def test_the_migration_pins_the_origin_of_an_existing_first_checkpoint(clean_db, settings, app):
    with app.app_context():  # a log with a checkpoint, as signed before this migration
        session = db.session()
        sign_checkpoint(session, app.extensions["hub.signing_key"], PINNED)
        session.commit()
    config = schema.alembic_config(clean_db.url.render_as_string(hide_password=False))
    try:
        with clean_db.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "6edf33d82fa7")
        with clean_db.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with clean_db.connect() as connection:
            origin = connection.execute(sa.text("SELECT origin FROM ledger_origin")).scalar()
        assert origin == PINNED
    finally:
        schema.upgrade_to_head(clean_db)
