"""The data directory: configuration and the keys that never go into the database.

Layout (docs/OPERATIONS.md)::

    custodes.json         marks a Custodes data directory; format, database, key check
    ledger.sqlite         the embedded database (unless CUSTODES_DATABASE_URL points elsewhere)
    keys/events.key       AES-256 key encrypting stored events (0600)
    keys/service.key      the unattended sweep's signing key (Ed25519, 0600)
    keys/staff/KEYID.key  each member's signing key, sealed by their passphrase (0600)
    keys/...              further keys added by later features (0600)
    sessions/             unlocked keys of this host's OS users, for a few minutes (0700)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger.checkpoint import (
    CheckpointError,
    generate_signing_key,
    load_private_key,
    private_key_pem,
    public_key_pem,
)
from ledger.errors import DataDirError, KeyError_

MARKER = "custodes.json"
FORMAT = "custodes-data-dir/1"
EVENTS_KEY = "events.key"
SIGNING_KEY = "signing.pem"
SIGNING_PUBLIC = "signing.pub.pem"
SERVICE_KEY = "service.key"
STAFF_KEYS = "staff"
# Site secrets (32 random bytes each), made once by ``DataDir.create`` and never again:
# a new pseudonym key would unlink every patron from their requests, a new footage key
# would leave every stored segment unreadable.
SITE_SECRETS = {
    "pseudonym": "requests about the same patron no longer link up and `patron forget` "
    "cannot find them",
    "footage_site": "stored footage cannot be decrypted",
}
DATABASE_URL_ENV = "CUSTODES_DATABASE_URL"
DATABASE_SCHEMA_ENV = "CUSTODES_DATABASE_SCHEMA"
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def schema_problem(schema: str) -> str | None:
    """Why ``schema`` cannot hold a library's ledger, or None: a plain lower-case name, not
    one of PostgreSQL's own (red team, session 17: ``information_schema`` was taken)."""
    if not SCHEMA_NAME.fullmatch(schema):
        return (
            "use lower-case letters, digits and _ (at most 63, not starting with a digit), "
            "e.g. lib_mahomet"
        )
    if schema == "information_schema" or schema.startswith("pg_"):
        return "that name is PostgreSQL's own"
    return None


def url_search_path(url: str) -> str | None:
    """The ``-csearch_path=`` a PostgreSQL URL's ``options`` give, as written, or None.
    Any other spelling libpq accepts (``-c search_path=``, ``--search_path=``,
    ``--search-path=``) is returned as a value no schema name matches (the session's own
    review: they set a search path of several schemas past this check)."""
    found = None
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "options":
            for option in value.split():
                if option.startswith("-csearch_path="):
                    found = option.removeprefix("-csearch_path=")
                elif re.search(r"search[_-]path", option, re.IGNORECASE):
                    return value
    return found


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``options=-csearch_path=SCHEMA``: every table of the ledger (events,
    tree, read models) lives in that schema, under its plain name."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    kept = [
        option
        for k, v in parse_qsl(parts.query)
        if k == "options"
        for option in v.split()
        if not option.startswith("-csearch_path=")
    ]
    query.append(("options", " ".join([*kept, f"-csearch_path={schema}"])))
    return urlunsplit(parts._replace(query=urlencode(query)))


DATA_DIR_ENV = "CUSTODES_DATA_DIR"


def default_data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "custodes"


def key_fingerprint(key: bytes) -> str:
    """Short public identifier of a key: first 16 hex digits of SHA-256 over it."""
    return hashlib.sha256(b"custodes key fingerprint\x00" + key).hexdigest()[:16]


def _key_check(key: bytes) -> str:
    return hmac.new(key, b"custodes key check", hashlib.sha256).hexdigest()[:32]


def _raw_key_b64(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw)


