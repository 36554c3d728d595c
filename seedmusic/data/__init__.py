"""Data: the example song, FluidSynth rendering of scores, and (later) the open corpus."""
