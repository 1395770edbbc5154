"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the one byte string a
JSON value hashes to, in any language (docs/FORMAT.md, "Canonical JSON").

* no whitespace; object members sorted by their names as UTF-16 code units;
* strings as UTF-8, escaping only ``"``, ``\\``, and U+0000..U+001F (``\\b \\t \\n \\f \\r``
  by name, the others as ``\\u00xx`` in lowercase hex); everything else literal, so
  ``"café"`` stays ``café``, not ``caf\\u00e9``;
* numbers as ECMAScript's ``Number.prototype.toString`` writes an IEEE 754 double: the
  shortest digits that round-trip, ``10.0`` as ``10``, ``1e21`` as ``1e+21``, ``1e-7`` as
  ``1e-7``, ``-0`` as ``0``; integers beyond 2**53 - 1 and NaN/Infinity are refused;
* ``true``, ``false``, ``null``.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["CanonicalJsonError", "canonical_json", "number"]

MAX_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER: every integer up to it is exact


class CanonicalJsonError(ValueError):
    """The value has no RFC 8785 form (a non-finite number, a large integer, a non-string key)."""


def canonical_json(value: Any) -> bytes:
    return _serialize(value).encode("utf-8")


def _serialize(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialize(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalJsonError("object member names must be strings")
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_string(k)}:{_serialize(value[k])}" for k in names) + "}"
    raise CanonicalJsonError(f"{type(value).__name__} is not a JSON value")


def _string(text: str) -> str:
    # json.dumps with ensure_ascii=False escapes exactly '"', '\\' and the C0 controls,
    # with the short forms \b \f \n \r \t and lowercase \u00xx: RFC 8785 §3.2.2.2.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJsonError("a string holds a lone surrogate (not Unicode text)") from None
    return json.dumps(text, ensure_ascii=False)


def number(value: int | float) -> str:
    """ECMAScript Number::toString of the double ``value`` (RFC 8785 §3.2.2.3)."""
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJsonError(
                f"the integer {value} is beyond 2**53 - 1 (not safe as a double)"
            )
        value = float(value)
    if not math.isfinite(value):
        raise CanonicalJsonError(f"{value} has no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip (as ECMAScript requires); only the
    # layout around them differs.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    k, n = len(digits), point  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        head = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text
