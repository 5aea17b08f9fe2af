"""Settings, read once from flags, `TAGTRAIL_*` variables, `.env`, then defaults.

Entrypoints build `Settings()` and pass it down; nothing reads the environment at import time.
docs/configuration.md documents every field (a test keeps it that way).
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tagtrail.errors import InvalidSettings

logger = logging.getLogger(__name__)

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "default", "test", "tagtrail"}


#: The file of data_dir where `tagtrail serve` keeps the origin it answers on.
SERVED_ORIGIN = "base-url"


class Settings(BaseSettings):
    """Everything the server and the data commands can be told."""

    model_config = SettingsConfigDict(env_prefix="TAGTRAIL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("tagtrail-data"), description="Where the embedded store lives.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the online store; default SQLite in data_dir."
    )
    host: str = Field("127.0.0.1", description="Address `tagtrail serve` listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port `tagtrail serve` listens on.")
    base_url: str | None = Field(
        None, description="Public origin of short links (default http://HOST:PORT)."
    )
    secret_key: SecretStr | None = Field(
        None, description="Signs recipient tokens and hashes; default: data_dir/secret.key."
    )
    workers: int = Field(1, ge=1, le=64, description="Server processes for `tagtrail serve`.")
    server: Literal["granian", "uvicorn"] = Field(
        "granian", description="The HTTP server `tagtrail serve` runs the app under."
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Proxies (IPs or CIDRs, comma-separated; `*` any) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; none by default.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "FULL", description="SQLite durability: FULL survives power loss, NORMAL a crash."
    )
    commit_batch: int = Field(
        512, ge=1, le=100_000, description="Most clicks committed in one transaction."
    )
    writer: Literal["auto", "loop", "process", "thread"] = Field(
        "auto",
        description="Where `tagtrail serve` commits: on the worker's event loop, in one writer "
        "process for every worker, or in a thread in each; `auto`: the loop for one worker on "
        "the embedded SQLite store, else the process.",
    )
    journal_socket: str | None = Field(
        None, description="Set by `tagtrail serve` for its workers: the writer process's socket."
    )
    cache_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a server checks other processes' link changes."
    )
    fast_click_seconds: float = Field(
        10.0, ge=0, le=3600, description="A click this soon after its send is a bot signal."
    )
    session_timeout_minutes: float = Field(
        30.0, gt=0, le=1440, description="Inactivity that ends a collected session (GA4: 30)."
    )
    session_on_campaign_change: bool = Field(
        False, description="Start a new session when the campaign changes (Universal Analytics)."
    )
    site_hosts: list[str] = Field(
        [], description="Hosts of your own site: a referrer on them is not a touchpoint."
    )
    unsafe_allow_private: bool = Field(
        False, description="Let POST /api/check reach private addresses (tests only)."
    )
    auth_failure_limit: int = Field(
        10,
        ge=1,
        le=100_000,
        description="Failed sign-ins or admin keys one client address may send per "
        "auth_failure_window_seconds before 429.",
    )
    auth_failure_window_seconds: float = Field(
        60.0, gt=0, le=86_400, description="The window of auth_failure_limit, in seconds."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server and of every command (`--log-level`)."
    )
    debug: bool = Field(
        False, description="Let a command's internal error show its traceback (for a bug report)."
    )
    api: str | None = Field(
        None, description="URL of a running server the data commands act on (`--api`)."
    )
    key: SecretStr | None = Field(
        None, description="An admin API key of the `api` server (`--key`)."
    )
    policy: Path | None = Field(
        None, description="Naming policy file (`--policy`); default ./tagtrail.toml when present."
    )
    journal_store_url: SecretStr | None = Field(
        None,
        description="Set by `tagtrail serve` for its writer process: the store's URL (in its "
        "environment, so a password is never on a command line).",
    )

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            if raw.lower() in _PLACEHOLDERS or len(raw) < 32:
                raise ValueError("must be at least 32 random characters, not a placeholder")
        return value

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tagtrail.db').resolve()}"

    @property
    def commits_in(self) -> Literal["loop", "process", "thread"]:
        """Where a server commits (`writer`, with `auto` decided): one worker on the embedded
        SQLite store commits on its own event loop (no round trip to another process: ~25 %
        more redirects a second, docs/clicks.md); several workers, or PostgreSQL, whose commits
        wait on the network, commit in the writer process."""
        if self.writer != "auto":
            return self.writer
        if self.workers == 1 and self.store_url.startswith("sqlite"):
            return "loop"
        return "process"

    @property
    def sessions(self) -> dict[str, Any]:
        """How collected journeys split into sessions, as the readers take it (`timeout`,
        `new_session_on_campaign_change`)."""
        return {
            "timeout": timedelta(minutes=self.session_timeout_minutes),
            "new_session_on_campaign_change": self.session_on_campaign_change,
        }

    @property
    def public_origin(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def secret(self) -> bytes:
        """The signing secret: the setting, or a random one kept in data_dir/secret.key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
        logger.info("created a signing secret in %s", path)
        return value

    def record_served_origin(self) -> None:
        """Keep the origin `tagtrail serve` answers on (its base_url, or http://HOST:PORT of its
        bind) in data_dir/base-url, beside secret.key: the commands on the same data dir print
        short links with it. Not in the store, which holds no address (docs/clicks.md)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / SERVED_ORIGIN).write_text(self.public_origin + "\n", encoding="utf-8")

    @property
    def link_origin(self) -> str:
        """The origin of printed short links: base_url when given, else the one the data dir's
        server recorded, else the default http://HOST:PORT."""
        if self.base_url:
            return self.public_origin
        try:
            stored = (self.data_dir / SERVED_ORIGIN).read_text(encoding="utf-8").strip()
        except OSError:
            stored = ""
        return stored or self.public_origin


def load_settings(**overrides: object) -> Settings:
    """Settings with CLI flags (`overrides`, None meaning not given) over the environment.
    A value that is not valid raises `InvalidSettings` naming the flag or variable."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        names = [str(error["loc"][0]) if error["loc"] else "" for error in errors]
        problems = [
            f"{_source(name, given, overrides)}{_shown(name, error.get('input'))} "
            f"{error['msg'].removeprefix('Value error, ')}"
            for name, error in zip(names, errors, strict=True)
        ]
        raise InvalidSettings(
            "invalid setting: " + "; ".join(problems),
            hint=_HINTS.get(names[0], "docs/configuration.md lists every setting and its values"),
        ) from None


_HINTS = {
    "secret_key": "make one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
    "or unset TAGTRAIL_SECRET_KEY to keep a generated one in DATA_DIR/secret.key",
}


def _source(name: str, given: dict[str, object], flags: dict[str, object]) -> str:
    """Where a setting came from, as the user wrote it: the flag or the variable (and the flag
    the command has for it, if any)."""
    variable, flag = f"TAGTRAIL_{name.upper()}", f"--{name.replace('_', '-')}"
    if name in given:
        return f"{flag} (or {variable})"
    return f"{variable} (or {flag})" if name in flags else variable


def _shown(name: str, value: object) -> str:
    """The value refused, for the numeric settings only (others may be secrets or URLs)."""
    field = Settings.model_fields.get(name)
    if field is None or field.annotation not in (int, float) or value is None:
        return ""
    return f" = {value}:"
