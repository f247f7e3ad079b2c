"""Database: engine, sessions and the declarative ``Base`` with a naming convention.

Services receive a :class:`~sqlalchemy.orm.Session`; only the app factory and the CLI make
one. A request gets one session (``hub.db.session()``), closed at teardown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import structlog
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from flask import Flask, Response

    from hub.settings import Settings

log = structlog.get_logger("hub.db")
# What a client is told to wait before retrying when the database cannot answer.
RETRY_AFTER_SECONDS = 5
# Database failures that mean "not now" rather than "your request is wrong": the server
# is down, silent, timed out a statement or lock wait, or the pool had no free connection.
UNAVAILABLE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every hub table; constraint names follow the convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both SQLite and PostgreSQL.

    SQLite drops the offset; we store naive UTC there and re-attach UTC on load, so every
    datetime the hub handles is aware and comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite, enable foreign keys and a busy timeout.

    SQLite's default "deferred" transactions let two writers both read and then fail to
    upgrade their lock; ``BEGIN IMMEDIATE`` takes the write lock up front so appends to the
    ledger serialise instead of erroring (see SQLAlchemy's pysqlite transaction recipe).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cursor = dbapi_connection.cursor()
            # PostgreSQL has md5(); SQLite gets the same function so queries stay portable.
            dbapi_connection.create_function("md5", 1, _md5, deterministic=True)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def serving_options(settings: Settings) -> dict[str, Any]:
    """Engine options that bound every wait on the database while serving requests.

    On PostgreSQL: no pre-ping; psycopg's ``connect_timeout``; TCP keepalives and
    ``tcp_user_timeout`` so a connection to a silent peer dies within
    ``db_network_timeout``; the server's own
    ``statement_timeout`` and ``lock_timeout``; and the pool's checkout wait. SQLite has
    only the pool wait (its busy timeout is set in :func:`make_engine`).
    """
    options: dict[str, Any] = {"pool_timeout": settings.db_pool_timeout}
    if settings.database_url.startswith("sqlite"):
        return options
    # No round trip per checkout: a connection found dead is retried once instead
    # (:func:`retry_once_on_disconnect`).
    options["pool_pre_ping"] = False
    network = settings.db_network_timeout
    statement_ms = int(settings.db_statement_timeout * 1000)
    lock_ms = int(settings.db_lock_timeout * 1000)
    options["connect_args"] = {
        "connect_timeout": settings.db_connect_timeout,
        "keepalives": 1,
        "keepalives_idle": max(1, network // 3),
        "keepalives_interval": max(1, network // 9),
        "keepalives_count": 3,
        "tcp_user_timeout": network * 1000,
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}",
        # Names the process in pg_stat_activity, e.g. which one leads the sequencer's batch.
        "application_name": f"hub:{os.getpid()}",
    }
    return options


def unavailable(error: Exception) -> Response:
    """503 ``unavailable`` with ``Retry-After``: the database could not answer in time."""
    from hub.errors import problem_response

    session = _current_session()
    if session is not None:
        session.invalidate()  # its connection may be dead; never hand it out again
    log.warning("database_unavailable", exc_type=type(error).__name__)
    return problem_response(
        503,
        "The hub's database is not answering; retry later.",
        problem="unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _current_session() -> Session | None:
    from flask import g

    return g.get("db_session") if g else None


@contextlib.contextmanager
def driver_errors(session: Session) -> Iterator[None]:
    """Statements sent below SQLAlchemy (psycopg or sqlite3 cursors) fail as SQLAlchemy's do.

    A lock or statement timeout then answers 503 like any other database wait
    (:data:`UNAVAILABLE_ERRORS`), and a lost connection is invalidated, never handed out
    again, and retried once (:func:`retry_once_on_disconnect`).
    """
    connection = session.connection()
    dialect = connection.dialect
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        raise sa_exc.DBAPIError.instance(
            None,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error


def on_postgres(session: Session) -> bool:
    """True when ``session`` talks to PostgreSQL (where the hot path speaks to psycopg)."""
    return session.get_bind().dialect.name == "postgresql"


@contextlib.contextmanager
def pg_cursor(session: Session) -> Iterator[Any]:
    """A psycopg cursor in this session's transaction, failing as SQLAlchemy would.

    For the referral's hot path on PostgreSQL: a constant text sent by psycopg costs a
    third of the CPU of the same statement through SQLAlchemy (building, compiling and
    coercing it, setting up its result), and a referral sends a dozen. Wrapped in
    :func:`driver_errors`, so timeouts and lost connections behave as elsewhere.
    """
    raw = session.connection().connection.driver_connection
    with driver_errors(session), raw.cursor() as cursor:  # type: ignore[union-attr]
        yield cursor


def execute_rows(cursor: Any, statement: str, rows: Sequence[Any]) -> None:
    """Run ``statement`` once per row on a psycopg cursor.

    One row (a referral) is a plain execute: psycopg's ``executemany`` enters pipeline mode
    even for one, which costs more CPU than it saves.
    """
    if len(rows) == 1:
        cursor.execute(statement, rows[0])
    else:
        cursor.executemany(statement, rows)


_T = TypeVar("_T")


def built(cls: type[_T], **values: Any) -> _T:
    """A new ``cls`` holding ``values`` (every other mapped attribute None), built without
    the ORM's per-attribute events.

    For objects on the hot path that never go through the unit of work: rows inserted at
    the driver and then attached as persistent, like rows just loaded, and carriers never
    added to a session. Through the instrumented constructor a large batch spent a tenth of
    its time setting attributes.
    """
    instance = manager_of_class(cls).new_instance()
    instance.__dict__.update(dict.fromkeys(_attribute_keys(cast(type, cls))), **values)
    return cast(_T, instance)


@functools.cache
def _attribute_keys(cls: type) -> tuple[str, ...]:
    mapper: Any = sa_inspect(cls)
    return tuple(str(attribute.key) for attribute in mapper.column_attrs)


def _md5(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


class HubSession(Session):
    """A session whose ``commit()`` returns only once the ledger entries it appended
    (deferred, :func:`hub.ledger.store.append_entries`) are sequenced: in its own
    transaction when the sequencer is free, else by the batch it waits for
    (:func:`hub.ledger.settling.commit_and_settle`).

    So nothing a request committed is answered, shown or delivered before its entry has an
    index (no entry, no release). Raises
    :class:`~hub.ledger.settling.SequencingDelayed` after the bounded wait.
    """

    def commit(self) -> None:
        pending = self.info.pop("hub.ledger.pending", None)
        if not pending:
            super().commit()
            return
        from hub.ledger import settling

        settling.commit_and_settle(self, pending, super().commit)


@event.listens_for(HubSession, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop("hub.ledger.pending", None)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (we return them from services)."""
    return sessionmaker(bind=engine, expire_on_commit=False, class_=HubSession)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach an engine and a per-request session to the app."""
    from flask import g

    if settings.database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    engine = make_engine(settings.database_url, **serving_options(settings))
    app.extensions["hub.engine"] = engine
    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, unavailable)
    app.extensions["hub.sessionmaker"] = make_sessionmaker(engine)
    event.listen(app.extensions["hub.sessionmaker"], "after_commit", _note_commit)
    retry_once_on_disconnect(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def _note_commit(session: Session) -> None:
    session.info[_COMMITTED] = True


_COMMITTED = "hub.committed"


def retry_once_on_disconnect(app: Flask) -> None:
    """Run a view again, once, if its database connection turned out to be dead.

    Serving engines skip the pre-ping (a round trip on every checkout); instead, when a
    statement fails because the connection was lost (the server restarted, a proxy or
    ``pg_terminate_backend`` cut it), SQLAlchemy invalidates the pool and the view is run
    again on a fresh connection. Only if nothing was committed yet: a view that already
    committed part of its work is not repeated, and a second loss is a 503 as before.
    """
    from flask import g

    dispatch = app.dispatch_request

    def dispatch_request() -> Any:
        try:
            return dispatch()
        except sa_exc.DBAPIError as error:
            session = g.get("db_session")
            if not error.connection_invalidated:
                raise
            if session is not None and session.info.get(_COMMITTED, False):
                raise
            if session is not None:
                g.pop("db_session").close()
            log.warning("database_connection_lost_retrying", exc_type=type(error).__name__)
        return dispatch()

    app.dispatch_request = dispatch_request  # type: ignore[method-assign]


def session() -> Session:
    """The current request's session (created on first use)."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["hub.sessionmaker"]()
    return g.db_session  # type: ignore[no-any-return]


def engine() -> Engine:
    """The current app's engine."""
    from flask import current_app

    return current_app.extensions["hub.engine"]  # type: ignore[no-any-return]
