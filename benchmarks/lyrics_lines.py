"""Lyric lines the speed and memory benchmarks sing (written for this project)."""

LINES = (
    "the morning light is on the hill",
    "the river runs and all is still",
    "sing with me and sing it slow",
    "all the way back home we go",
    "the evening comes in shades of blue",
    "and every road leads back to you",
    "we carry songs we used to know",
    "and leave a light on as we go",
)
