"""Whether a policy version's parameters say what its own words say (R28).

A version is adopted as two files: the board-approved text, and the parameters the rules
read. Only the text carries the board's approval (its SHA-256 can be stated and checked);
the parameters are typed by whoever adopts it. An outside review found a version adopted
with `footage.retention_days = 365` beside a text that still said "secured in a controlled
area for thirty days": every deadline then followed the number, not the words the board
approved. So before a version is adopted its text is read for the two things the policy's
words fix and the parameters repeat:

* how many days recorded footage is kept: the first "N days" (in words or figures,
  "thirty (30) days", "a thirty-day period" too; "N weeks" counts as 7N days) in the first
  sentence about footage, recordings or images being kept, secured, retained, stored or
  deleted that is not about keeping some of it longer. ``footage.retention_days`` must be
  that number;
* who may see archived footage: the roles named in every sentence about access to
  archived footage (the Director, the Business Manager, and anyone else it names).
  ``footage.archive_viewer_roles`` must name exactly those.

A text that states neither (other wording, another language) is not checked on that
point, and the adoption says so; a text that states one and parameters that disagree are
refused (``POLICY-ADOPTION``), the refusal recorded. Business days (the FOIA clock) are
not retention and are skipped. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.policy_params import PolicyParams

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_NUMBER_WORDS = {*_ONES, *_TENS, "hundred", "and", "a"}

_FOOTAGE = re.compile(r"\b(footage|recordings?|recorded|videos?|images?|cctv|camera data)\b")
_KEPT = re.compile(
    r"\b(kept|keeps?|retained|retains?|secured|stored|stores?|saved|saves?|held|holds?|"
    r"preserved|preserves?|maintained|maintains?|deleted|erased|overwritten|purged|destroyed)\b"
)
# a sentence about keeping footage longer (a flag, a hold, evidence): not the basic period
_LONGER = re.compile(
    r"\b(longer|evidence|flag\w*|incident\w*|misbehavio\w*|investigation\w*|holds?|"
    r"litigation|subpoena\w*|requests?)\b"
)
_PRONOUN = re.compile(r"^\W*(it|they|these|this|such)\b")
_ARCHIVE = re.compile(r"\barchiv(ed|e)\b")
_ACCESS = re.compile(r"\b(access|view|viewed|viewing|views|restricted|see|seen|watch\w*)\b")
_OTHERS = re.compile(r"\b(staff|employees?|counsel|attorneys?|anyone|everyone|volunteers?)\b")
_TOKEN = re.compile(r"\(\d{1,4}\)|\d{1,4}|[a-z]+(?:-[a-z]+)*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n(?=\s*[-*•])")
# abbreviations whose full stop ends no sentence ("e.g. the lobby", "approx. thirty days")
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|approx|etc|incl|no|vs|cf)\.", re.IGNORECASE)


@dataclass(frozen=True)
class TextCheck:
    """What the text says beside the parameters: disagreements refuse the adoption."""

    disagreements: list[str] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)  # what was checked and agrees
    unchecked: list[str] = field(default_factory=list)  # what the text does not state


def check_text(text: str, params: PolicyParams) -> TextCheck:
    text = _ABBREVIATIONS.sub(lambda m: m.group(1).replace(".", ""), text)
    sentences = [" ".join(s.split()) for s in _SENTENCE.split(text) if s.strip()]
    check = TextCheck()
    _retention(sentences, params, check)
    _archive_viewers(sentences, params, check)
    return check


def _retention(sentences: list[str], params: PolicyParams, check: TextCheck) -> None:
    """The basic period is the first number of days the text gives for keeping footage,
    in a sentence that is not about keeping it longer (evidence, a flag, a hold); "it is
    kept for thirty days" after a sentence about footage counts (red team, session 15:
    any day count anywhere was taken, "evidence ... saved up to 365 days" included)."""
    stated: tuple[int, str] | None = None
    about_footage = False
    for sentence in sentences:
        low = sentence.lower()
        footage = bool(_FOOTAGE.search(low)) or (about_footage and bool(_PRONOUN.search(low)))
        about_footage = bool(_FOOTAGE.search(low))
        if footage and _KEPT.search(low) and not _LONGER.search(low):
            counts = day_counts(low)
            if counts:
                stated = (counts[0], sentence)
                break
    want = params.retention_days
    if stated is None:
        check.unchecked.append(
            "footage.retention_days: the text states no number of days footage is kept"
        )
    elif want == stated[0]:
        check.agreed.append(f"footage.retention_days = {want}: the text says {_quote(stated[1])}")
    else:
        check.disagreements.append(
            f"footage.retention_days = {want}, but the text says {stated[0]} days "
            f"({_quote(stated[1])}): adopt a text and parameters that agree"
        )


def _archive_viewers(sentences: list[str], params: PolicyParams, check: TextCheck) -> None:
    """Every sentence about access to archived footage that names the Director (red team,
    session 15: only the first was read, and staff or counsel named beside her passed)."""
    named: set[str] = set()
    quoted: list[str] = []
    for sentence in sentences:
        low = sentence.lower().replace("-", " ")
        if not (_ARCHIVE.search(low) and _ACCESS.search(low) and "director" in low):
            continue
        quoted.append(sentence)
        named.add("director")
        if "business manager" in low:
            named.add("business_manager")
        named.update(m.group(1).rstrip("s") for m in _OTHERS.finditer(low))
    if quoted:
        want = set(params.archive_viewer_roles)
        shown = ", ".join(sorted(want))
        if named == want:
            check.agreed.append(
                f"footage.archive_viewer_roles = {shown}: the text says {_quote(quoted[0])}"
            )
        else:
            check.disagreements.append(
                f"footage.archive_viewer_roles = {shown}, but the text names "
                f"{', '.join(sorted(named))} ({_quote(quoted[0])}): adopt a text and "
                "parameters that agree"
            )
        return
    check.unchecked.append(
        "footage.archive_viewer_roles: the text names nobody who may see archived footage"
    )


def day_counts(sentence: str) -> list[int]:
    """Every "N days" in a lower-cased sentence, N in figures or words ("thirty (30)
    days", "ninety days", "365 calendar days", "a 30-day period"), and "N weeks" as 7N
    days; business days are not counted (months are not: their length varies)."""
    # "a thirty-day period", "30-day": the count before the hyphen
    tokens = _TOKEN.findall(re.sub(r"-(days?|weeks?)\b", r" \1", sentence))
    found: list[int] = []
    for i, token in enumerate(tokens):
        if token not in ("day", "days", "week", "weeks"):
            continue
        per = 7 if token.startswith("week") else 1
        j = i - 1
        if j >= 0 and tokens[j] == "business":
            continue
        if j >= 0 and tokens[j] == "calendar":
            j -= 1
        figures: int | None = None
        if j >= 0 and tokens[j].startswith("("):
            figures = int(tokens[j][1:-1])
            j -= 1
        words: list[str] = []
        while j >= 0 and (tokens[j] in _NUMBER_WORDS or "-" in tokens[j] and _is_number(tokens[j])):
            words.insert(0, tokens[j])
            j -= 1
        if j >= 0 and not words and figures is None and tokens[j].isdigit():
            figures = int(tokens[j])
        value = _words_value(words) if words else None
        if value is None and figures is None and i > 0 and tokens[i - 1].isdigit():
            value = int(tokens[i - 1])
        if value is not None:
            found.append(value * per)
        if figures is not None and figures != value:
            found.append(figures * per)
    return found


def _is_number(token: str) -> bool:
    return all(part in _NUMBER_WORDS for part in token.split("-"))


def _words_value(words: list[str]) -> int | None:
    """ "thirty" 30, "thirty-one" 31, "one hundred and twenty" 120, "a hundred" 100."""
    parts = [p for w in words for p in w.split("-") if p != "and"]
    while parts and parts[0] == "a" and len(parts) > 1 and parts[1] != "hundred":
        parts.pop(0)  # "a thirty" is not a number; "a hundred" is
    if not parts:
        return None
    total, current = 0, 0
    for part in parts:
        if part == "a":
            current += 1
        elif part == "hundred":
            current = (current or 1) * 100
        elif part in _TENS:
            current += _TENS[part]
        elif part in _ONES:
            current += _ONES[part]
        else:
            return None
    total += current
    return total or None


def _quote(sentence: str) -> str:
    return f"“{sentence if len(sentence) <= 160 else sentence[:157] + '...'}”"
