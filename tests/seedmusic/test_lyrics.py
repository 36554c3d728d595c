from __future__ import annotations

from seedmusic.lyrics import lyrics_to_phonemes, word_phonemes, words


def test_words_keep_inner_apostrophes_and_drop_the_rest():
    assert words("Don't stop, 2 me-and YOU!") == ["don't", "stop", "me", "and", "you"]


def test_dictionary_words_get_cmudict_phonemes_with_stress():
    assert lyrics_to_phonemes("sing a song") == ("S", "IH1", "NG", "AH0", "S", "AO1", "NG")


def test_unknown_word_is_split_into_dictionary_words():
    assert word_phonemes("sunmoon") == word_phonemes("sun") + word_phonemes("moon")


def test_letters_that_start_no_word_are_spelled():
    assert word_phonemes("qzx") == word_phonemes("q") + word_phonemes("z") + word_phonemes("x")


def test_empty_lyrics_have_no_phonemes():
    assert lyrics_to_phonemes("  ... 123 ") == ()
