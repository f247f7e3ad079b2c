"""``hub users ...``: people who sign in to the console (docs/architecture.md, console contract).

``hub users add`` prints exactly one line on stdout, the ``otpauth://`` URI to enrol an
authenticator app (none with ``--sso``); everything else it says goes to stderr.
"""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
from sqlalchemy.orm import Session

from hub import db, schema
from hub.people import accounts, factors
from hub.people.roles import ROLES
from hub.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env().with_defaults()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = db.make_engine(settings.database_url)
    try:
        if not schema.is_at_head(engine):
            raise click.ClickException(
                "the database is not at the newest migration: run `hub init`"
            )
        with db.make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise click.ClickException("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("Password: ", stream=sys.stderr)
    if getpass.getpass("Password again: ", stream=sys.stderr) != first:
        raise click.ClickException("the passwords differ")
    return first


@click.group()
def users() -> None:
    """People who sign in to the console."""


@users.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--partner", "partner_id", required=True, help="the partner the person works for")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="repeat for each role")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin's first line")
@click.option("--sso", is_flag=True, help="signs in through the partner's identity provider only")
def users_add(
    email: str, name: str, partner_id: str, roles: tuple[str, ...], password_stdin: bool, sso: bool
) -> None:
    """Add a person; print the otpauth:// URI for their authenticator app (none with --sso)."""
    settings = _settings()
    if sso and password_stdin:
        raise click.ClickException("--sso people have no password")
    password = None if sso else _read_password(password_stdin)
    with _session(settings) as session:
        try:
            person = accounts.add_person(
                session, accounts.rules_from_settings(settings), email=email, name=name,
                partner_id=partner_id, roles=roles, password=password, sso=sso,
            )
        except accounts.PeopleError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        if not sso:
            click.echo(factors.otpauth_uri(person))
        click.echo(f"added {person.pseudonym} at {partner_id}", err=True)


@users.command("list")
def users_list() -> None:
    """Every person: email, partner, roles, second factors, state."""
    with _session(_settings()) as session:
        for p in accounts.list_people(session):
            factors = "sso" if p.sso else ("totp" if p.totp_secret else "no-2fa")
            if accounts.has_security_key(session, p):
                factors += "+key"
            state = "disabled" if p.disabled else ("locked" if accounts.is_locked(p, db.utcnow())
                                                   else "active")
            demo = " demo" if p.demo_only else ""
            click.echo(
                f"{p.email}\t{p.partner_id}\t{','.join(p.roles)}\t{factors}\t{state}{demo}"
            )


def _change_person(email: str, change: Callable[[Any, Any], object], done: str) -> None:
    """Apply one account change to the person with ``email``, commit, say what happened."""
    with _session(_settings()) as session:
        try:
            change(session, accounts.get(session, email))
        except accounts.PeopleError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(done)


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a person and end their sessions now."""
    _change_person(email, accounts.disable, "disabled; every session of this person has ended")


@users.command("reset-mfa")
@click.argument("email")
def users_reset_mfa(email: str) -> None:
    """Forget the person's authenticator, keys and recovery codes; they enrol again at sign-in."""
    _change_person(
        email,
        accounts.reset_mfa,
        "second factors reset: the next sign-in with the password enrols a new one",
    )


@users.command("code")
@click.argument("email")
def users_code(email: str) -> None:
    """Development mode only: print the person's current TOTP code (no phone needed)."""
    settings = _settings()
    if settings.production:
        raise click.ClickException("hub users code is for development; refused in production")
    with _session(settings) as session:
        try:
            click.echo(factors.current_code(accounts.get(session, email)))
        except accounts.PeopleError as exc:
            raise click.ClickException(str(exc)) from None
