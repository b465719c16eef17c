"""Time-ordered, URL-safe identifiers (ULID layout: 48-bit milliseconds + 80 random bits,
Crockford base32, lower case), so ids sort by creation time in every store."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text)
