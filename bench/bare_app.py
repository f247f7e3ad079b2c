"""The baseline for ``bench/share.py``: a bare Flask + SQLAlchemy endpoint.

One POST route that stores the request's JSON body in one table and answers 201 with the
new row's id: no authentication, no policy, no encryption, no ledger. Served by the same
gunicorn configuration against the same PostgreSQL database as the hub, it is the floor
the hub's audited referral is compared with (docs/architecture.md: the hub at >= 0.5x of this).

    BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn --chdir bench 'bare_app:create_app()'
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import JSON, BigInteger, DateTime, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class BareReferral(Base):
    """The JSON body as received, with who sent it and when (what any app would keep)."""

    __tablename__ = "bench_bare_referrals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def create_app(database_url: str | None = None) -> Flask:
    """The whole baseline app; the table must exist (``bench/share.py`` creates it)."""
    engine = create_engine(database_url or os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = Flask(__name__)

    @app.post("/referrals")
    def create_referral() -> Any:
        body = request.get_json()
        with sessions() as session:
            row = BareReferral(sender="kent-csc", body=body, created_at=dt.datetime.now(dt.UTC))
            session.add(row)
            session.commit()
            return jsonify(id=row.id, status="stored"), 201

    return app
