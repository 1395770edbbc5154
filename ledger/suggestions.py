""" "Did you mean ...?": the registered names closest to a mistyped one.

A typo is never offered back as something to register: a hint names what exists
(``difflib``'s ratio, case ignored), or says where the list of names is.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's default: "entrnce" -> "entrance", "Diane Okafr" -> "Diane Okafor"


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``known``, most alike first."""
    by_key = {k.casefold(): k for k in known}
    matches = difflib.get_close_matches(name.casefold(), list(by_key), n=n, cutoff=CUTOFF)
    return [by_key[m] for m in matches]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``Did you mean 'entrance'?`` (or one of several), or "" when nothing is close."""
    found = closest(name, known)
    if not found:
        return ""
    quoted = [repr(f) for f in found]
    options = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"Did you mean {options}?"
