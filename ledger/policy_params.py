"""Policy files (R28): the board-approved text and the parameters the rules read.

A policy version is two files: the policy's wording (plain text) and a TOML parameters
file (``tomllib``) with the values the rules apply: retention days, the flag bound, who
views archived footage, whether counsel review gates release, what a guardian may be
told, the FOIA clock, the small-cell threshold, the staff-monitoring phrases, the camera
zones refused. Both are hashed over their canonical bytes, so the same policy hashes the
same whoever saved the file:

* text: UTF-8, Unicode NFC, LF line ends, no trailing blanks on a line, one final LF;
* parameters: the validated values as canonical JSON (RFC 8785), every key present.

Checking a parameters file has two stages. ``parse_params`` checks the form (known keys,
types, bounds; a mistake is bad input naming the key, nothing recorded). ``legal_refusals``
then lists what the law does not allow whatever a file says (audio recording, cameras in
restrooms, circulation records on the emergency path, a FOIA clock longer than the
statute's): the adoption is refused under that rule and the refusal recorded.

Standard library only, no I/O except reading the shipped profiles (package data).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from ledger import rules as r
from ledger.canonical_json import canonical_json
from ledger.errors import InvalidInput
from ledger.rules import Rule

DEFAULT_PROFILE = "mahomet-30-day"
ARCHIVE_ROLES = ("director", "business_manager")
CAMERA_ZONES = (
    "public",
    "staff_area",
    "restroom",
    "locker_room",
    "changing_room",
    "private_office",
)
# 720 ILCS 5/26-4: no video recording where people undress or use the toilet.
LEGAL_PRIVACY_ZONES = ("restroom", "locker_room", "changing_room")
# 75 ILCS 70/1(a)(2): the emergency path obtains identifying information only.
IDENTIFYING_FIELDS = ("name", "address", "phone", "card_number")
# Policy V-A: a guardian may learn a minor's fines and fees, never circulation.
FINES_FIELDS = ("itemized_fines", "fines_total", "fees_total")
# 5 ILCS 140/3(d), (e): 5 business days, one extension of at most 5.
FOIA_MAX_DAYS = 5
FOIA_MAX_EXTENSION = 5


class PolicyFileError(InvalidInput):
    """A policy file that cannot be read or does not fit the schema: nothing recorded."""


@dataclass(frozen=True)
class PolicyParams:
    """The values the rules read from the version in force."""

    retention_days: int
    flag_max_days: int
    archive_viewer_roles: tuple[str, ...]
    refused_camera_zones: tuple[str, ...]
    audio_recording: bool
    staff_monitoring_purposes: tuple[str, ...]
    guardian_disclosable_fields: tuple[str, ...]
    emergency_releasable_fields: tuple[str, ...]
    counsel_review_gates_release: bool
    response_business_days: int
    extension_business_days: int
    small_cell_threshold: int

    def to_json(self) -> dict[str, Any]:
        """Sectioned as in the file; lists sorted (order carries no meaning)."""
        out: dict[str, dict[str, Any]] = {}
        for (section, key), _spec in _SCHEMA.items():
            value = getattr(self, key)
            out.setdefault(section, {})[key] = sorted(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyParams:
        return _build(data, where="recorded parameters")

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def changes(self, other: PolicyParams) -> list[tuple[str, Any, Any]]:
        """``(section.key, this, other)`` for each parameter that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [
            (f"{section}.{key}", mine[key], theirs[key])
            for section, key in _SCHEMA
            if mine[key] != theirs[key]
        ]


@dataclass(frozen=True)
class _Spec:
    kind: type  # int, bool or str (for a list of strings)
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    many: bool = False  # a list of strings
    free_text: bool = False  # list items are phrases, not names from ``choices``


_SCHEMA: dict[tuple[str, str], _Spec] = {
    ("footage", "retention_days"): _Spec(int, 1, 3650),
    ("footage", "flag_max_days"): _Spec(int, 1, 3650),
    # a version may narrow who views archived footage, not widen it beyond the roles the
    # signer table lets record exports (ledger.permissions, R16)
    ("footage", "archive_viewer_roles"): _Spec(str, choices=ARCHIVE_ROLES, many=True),
    ("footage", "refused_camera_zones"): _Spec(str, choices=CAMERA_ZONES, many=True),
    ("footage", "audio_recording"): _Spec(bool),
    ("footage", "staff_monitoring_purposes"): _Spec(str, many=True, free_text=True),
    ("records", "guardian_disclosable_fields"): _Spec(
        str, choices=(*FINES_FIELDS, "titles", "holds", "circulation_history"), many=True
    ),
    ("records", "emergency_releasable_fields"): _Spec(
        str,
        choices=(*IDENTIFYING_FIELDS, "registration_record", "titles", "holds"),
        many=True,
    ),
    ("records", "counsel_review_gates_release"): _Spec(bool),
    ("foia", "response_business_days"): _Spec(int, 1, 30),
    ("foia", "extension_business_days"): _Spec(int, 0, 30),
    # 3 at least: a count shown as "<2" is known to be 1, so 2 would suppress nothing
    ("statistics", "small_cell_threshold"): _Spec(int, 3, 1000),
}
SECTIONS = tuple(dict.fromkeys(s for s, _ in _SCHEMA))


def parse_params(text: str, *, where: str = "the parameters file") -> PolicyParams:
    """Read and check a TOML parameters file; ``PolicyFileError`` names the key."""
    import tomllib  # here: an act reads its parameters from the recorded policy version

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyFileError(f"{where} is not valid TOML: {e}") from None
    return _build(data, where=where)


