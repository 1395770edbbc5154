"""Witness policies in the C2SP tlog-policy file format: which logs, which witnesses, and
the quorum of cosignatures a checkpoint needs before it is trusted.

From ``tlog-policy.md``: lines ``log <vkey> [<url>]``, ``witness <name> <vkey> [<url>]``,
``group <name> all|any|<k> <name>...`` and exactly one ``quorum <name>`` (``none`` needs
no cosignature). Items are separated by spaces and tabs; ``#`` starts a comment line. A
group or the quorum names only witnesses and groups defined on earlier lines; a name is
a group member at most once; ``1 <= k <= n``. Two vkeys wrapping the same public key are
duplicates and refused. Allowed octets: tab, newline, 0x20-0x7E and 0x80-0xFF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.witness.cosignature import (
    ED25519_COSIGNATURE,
    ED25519_NOTE,
    KeyInvalid,
    VerifierKey,
    WitnessError,
    cosignatures,
    parse_vkey,
)

NONE = "none"
MAX_ENTRIES = 256  # the spec asks for at least 32 logs, 32 witnesses and 32 groups


class PolicyInvalid(WitnessError):
    """The policy file does not follow the tlog-policy format."""


class QuorumNotMet(WitnessError):
    """A checkpoint lacks the cosignatures the witness policy requires."""


@dataclass(frozen=True)
class Log:
    key: VerifierKey
    url: str | None


@dataclass(frozen=True)
class Witness:
    name: str
    key: VerifierKey
    url: str | None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[Log, ...]
    witnesses: tuple[Witness, ...]
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = NONE

    def witness_keys(self) -> list[VerifierKey]:
        return [w.key for w in self.witnesses]

    def log_for(self, origin: str) -> Log | None:
        """The policy's log whose key name is ``origin`` (tlog-policy: they must match)."""
        return next((log for log in self.logs if log.key.name == origin), None)

    def satisfied_by(self, cosigned: set[str]) -> bool:
        """Does the set of witness *policy names* that cosigned meet the quorum?"""
        return self._holds(self.quorum, cosigned)

    def _holds(self, name: str, cosigned: set[str]) -> bool:
        if name == NONE:
            return True
        group = self.groups.get(name)
        if group is None:
            return name in cosigned
        return sum(self._holds(m, cosigned) for m in group.members) >= group.threshold

    def describe_quorum(self) -> str:
        return self._describe(self.quorum)

    def _describe(self, name: str) -> str:
        group = self.groups.get(name)
        if name == NONE:
            return "no cosignature"
        if group is None:
            return f"witness {name}"
        parts = ", ".join(self._describe(m) for m in group.members)
        return f"{group.threshold} of ({parts})"


@dataclass(frozen=True)
class PolicyCheck:
    """What a checkpoint's cosignatures amount to under a policy."""

    cosigned: dict[str, int]  # policy witness name -> cosignature timestamp
    quorum_met: bool
    quorum: str


def check_note(policy: Policy, note: str) -> PolicyCheck:
    """The policy witnesses whose cosignature on ``note`` verifies, and the quorum.

    CosignatureInvalid if a known witness's cosignature fails (the note was altered)."""
    by_key = {(w.key.name, w.key.key_id): w.name for w in policy.witnesses}
    found = cosignatures(note, policy.witness_keys())
    cosigned = {
        by_key[(w.key.name, w.key.key_id)]: found[w.key.name]
        for w in policy.witnesses
        if w.key.name in found
    }
    return PolicyCheck(cosigned, policy.satisfied_by(set(cosigned)), policy.describe_quorum())


def require_quorum(policy: Policy, note: str, what: str) -> PolicyCheck:
    check = check_note(policy, note)
    if not check.quorum_met:
        have = ", ".join(sorted(check.cosigned)) or "none"
        raise QuorumNotMet(
            f"{what} is not cosigned as the witness policy requires ({check.quorum}); "
            f"valid cosignatures from: {have}"
        )
    return check


def _fields(line: str) -> list[str]:
    return line.replace("\t", " ").split()


