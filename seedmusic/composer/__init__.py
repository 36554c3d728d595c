"""The composer: lyrics + style -> a complete song `Score` (Seed-Music's symbolic pipeline)."""
