"""Settings: one frozen dataclass read from ``HUB_*`` environment variables.

Validated once at start-up so a wrong value stops the hub with a message naming the
variable, instead of failing later inside a request.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_ISSUER = "http://127.0.0.1:8000"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# argon2-cffi parameter profiles by name; "cheapest" keeps tests fast and is refused in
# production.
PASSWORD_HASH_PROFILES = ("rfc9106_low_memory", "rfc9106_high_memory", "cheapest")


# gunicorn worker models the hub supports: threaded workers (the default: a request stuck
# on a slow dependency holds a thread, not the worker) or one request per process.
WORKER_CLASSES = frozenset({"gthread", "sync"})
SERVERS = frozenset({"auto", "gunicorn", "development"})


@dataclasses.dataclass(frozen=True)
class WitnessEndpoint:
    """One witness the hub asks to cosign: its cosigner name, submission URL prefix and
    cosignature/v1 verifier key (``name+hexkeyid+base64(0x04 || public key)``)."""

    name: str
    url: str
    verifier_key: str


def parse_witnesses(raw: str) -> tuple[WitnessEndpoint, ...]:
    """``HUB_WITNESSES``: ``URL VKEY`` per witness, separated by commas or newlines."""
    from hub.witness.cosignature import CosignatureError, parse_cosigner_key

    found = []
    for item in raw.replace(",", "\n").splitlines():
        parts = item.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ValueError(f"expected 'URL VKEY' per witness, got {item.strip()!r}")
        url, vkey = parts
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", url):
            raise ValueError(f"witness URL {url!r} must be http(s) without query or fragment")
        try:
            cosigner = parse_cosigner_key(vkey)
        except CosignatureError as exc:
            raise ValueError(f"witness key {vkey[:40]!r}...: {exc}") from None
        found.append(WitnessEndpoint(cosigner.name, url.rstrip("/"), vkey))
    names = [w.name for w in found]
    if len(set(names)) != len(names):
        raise ValueError("two witnesses share a name")
    return tuple(found)


class SettingsError(ValueError):
    """Raised with every problem found in the environment, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid hub settings:\n  - " + "\n  - ".join(problems))


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the hub reads from its environment.

    ``root`` is the project directory holding ``policies/`` and ``keys/``; commands run from
    the project root read those there (docs/architecture.md, public contract).
    """

    root: Path = dataclasses.field(default_factory=Path.cwd)
    database_url: str = ""
    issuer: str = DEFAULT_ISSUER
    production: bool = False
    secret_key: str = ""
    token_lifetime: int = 600
    assertion_max_lifetime: int = 300
    hub_key_path: Path | None = None
    subject_secret: str = ""
    master_key_path: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True
    checkpoint_every: int = 256
    checkpoint_interval: int = 60
    origin: str = ""
    # Webhook push (hub/delivery): the hub's JWS key for webhook bodies and retry policy.
    webhook_key_path: Path | None = None
    webhook_max_attempts: int = 8
    webhook_backoff_base: float = 10.0
    webhook_backoff_cap: float = 3600.0
    webhook_timeout: float = 10.0
    # DPO console: how often `hub worker` re-verifies the whole ledger (0 = never) and
    # checks the latest checkpoint's consistency with the one before (seconds).
    verify_interval: int = 3600
    consistency_interval: int = 300
    # The console for people (hub/web, hub/people).
    console_origin: str = ""
    console_idle_minutes: int = 15
    console_absolute_hours: int = 8
    console_lockout_failures: int = 5
    console_lockout_minutes: int = 15
    password_hash_profile: str = "rfc9106_low_memory"  # noqa: S105 - a profile name
    # Every wait on the database is bounded (README "Limits and failure behaviour"): a dead
    # or silent database gives a 503 within these, never a hung worker.
    db_connect_timeout: int = 5
    db_statement_timeout: float = 30.0
    db_lock_timeout: float = 10.0
    db_pool_timeout: float = 10.0
    db_network_timeout: int = 30
    # Witnesses (hub/witness): who cosigns checkpoints, how many must (k of n; None = all).
    witnesses: tuple[WitnessEndpoint, ...] = ()
    witness_quorum: int | None = None
    witness_timeout: float = 5.0
    witness_retry_interval: int = 30
    # gunicorn (production): a worker silent this long is restarted; shutdown waits this long.
    worker_timeout: int = 60
    worker_graceful_timeout: int = 30
    # Which server ``hub serve`` runs: "auto" (gunicorn in production, the development
    # server otherwise), "gunicorn" or "development"; gunicorn's worker model and counts;
    # its control socket (a path of this instance's own; empty: none, the default, rather
    # than gunicorn's one path per user shared by every master on the machine). README
    # "Deployment: several hub processes".
    server: str = "auto"
    worker_class: str = "gthread"
    workers: int = 4
    threads: int = 4
    control_socket: Path | None = None
    # How long a request waits for the sequencer to give its ledger entry an index before
    # answering 503 (its entry is kept and sequenced later; docs/ledger.md "Sequencing").
    sequencer_wait: float = 10.0
    # GET /metrics (hub/metrics): the bearer secret Prometheus sends; required in production.
    metrics_token: str = ""

    # -- derived paths -------------------------------------------------------------------
    @property
    def instance_dir(self) -> Path:
        return self.root / "instance"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def signing_key_file(self) -> Path:
        """The hub's Ed25519 note-signing key (private; created by ``hub init``)."""
        return self.hub_key_path or self.instance_dir / "hub-signing.key"

    @property
    def webhook_key_file(self) -> Path:
        """The hub's Ed25519 webhook-signing JWK (private; created by ``hub init``).

        Separate from the checkpoint key: one key, one purpose.
        """
        return self.webhook_key_path or self.instance_dir / "webhook-signing.jwk"

    @property
    def log_origin(self) -> str:
        """The checkpoint origin line: a schema-less URL naming this hub's log."""
        if self.origin:
            return self.origin
        host = re.sub(r"^[a-z]+://", "", self.issuer).rstrip("/")
        return f"{host}/hub-ledger"

    @property
    def witness_quorum_needed(self) -> int:
        """k: cosignatures a checkpoint needs (all configured witnesses unless set)."""
        return len(self.witnesses) if self.witness_quorum is None else self.witness_quorum

    @property
    def console_base(self) -> str:
        """The console's public origin (WebAuthn relying party, SSO redirect URIs)."""
        return (self.console_origin or self.issuer).rstrip("/")

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``HUB_*`` variables, apply ``overrides`` and validate the result."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, object] = {}

        def text(name: str, field: str) -> None:
            if f"HUB_{name}" in env:
                values[field] = env[f"HUB_{name}"].strip()

        def flag(name: str, field: str) -> None:
            raw = env.get(f"HUB_{name}")
            if raw is None:
                return
            low = raw.strip().lower()
            if low in _TRUE:
                values[field] = True
            elif low in _FALSE:
                values[field] = False
            else:
                problems.append(f"HUB_{name}: expected true/false, got {raw!r}")

        def integer(name: str, field: str, low: int, high: int) -> None:
            raw = env.get(f"HUB_{name}")
            if raw is None:
                return
            try:
                number = int(raw)
            except ValueError:
                problems.append(f"HUB_{name}: expected an integer, got {raw!r}")
                return
            if not low <= number <= high:
                problems.append(f"HUB_{name}: must be between {low} and {high}, got {number}")
                return
            values[field] = number

        def seconds(name: str, field: str, low: float, high: float) -> None:
            raw = env.get(f"HUB_{name}")
            if raw is None:
                return
            try:
                number = float(raw)
            except ValueError:
                problems.append(f"HUB_{name}: expected a number of seconds, got {raw!r}")
                return
            if not low <= number <= high:
                problems.append(f"HUB_{name}: must be between {low:g} and {high:g}, got {raw}")
                return
            values[field] = number

        def path(name: str, field: str) -> None:
            if env.get(f"HUB_{name}"):
                values[field] = Path(env[f"HUB_{name}"])

        path("ROOT", "root")
        text("DATABASE_URL", "database_url")
        text("ISSUER", "issuer")
        flag("PRODUCTION", "production")
        text("SECRET_KEY", "secret_key")
        integer("TOKEN_LIFETIME", "token_lifetime", 60, 3600)
        integer("ASSERTION_MAX_LIFETIME", "assertion_max_lifetime", 30, 3600)
        path("HUB_KEY", "hub_key_path")
        text("SUBJECT_SECRET", "subject_secret")
        path("MASTER_KEY", "master_key_path")
        text("LOG_LEVEL", "log_level")
        flag("LOG_JSON", "log_json")
        integer("CHECKPOINT_EVERY", "checkpoint_every", 1, 1_000_000)
        integer("CHECKPOINT_INTERVAL", "checkpoint_interval", 1, 86_400)
        text("ORIGIN", "origin")
        path("WEBHOOK_KEY", "webhook_key_path")
        integer("WEBHOOK_MAX_ATTEMPTS", "webhook_max_attempts", 1, 100)
        seconds("WEBHOOK_BACKOFF_BASE", "webhook_backoff_base", 0.001, 86_400)
        seconds("WEBHOOK_BACKOFF_CAP", "webhook_backoff_cap", 0.001, 7 * 86_400)
        seconds("WEBHOOK_TIMEOUT", "webhook_timeout", 0.1, 120)
        integer("VERIFY_INTERVAL", "verify_interval", 0, 7 * 86_400)
        integer("CONSISTENCY_INTERVAL", "consistency_interval", 0, 86_400)
        text("CONSOLE_ORIGIN", "console_origin")
        integer("CONSOLE_IDLE_MINUTES", "console_idle_minutes", 1, 24 * 60)
        integer("CONSOLE_ABSOLUTE_HOURS", "console_absolute_hours", 1, 24)
        integer("CONSOLE_LOCKOUT_FAILURES", "console_lockout_failures", 1, 100)
        integer("CONSOLE_LOCKOUT_MINUTES", "console_lockout_minutes", 1, 24 * 60)
        text("PASSWORD_HASH_PROFILE", "password_hash_profile")
        integer("DB_CONNECT_TIMEOUT", "db_connect_timeout", 2, 300)
        seconds("DB_STATEMENT_TIMEOUT", "db_statement_timeout", 0.1, 3600)
        seconds("DB_LOCK_TIMEOUT", "db_lock_timeout", 0.1, 3600)
        seconds("DB_POOL_TIMEOUT", "db_pool_timeout", 0.1, 300)
        integer("DB_NETWORK_TIMEOUT", "db_network_timeout", 3, 3600)
        if env.get("HUB_WITNESSES", "").strip():
            try:
                values["witnesses"] = parse_witnesses(env["HUB_WITNESSES"])
            except ValueError as exc:
                problems.append(f"HUB_WITNESSES: {exc}")
        integer("WITNESS_QUORUM", "witness_quorum", 0, 1000)
        seconds("WITNESS_TIMEOUT", "witness_timeout", 0.1, 120)
        integer("WITNESS_RETRY_INTERVAL", "witness_retry_interval", 1, 86_400)
        integer("WORKER_TIMEOUT", "worker_timeout", 5, 3600)
        integer("WORKER_GRACEFUL_TIMEOUT", "worker_graceful_timeout", 1, 3600)
        text("SERVER", "server")
        text("WORKER_CLASS", "worker_class")
        path("CONTROL_SOCKET", "control_socket")
        integer("WORKERS", "workers", 1, 256)
        integer("THREADS", "threads", 1, 256)
        seconds("SEQUENCER_WAIT", "sequencer_wait", 0.01, 600)
        text("METRICS_TOKEN", "metrics_token")
        values.update(overrides)
        if problems:
            raise SettingsError(problems)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def with_defaults(self) -> Settings:
        """Fill the database URL default: a SQLite file under ``instance/``."""
        if self.database_url:
            return self
        url = f"sqlite:///{(self.instance_dir / 'hub.sqlite3').as_posix()}"
        return dataclasses.replace(self, database_url=url)

    def validate(self) -> None:
        """Raise :class:`SettingsError` listing every wrong value."""
        problems: list[str] = []
        if self.database_url:
            try:
                url = make_url(self.database_url)
            except ArgumentError:
                problems.append("HUB_DATABASE_URL: not a database URL")
            else:
                if url.get_backend_name() not in {"sqlite", "postgresql"}:
                    problems.append(
                        "HUB_DATABASE_URL: only sqlite and postgresql are supported, "
                        f"got {url.get_backend_name()!r}"
                    )
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?(/[A-Za-z0-9._\-/]*)?", self.issuer):
            problems.append("HUB_ISSUER: must be an http(s) URL without query or fragment")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            problems.append("HUB_LOG_LEVEL: one of DEBUG, INFO, WARNING, ERROR")
        if self.webhook_backoff_base > self.webhook_backoff_cap:
            problems.append("HUB_WEBHOOK_BACKOFF_BASE: must not exceed HUB_WEBHOOK_BACKOFF_CAP")
        problems.extend(self._console_problems())
        if self.witness_quorum is not None and not (
            (1 if self.witnesses else 0) <= self.witness_quorum <= len(self.witnesses)
        ):
            problems.append(
                f"HUB_WITNESS_QUORUM: must be between 1 and the {len(self.witnesses)} "
                "witness(es) in HUB_WITNESSES"
            )
        if self.db_lock_timeout > self.db_statement_timeout:
            problems.append("HUB_DB_LOCK_TIMEOUT: must not exceed HUB_DB_STATEMENT_TIMEOUT")
        if self.server not in SERVERS:
            problems.append(f"HUB_SERVER: one of {', '.join(sorted(SERVERS))}")
        if self.worker_class not in WORKER_CLASSES:
            problems.append(f"HUB_WORKER_CLASS: one of {', '.join(sorted(WORKER_CLASSES))}")
        if self.production:
            problems.extend(self._production_problems())
        if problems:
            raise SettingsError(problems)

    def _console_problems(self) -> list[str]:
        problems = []
        if self.console_origin and not re.fullmatch(
            r"https?://[A-Za-z0-9.\-]+(:\d+)?", self.console_origin
        ):
            problems.append("HUB_CONSOLE_ORIGIN: must be scheme://host[:port], no path")
        if not 1 <= self.console_idle_minutes <= 24 * 60:
            problems.append("HUB_CONSOLE_IDLE_MINUTES: must be between 1 and 1440")
        if not 1 <= self.console_absolute_hours <= 24:
            problems.append("HUB_CONSOLE_ABSOLUTE_HOURS: must be between 1 and 24")
        elif self.console_idle_minutes > self.console_absolute_hours * 60:
            problems.append("HUB_CONSOLE_IDLE_MINUTES: must not exceed HUB_CONSOLE_ABSOLUTE_HOURS")
        if self.password_hash_profile not in PASSWORD_HASH_PROFILES:
            problems.append(
                "HUB_PASSWORD_HASH_PROFILE: one of " + ", ".join(PASSWORD_HASH_PROFILES)
            )
        return problems

    def _production_problems(self) -> list[str]:
        """Production refuses the conveniences that make the demo easy."""
        problems = []
        url = self.database_url
        if not url or url.startswith("sqlite"):
            problems.append("HUB_DATABASE_URL: production needs PostgreSQL, not SQLite")
        if len(self.secret_key) < 32:
            problems.append("HUB_SECRET_KEY: production needs a secret of at least 32 characters")
        if len(self.subject_secret) < 32:
            problems.append(
                "HUB_SUBJECT_SECRET: production needs a secret of at least 32 characters"
            )
        if not self.issuer.startswith("https://"):
            problems.append("HUB_ISSUER: production needs an https issuer")
        if self.console_origin and not self.console_origin.startswith("https://"):
            problems.append("HUB_CONSOLE_ORIGIN: production needs an https origin")
        if self.metrics_token and len(self.metrics_token) < 32:
            problems.append(
                "HUB_METRICS_TOKEN: production needs a secret of at least 32 characters"
            )
        if self.password_hash_profile == "cheapest":  # noqa: S105 - a profile name
            problems.append("HUB_PASSWORD_HASH_PROFILE: 'cheapest' is for tests only")
        key_paths = (
            ("HUB_HUB_KEY", self.hub_key_path),
            ("HUB_MASTER_KEY", self.master_key_path),
            ("HUB_WEBHOOK_KEY", self.webhook_key_path),
        )
        if any(not w.url.startswith("https://") for w in self.witnesses):
            problems.append("HUB_WITNESSES: production needs https witness URLs")
        for name, value in key_paths:
            if value is not None and "demo" in value.parts:
                problems.append(f"{name}: demo keys are refused in production mode")
        return problems