def parse_policy(data: bytes) -> Policy:
    """A Policy from the bytes of a tlog-policy file; PolicyInvalid naming the line."""
    bad = next((b for b in data if b < 0x20 and b not in (0x09, 0x0A) or b == 0x7F), None)
    if bad is not None:
        raise PolicyInvalid(f"the policy holds the control character 0x{bad:02x}")
    text = data.decode("utf-8", errors="surrogateescape")
    logs: list[Log] = []
    witnesses: list[Witness] = []
    groups: dict[str, Group] = {}
    names: set[str] = set()
    publics: set[bytes] = set()
    quorum: str | None = None
    for number, line in enumerate(text.split("\n"), 1):
        items = _fields(line)
        if not items or items[0].startswith("#"):
            continue
        where = f"policy line {number}"
        keyword, args = items[0], items[1:]
        try:
            if keyword == "log":
                if len(args) not in (1, 2):
                    raise PolicyInvalid(f"{where}: log <vkey> [<url>]")
                key = parse_vkey(args[0], sig_type=ED25519_NOTE)
                _unique_key(key, publics, where)
                logs.append(Log(key, args[1] if len(args) == 2 else None))
            elif keyword == "witness":
                if len(args) not in (2, 3):
                    raise PolicyInvalid(f"{where}: witness <name> <vkey> [<url>]")
                name = args[0]
                _new_name(name, names, where)
                key = parse_vkey(args[1], sig_type=ED25519_COSIGNATURE)
                _unique_key(key, publics, where)
                witnesses.append(Witness(name, key, args[2] if len(args) == 3 else None))
            elif keyword == "group":
                if len(args) < 3:
                    raise PolicyInvalid(f"{where}: group <name> all|any|<k> <name>...")
                name, rule, members = args[0], args[1], tuple(args[2:])
                _new_name(name, names, where)
                for member in members:
                    if member == NONE or member not in names:
                        raise PolicyInvalid(
                            f"{where}: group member {member!r} is not a witness or group "
                            "defined on an earlier line"
                        )
                if len(set(members)) != len(members):
                    raise PolicyInvalid(f"{where}: a name is listed twice in group {name!r}")
                groups[name] = Group(name, _threshold(rule, len(members), where), members)
            elif keyword == "quorum":
                if len(args) != 1:
                    raise PolicyInvalid(f"{where}: quorum <name>")
                if quorum is not None:
                    raise PolicyInvalid(f"{where}: a policy has exactly one quorum line")
                if args[0] != NONE and args[0] not in names:
                    raise PolicyInvalid(
                        f"{where}: quorum {args[0]!r} is not a witness or group defined earlier"
                    )
                quorum = args[0]
            else:
                raise PolicyInvalid(f"{where}: unknown keyword {keyword!r}")
        except KeyInvalid as e:
            raise PolicyInvalid(f"{where}: {e}") from e
        if max(len(logs), len(witnesses), len(groups)) > MAX_ENTRIES:
            raise PolicyInvalid(f"{where}: more than {MAX_ENTRIES} logs, witnesses or groups")
    if quorum is None:
        raise PolicyInvalid("the policy has no quorum line (use 'quorum none' for none)")
    return Policy(tuple(logs), tuple(witnesses), groups, quorum)


def _new_name(name: str, names: set[str], where: str) -> None:
    if name == NONE or name in names:
        raise PolicyInvalid(f"{where}: the name {name!r} is reserved or already defined")
    names.add(name)


def _unique_key(key: VerifierKey, publics: set[bytes], where: str) -> None:
    if key.public in publics:
        raise PolicyInvalid(f"{where}: this public key is already listed (duplicate vkey)")
    publics.add(key.public)


def _threshold(rule: str, n: int, where: str) -> int:
    if rule == "all":
        return n
    if rule == "any":
        return 1
    if rule.isascii() and rule.isdigit() and not rule.startswith("0") and 1 <= int(rule) <= n:
        return int(rule)
    raise PolicyInvalid(f"{where}: threshold {rule!r} must be all, any or 1..{n}")
