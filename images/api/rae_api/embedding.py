"""A deterministic stand-in embedding (feature hashing of lower-cased words): the reference API needs vectors to
exercise Qdrant, not a model. A real deployment replaces `embed` with its model; nothing else changes."""

import hashlib
import math
import re

DIMENSIONS = 64
_WORD = re.compile(r"\w+")


def embed(text: str) -> list[float]:
    """A unit vector of DIMENSIONS floats; texts that share words point in similar directions."""
    vector = [0.0] * DIMENSIONS
    for word in _WORD.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % DIMENSIONS] += 1.0 if digest[1] & 1 else -1.0
    norm = math.sqrt(sum(value * value for value in vector))
    if not norm:  # no word, or words that cancel out: a fixed direction, never a zero vector (cosine needs a norm)
        vector[0], norm = 1.0, 1.0
    return [value / norm for value in vector]
