"""Score JSON files: `Score.to_dict()` written as UTF-8 JSON, read back with `Score.from_dict`.

The file is a JSON object with `"format": "seedmusic.score/1"`; see `Score.to_dict` for the
fields. Lyrics and phonemes are written as real characters (not `\\u` escapes) so that the file
stays readable and editable by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from score_tokens.errors import ScoreError
from score_tokens.score import Score


def read_json(path: Path) -> Score:
    """Read a score JSON file; raises `ScoreError` if it is not valid JSON or not a score."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ScoreError(f"{path.name}: not a UTF-8 text file ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ScoreError(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ScoreError(
            f"{path.name}: a score JSON file holds an object, not {type(data).__name__}"
        )
    return Score.from_dict(data)


def write_json(score: Score, path: Path) -> None:
    """Write `score` as indented UTF-8 JSON to `path` (not atomic; `write_score` is)."""
    text = json.dumps(score.to_dict(), ensure_ascii=False, indent=1)
    path.write_text(text + "\n", encoding="utf-8")
