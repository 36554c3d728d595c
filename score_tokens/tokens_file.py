"""The token-file format of DESIGN.md §12, shared by `tokenize`, `detokenize` and `analyze`.

    {"encoding": "remi", "tokens": ["Bar", "Position_0", ...]}
    {"encoding": "xval", "tokens": [...], "values": [float or null, ...]}   # same length

NaN values (tokens that carry no number) are written as JSON `null`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from score_tokens.score import Score

Encoding = Literal["remi", "xval"]
ENCODINGS: tuple[Encoding, ...] = ("remi", "xval")


def tokens_document(score: Score, encoding: Encoding) -> dict[str, Any]:
    """`score` tokenized with the default tokenizer of `encoding`, as a JSON-ready dict."""
    if encoding == "remi":
        from score_tokens.remi import RemiTokenizer

        return {"encoding": "remi", "tokens": list(RemiTokenizer().encode(score))}
    if encoding == "xval":
        from score_tokens.xval import XvalTokenizer

        sequence = XvalTokenizer().encode(score)
        values = [None if math.isnan(v) else float(v) for v in sequence.values.tolist()]
        return {"encoding": "xval", "tokens": list(sequence.tokens), "values": values}
    raise ValueError(f"unknown token encoding {encoding!r} (choose from {', '.join(ENCODINGS)})")
