"""Stateless, platform-independent randomness: every draw is a hash of what it is about.

Prices and balances are functions of (seed, what, hour), never of request history, so any
instant can be answered in any order and two runs give byte-identical bodies.
"""

from __future__ import annotations

import hashlib


def draw(seed: int, *parts: object, n: int) -> int:
    """A uniform integer in [0, n) determined by (seed, *parts)."""
    key = "\x1f".join(str(part) for part in (seed, *parts)).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % n
