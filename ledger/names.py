"""Staff names that mean one person (R25): NFKC-normalized, one script, no look-alikes.

"Dana Dіrector" with a Cyrillic і is a different string from "Dana Director" but not a
different person to anyone reading a report. So a name is normalized (Unicode NFKC,
whitespace collapsed), a name mixing scripts in one word is refused, and a new name whose
*skeleton* (each character mapped to a representative of its confusable class, Unicode
TS #39 data shipped by ``confusable_homoglyphs``) matches an existing member's is refused.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from ledger.text import NAME, clean_text

MAX_NAME = 120


class NameRefused(ValueError):
    """The name cannot be a staff member's name; nothing was recorded."""


def normalize_name(name: str) -> str:
    """NFKC, whitespace collapsed (``check_name`` refuses control characters first; a
    name recorded before that still has one identity)."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def check_name(name: str, what: str = "staff member") -> str:
    """The normalized name, or NameRefused with the reason."""
    # Plain text of sane length first: bad input (InvalidInput), nothing recorded. A
    # terminal escape in a name would drive the screen of everyone who lists the staff.
    clean_text(name, kind=NAME, what=f"the {what}'s name")
    cleaned = normalize_name(name)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in cleaned):
        raise NameRefused("a name may not contain control or format characters")
    if not cleaned:
        raise NameRefused(f"the {what}'s name is empty")
    if len(cleaned) > MAX_NAME:
        raise NameRefused(f"the {what}'s name is longer than {MAX_NAME} characters")
    for word in cleaned.split():
        scripts = {_script(c) for c in word} - {"COMMON", "INHERITED"}
        if len(scripts) > 1:
            raise NameRefused(
                f"{cleaned!r} mixes scripts ({', '.join(sorted(scripts))}) in one word; "
                "type the name in one script"
            )
    return cleaned


def _visible(name: str) -> str:
    """NFKC, whitespace collapsed, invisible characters dropped: how a name looks. Also
    for names recorded before control characters were refused."""
    name = unicodedata.normalize("NFKC", name)
    kept = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))
    return " ".join(kept.split())


def skeleton(name: str) -> str:
    """The name as it looks: confusable characters mapped to one representative, a
    letter's upper and lower case together (the data pairs 0 with O, and to a reader of
    a name "B0" is "Bo")."""
    return "".join(_folded(c) for c in _visible(name).casefold())


@lru_cache(maxsize=4096)
def _folded(c: str) -> str:
    for _ in range(4):  # to a fixed point: Cyrillic о is o, which is 0 once O is
        variants = {c, c.upper()} if len(c.upper()) == 1 else {c}
        folded = min(_representative(v).casefold() for v in variants)
        if folded == c:
            break
        c = folded
    return c


def look_alike(name: str, existing: Iterable[str]) -> str | None:
    """An existing name that looks the same as ``name`` but is not the same string."""
    mine = skeleton(name)
    for other in existing:
        if skeleton(other) == mine and _visible(other).casefold() != name.casefold():
            return other
    return None


@lru_cache(maxsize=4096)
def _representative(c: str) -> str:
    from confusable_homoglyphs.confusables import confusables_data

    candidates = {c} | {h["c"] for h in confusables_data.get(c, ())}
    # Prefer ASCII, then the lowest code point: a stable pick in every class.
    return min(candidates, key=lambda x: (not x.isascii(), len(x), x))


@lru_cache(maxsize=4096)
def _script(c: str) -> str:
    from confusable_homoglyphs.categories import alias

    try:
        return str(alias(c))
    except Exception:  # unassigned code points have no script
        return "UNKNOWN"