def _build(data: dict[str, Any], *, where: str) -> PolicyParams:
    for section, value in data.items():
        if section not in SECTIONS:
            raise PolicyFileError(
                f"{where}: unknown section or key {section!r}; the sections are "
                f"{', '.join(f'[{s}]' for s in SECTIONS)}"
            )
        if not isinstance(value, dict):
            raise PolicyFileError(f"{where}: {section!r} must be a table ([{section}])")
        known = [k for s, k in _SCHEMA if s == section]
        for key in value:
            if key not in known:
                raise PolicyFileError(
                    f"{where}: unknown key {section}.{key}; [{section}] has {', '.join(known)}"
                )
    values: dict[str, Any] = {}
    for (section, key), spec in _SCHEMA.items():
        name = f"{section}.{key}"
        if key not in data.get(section, {}):
            raise PolicyFileError(f"{where}: {name} is missing")
        values[key] = _check(name, data[section][key], spec, where)
    return PolicyParams(**values)


def _check(name: str, value: Any, spec: _Spec, where: str) -> Any:
    if spec.many:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyFileError(f"{where}: {name} must be a list of strings, not {value!r}")
        items = [" ".join(v.split()) for v in value]
        if any(not v for v in items):
            raise PolicyFileError(f"{where}: {name} has an empty item")
        if not spec.free_text:
            for v in items:
                if v not in spec.choices:
                    raise PolicyFileError(
                        f"{where}: {name} has {v!r}; choose from {', '.join(spec.choices)}"
                    )
        if len(set(items)) != len(items):
            raise PolicyFileError(f"{where}: {name} lists an item twice")
        return tuple(sorted(items))
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise PolicyFileError(f"{where}: {name} must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyFileError(f"{where}: {name} must be a whole number, not {value!r}")
    if not spec.low <= value <= spec.high:
        raise PolicyFileError(f"{where}: {name} = {value} is outside {spec.low}..{spec.high}")
    return value


def legal_refusals(params: PolicyParams) -> list[tuple[Rule, str]]:
    """What the law does not allow, whatever the file says: (rule, message naming the key)."""
    out: list[tuple[Rule, str]] = []
    if params.audio_recording:
        out.append((r.CAMERA_NO_AUDIO, "footage.audio_recording = true: audio is never recorded"))
    missing = [z for z in LEGAL_PRIVACY_ZONES if z not in params.refused_camera_zones]
    if missing:
        out.append(
            (
                r.CAMERA_PRIVACY_ZONE,
                "footage.refused_camera_zones must refuse "
                + ", ".join(z.replace("_", " ") for z in missing)
                + " (no video where people expect privacy)",
            )
        )
    extra = [f for f in params.emergency_releasable_fields if f not in IDENTIFYING_FIELDS]
    if extra:
        out.append(
            (
                r.LRCA_EMERGENCY_SCOPE,
                "records.emergency_releasable_fields may name identifying fields only "
                f"({', '.join(IDENTIFYING_FIELDS)}), not {', '.join(extra)}",
            )
        )
    beyond = [f for f in params.guardian_disclosable_fields if f not in FINES_FIELDS]
    if beyond:
        out.append(
            (
                r.POLICY_MINOR_FINES,
                "records.guardian_disclosable_fields may name fines and fees only, not "
                + ", ".join(beyond),
            )
        )
    if params.response_business_days > FOIA_MAX_DAYS:
        out.append(
            (
                r.FOIA_CLOCK,
                f"foia.response_business_days = {params.response_business_days}: the statute "
                f"allows at most {FOIA_MAX_DAYS} business days",
            )
        )
    if params.extension_business_days > FOIA_MAX_EXTENSION:
        out.append(
            (
                r.FOIA_CLOCK,
                f"foia.extension_business_days = {params.extension_business_days}: the "
                f"statute allows an extension of at most {FOIA_MAX_EXTENSION} business days",
            )
        )
    if "director" not in params.archive_viewer_roles:
        out.append(
            (
                r.POLICY_DIRECTOR_DECIDES,
                "footage.archive_viewer_roles must include director",
            )
        )
    return out


def canonical_text(text: str) -> bytes:
    """The policy text's canonical bytes (see the module's docstring)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return ("\n".join(lines).strip("\n") + "\n").encode("utf-8")


def text_sha256(text: str) -> str:
    return hashlib.sha256(canonical_text(text)).hexdigest()


def read_text_file(data: bytes, *, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyFileError(f"{where} is not UTF-8 text") from None
    if not text.strip():
        raise PolicyFileError(f"{where} is empty")
    return text


def profiles() -> list[str]:
    """The shipped example profiles (``ledger/profiles/NAME/{policy.txt,params.toml}``)."""
    from importlib import resources

    root = resources.files("ledger") / "profiles"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "params.toml").is_file())


def profile_files(name: str = DEFAULT_PROFILE) -> tuple[str, str]:
    """(policy text, parameters TOML) of a shipped profile."""
    if name not in profiles():
        raise PolicyFileError(f"no profile {name!r}; the profiles are {', '.join(profiles())}")
    from importlib import resources

    root = resources.files("ledger") / "profiles" / name
    return (root / "policy.txt").read_text("utf-8"), (root / "params.toml").read_text("utf-8")


def default_params() -> PolicyParams:
    return parse_params(profile_files()[1], where=f"profile {DEFAULT_PROFILE}")
