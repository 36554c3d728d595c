"""Metrical weight of a tick in a bar: where stressed syllables and chord tones belong.

Weights per meter (the beat is the counted unit: a quarter in x/4, a dotted quarter in 6/8):

| weight | 4/4          | 3/4      | 2/4      | 6/8            |
|--------|--------------|----------|----------|----------------|
| 3      | beat 1       | beat 1   | beat 1   | beat 1         |
| 2      | beat 3       | —        | beat 2   | beat 2 (8th 4) |
| 1      | beats 2, 4   | beats 2,3| —        | other 8ths     |
| 0      | off the beat | off      | off      | off the 8ths   |

A *strong beat* is weight >= 2 (the downbeat, and the mid-bar beat of bars with an even number of beats).
"""

from __future__ import annotations


def beat_ticks(numerator: int, denominator: int, ticks_per_beat: int) -> int:
    """Ticks of the counted beat: a dotted quarter in compound meters (6/8, 9/8, 12/8)."""
    unit = ticks_per_beat * 4 // denominator
    if denominator == 8 and numerator % 3 == 0 and numerator > 3:
        return 3 * unit
    return unit


def metrical_weight(offset: int, numerator: int, denominator: int, ticks_per_beat: int) -> int:
    """Weight 0..3 of a note starting `offset` ticks after its bar line (see the module table)."""
    unit = ticks_per_beat * 4 // denominator  # one notated beat (quarter, eighth)
    beat = beat_ticks(numerator, denominator, ticks_per_beat)
    bar = unit * numerator
    offset %= bar
    if offset == 0:
        return 3
    if offset % beat == 0:
        beats = bar // beat
        if beats % 2 == 0 and offset == bar // 2:
            return 2
        return 1
    if beat != unit and offset % unit == 0:  # the eighths inside a compound beat
        return 1
    return 0


def is_strong(offset: int, numerator: int, denominator: int, ticks_per_beat: int) -> bool:
    """True on the downbeat and the mid-bar beat (weight >= 2)."""
    return metrical_weight(offset, numerator, denominator, ticks_per_beat) >= 2
