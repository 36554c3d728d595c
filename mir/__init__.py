"""Music information retrieval: audio -> beats, meter, tempo, key, chords, sections -> `Score`.

Each stage is a typed callable: `mir.audio.load_audio` -> `Audio`; `mir.rhythm.track_beats`
-> `BeatGrid`; `mir.harmony.recognize_chords` -> `ChordSequence` and `recognize_key` -> str;
`mir.structure.segment` -> `Sections`; `mir.analyze.analyze` chains them into an `Analysis`
(`.to_json_dict()`, `.to_score()`). Importing `mir` itself loads none of them.
"""