def write_secret(path: Path, data: bytes) -> None:
    """Create a key file readable by its owner only; never overwrite an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class DataDir:
    path: Path
    config: dict[str, Any]

    @property
    def keys(self) -> Path:
        return self.path / "keys"

    @property
    def database_url(self) -> str:
        env = os.environ.get(DATABASE_URL_ENV)
        url = env or self.config.get("database_url") or self.sqlite_url()
        schema = self.database_schema
        if schema is None:
            given = url_search_path(url) if url.startswith("postgresql") else None
            if given is not None and (
                "," in given or (problem := schema_problem(given.strip('"'))) is not None
            ):
                # The URL's own search path is one library's schema too (red team, session
                # 17: "lib_f,lib_a" read another library's tables where its own were missing)
                why = "one schema only" if "," in given else problem
                raise DataDirError(
                    f"the database URL's search_path {given!r} is not one library's schema: "
                    f"{why}; or set {DATABASE_SCHEMA_ENV} instead"
                )
            return url
        if not url.startswith("postgresql"):
            raise DataDirError(
                f"{DATABASE_SCHEMA_ENV}={schema} needs a PostgreSQL database "
                f"({DATABASE_URL_ENV}); the embedded SQLite holds one library's ledger"
            )
        return with_search_path(url, schema)

    @property
    def database_schema(self) -> str | None:
        """The PostgreSQL schema holding this library's ledger in a consortium's database
        (``CUSTODES_DATABASE_SCHEMA``, remembered from ``init``), or None."""
        schema = os.environ.get(DATABASE_SCHEMA_ENV) or self.config.get("database_schema")
        if not schema:
            return None
        if (problem := schema_problem(schema)) is not None:
            raise DataDirError(f"{DATABASE_SCHEMA_ENV}={schema!r} is not a schema name: {problem}")
        return schema

    def sqlite_url(self) -> str:
        # A busy timeout: concurrent writers wait for the lock instead of failing at once.
        timeout = os.environ.get(
            "CUSTODES_LOCK_TIMEOUT", os.environ.get("CUSTODES_BUSY_TIMEOUT", "15")
        )
        return f"sqlite:///{self.path / 'ledger.sqlite'}?timeout={timeout}"

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        database_url: str | None = None,
        signing_passphrase: bytes | None = None,
    ) -> DataDir:
        path = path.expanduser()
        if (path / MARKER).exists():
            raise DataDirError(f"{path} is already a Custodes data directory; nothing changed.")
        cls(path, {"database_url": database_url}).database_url  # noqa: B018 - a bad schema fails here
        if path.exists() and any(path.iterdir()):
            raise DataDirError(
                f"{path} exists and is not empty; choose an empty or new directory with --data-dir."
            )
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)  # an existing (empty) directory keeps its mode otherwise
        except OSError as e:
            raise DataDirError(f"cannot create {path}: {e.strerror}") from e
        key = base64.b64encode(secrets.token_bytes(32))
        write_secret(path / "keys" / EVENTS_KEY, key)
        checks = {}
        for name in SITE_SECRETS:
            raw = secrets.token_bytes(32)
            write_secret(path / "keys" / f"{name}.key", base64.b64encode(raw))
            checks[name] = _key_check(raw)
        signing = generate_signing_key()
        write_secret(path / "keys" / SIGNING_KEY, private_key_pem(signing, signing_passphrase))
        write_secret(path / "keys" / SIGNING_PUBLIC, public_key_pem(signing))  # 0600 as all keys/
        write_secret(path / "keys" / SERVICE_KEY, _raw_key_b64(generate_signing_key()))
        if database_url is None and not os.environ.get(DATABASE_URL_ENV):
            # the embedded database: private from its first byte
            os.close(os.open(path / "ledger.sqlite", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        config = {
            "format": FORMAT,
            "key_check": _key_check(key),
            "secret_checks": checks,
            "database_url": database_url,
            "database_schema": os.environ.get(DATABASE_SCHEMA_ENV) or None,
        }
        (path / MARKER).write_text(json.dumps(config, indent=2) + "\n")
        return cls(path, config)

    @classmethod
    def open(cls, path: Path) -> DataDir:
        path = path.expanduser()
        marker = path / MARKER
        if not marker.is_file():
            raise DataDirError(
                f"{path} is not a Custodes data directory (no {MARKER}). "
                "Create one with: custodes init --director NAME --data-dir PATH"
            )
        try:
            config = json.loads(marker.read_text())
        except (OSError, ValueError) as e:
            raise DataDirError(f"{marker} is unreadable or damaged: {e}") from e
        if config.get("format") != FORMAT:
            raise DataDirError(f"{marker} has format {config.get('format')!r}, expected {FORMAT}")
        return cls(path, config)

    def events_key(self) -> str:
        """The events cipher key, checked against this ledger before it is used."""
        key_path = self.keys / EVENTS_KEY
        try:
            key = key_path.read_bytes().strip()
        except FileNotFoundError as e:
            raise KeyError_(
                f"the events key {key_path} is missing: restore it from your key backup "
                "(see README, 'Keys and backups'); without it stored events cannot be read."
            ) from e
        except OSError as e:
            raise KeyError_(f"cannot read the events key {key_path}: {e.strerror}") from e
        if not hmac.compare_digest(_key_check(key), self.config.get("key_check", "")):
            raise KeyError_(
                f"the events key {key_path} does not belong to this ledger "
                f"(fingerprint {key_fingerprint(key)}): restore the right key from backup."
            )
        return key.decode()

    def signing_key_is_encrypted(self) -> bool:
        return b"ENCRYPTED" in self._read_key_file(SIGNING_KEY)

    def signing_key(self, passphrase: bytes | None) -> Ed25519PrivateKey:
        """The Ed25519 checkpoint-signing key (passphrase-protected when one was given)."""
        try:
            return load_private_key(self._read_key_file(SIGNING_KEY), passphrase)
        except CheckpointError as e:
            raise KeyError_(f"cannot use the signing key {self.keys / SIGNING_KEY}: {e}") from e

    def public_key(self) -> Ed25519PublicKey:
        key = load_pem_public_key(self._read_key_file(SIGNING_PUBLIC))
        if not isinstance(key, Ed25519PublicKey):
            raise KeyError_(f"{self.keys / SIGNING_PUBLIC} is not an Ed25519 public key")
        return key

    def public_key_pem(self) -> bytes:
        return public_key_pem(self.public_key())

    def service_key(self) -> Ed25519PrivateKey:
        """The unattended service identity's signing key (R25): it records the sweep."""
        path = self.keys / SERVICE_KEY
        try:
            raw = base64.b64decode(path.read_bytes().strip(), validate=True)
            return Ed25519PrivateKey.from_private_bytes(raw)
        except FileNotFoundError as e:
            raise KeyError_(
                f"the service key {path} is missing: restore it from your key backup, or "
                "have the Director enrol a new one (custodes staff service-key --reset)"
            ) from e
        except (OSError, ValueError) as e:
            raise KeyError_(f"the service key {path} is unreadable or damaged: {e}") from e

    def replace_service_key(self, key: Ed25519PrivateKey) -> None:
        """Write a new service key (after its enrolment is recorded), atomically."""
        path = self.keys / SERVICE_KEY
        temp = path.with_name(f".{SERVICE_KEY}.{secrets.token_hex(4)}")
        write_secret(temp, _raw_key_b64(key))
        os.replace(temp, path)

    def totp_path(self, member_id: object) -> Path:
        """Where a member's web one-time-code secret is kept (``web.totp``), sealed under
        a key derived from their own key: unusable once that key is reset."""
        return self.path / "keys" / "totp" / f"{member_id}.totp"

    def staff_key_path(self, key_id: str) -> Path:
        if not key_id or not all(c in "0123456789abcdef" for c in key_id):
            raise KeyError_(f"bad key id {key_id!r}")
        return self.keys / STAFF_KEYS / f"{key_id}.key"

    def read_staff_key(self, key_id: str) -> bytes:
        path = self.staff_key_path(key_id)
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise KeyError_(
                f"the key file {path} is missing: restore keys/ from your key backup, or ask "
                "the Director to reset your passphrase (custodes staff reset NAME)"
            ) from e
        except OSError as e:
            raise KeyError_(f"cannot read the key file {path}: {e.strerror}") from e

    def write_staff_key(self, key_id: str, data: bytes) -> Path:
        path = self.staff_key_path(key_id)
        write_secret(path, data)
        return path

    def replace_staff_key(self, key_id: str, data: bytes) -> None:
        """A new wrapping of the same key (passphrase change), written atomically."""
        path = self.staff_key_path(key_id)
        temp = path.with_name(f".{key_id}.{secrets.token_hex(4)}")
        write_secret(temp, data)
        os.replace(temp, path)

    def _read_key_file(self, name: str) -> bytes:
        path = self.keys / name
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise KeyError_(f"the key {path} is missing: restore it from your key backup") from e
        except OSError as e:
            raise KeyError_(f"cannot read the key {path}: {e.strerror}") from e

    def secret(self, name: str) -> bytes:
        """A 32-byte site secret in keys/NAME.key (0600, never in the DB): the pseudonym
        key (patron identifiers, R22) or the footage site key (wraps per-segment keys).

        Only ``create`` makes them. A missing one is an error naming the file and the key
        backup: a new key made here would silently break what the old one protects.
        """
        if name not in SITE_SECRETS:
            raise KeyError_(f"bad secret name {name!r}")
        path = self.keys / f"{name}.key"
        try:
            key = base64.b64decode(path.read_bytes().strip(), validate=True)
        except FileNotFoundError as e:
            raise KeyError_(
                f"the key {path} is missing: restore it from your key backup (the copy of "
                f"{self.keys}/ kept apart from the database; README, 'Keys and backups'). "
                f"Custodes does not make a new one: with a new key {SITE_SECRETS[name]}."
            ) from e
        except (OSError, ValueError) as e:
            raise KeyError_(f"cannot read the key {path}: {e}") from e
        check = self.config.get("secret_checks", {}).get(name)
        if check is not None and not hmac.compare_digest(_key_check(key), check):
            raise KeyError_(
                f"the key {path} does not belong to this ledger (fingerprint "
                f"{key_fingerprint(key)}): restore this ledger's key from your key backup."
            )
        return key

    def subject_keys(self, kind: str) -> SubjectKeys:
        """Per-subject keys (e.g. one per patron) under keys/KIND/, for crypto-shredding."""
        return SubjectKeys(self.keys / kind)

    def events_key_fingerprint(self) -> str:
        return key_fingerprint(self.events_key().encode())


class SubjectKeys:
    """One AES-256 key per subject, each in its own 0600 file, kept outside the chain.

    Destroying a subject's key makes every payload encrypted under it unreadable
    (crypto-shredding, R22) while the hash chain, which covers only digests, still
    verifies.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, subject: str) -> Path:
        if not subject or not all(c.isalnum() or c in "-_" for c in subject):
            raise KeyError_(f"bad subject id {subject!r}")
        return self.root / f"{subject}.key"

    def get_or_create(self, subject: str) -> bytes:
        path = self._path(subject)
        if not path.exists():
            try:
                write_secret(path, base64.b64encode(secrets.token_bytes(32)))
            except FileExistsError:
                pass
        return base64.b64decode(path.read_bytes().strip())

    def get(self, subject: str) -> bytes | None:
        """The key, or None when it was destroyed (or never existed)."""
        try:
            return base64.b64decode(self._path(subject).read_bytes().strip())
        except FileNotFoundError:
            return None

    def destroy(self, subject: str) -> bool:
        """Overwrite, sync and remove the key file; True if there was one."""
        path = self._path(subject)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return False
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
        return not path.exists()
