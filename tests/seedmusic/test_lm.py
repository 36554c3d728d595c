"""The audio-token LM: shapes, save/load, sampling, KV cache, CFG, and that it can learn."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from renderer.modeling import CheckpointError
from seedmusic.conditioning import Conditions
from seedmusic.lm import AudioTokenLM, LmConfig, sample_logits
from seedmusic.patterns import causal_mask_rearrange


def tiny_model(seed: int = 0) -> AudioTokenLM:
    torch.manual_seed(seed)
    return AudioTokenLM(LmConfig.tiny()).eval()


def two_conditions() -> list[Conditions]:
    rng = np.random.default_rng(0)
    return [
        Conditions(
            style_tags=("pop", "female vocal"),
            text_embedding=rng.standard_normal(16).astype(np.float32),
            numbers={"tempo_bpm": 100.0, "duration_s": 8.0},
            phonemes=("AA1", "B", "S", "T"),
            reference_codes=torch.randint(0, 16, (4, 6)),
        ),
        Conditions(style_tags=("jazz",), numbers={"tempo_bpm": 140.0}),
    ]


def random_codes(batch: int, frames: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 16, (batch, 4, frames), generator=torch.Generator().manual_seed(seed))


def test_config_special_ids() -> None:
    config = LmConfig.tiny()
    assert config.pad_id == 16 and config.bos_id == 17
    assert config.mask_token_ids == (18, 19, 20, 21)
    assert config.vocab_size == 22
    with pytest.raises(ValueError, match="num_kv_heads"):
        dataclasses.replace(config, num_kv_heads=3)


def test_forward_shapes_and_causality() -> None:
    model = tiny_model()
    conditions = two_conditions()
    delayed = model.delay(random_codes(2, 6))  # [2, 4, 9]
    logits = model(conditions, delayed)
    assert logits.shape == (2, 4, 9, 22)
    assert torch.isfinite(logits).all()
    # Changing step 5 must not change the predictions of steps <= 5.
    changed = delayed.clone()
    changed[:, :, 5] = (changed[:, :, 5] + 1) % 16
    logits2 = model(conditions, changed)
    torch.testing.assert_close(logits[:, :, :6], logits2[:, :, :6])
    assert not torch.allclose(logits[:, :, 6:], logits2[:, :, 6:])


def test_prefix_padding_does_not_change_a_sample() -> None:
    model = tiny_model()
    conditions = two_conditions()
    delayed = model.delay(random_codes(2, 4))
    batched = model(conditions, delayed)
    alone = model(conditions[1:], delayed[1:])  # shorter prefix, no padding
    torch.testing.assert_close(batched[1:], alone, rtol=1e-4, atol=1e-5)


def test_rejects_bad_inputs() -> None:
    model = tiny_model()
    with pytest.raises(ValueError, match=r"\[B=1, K=4, L >= 1\]"):
        model([Conditions()], torch.zeros(1, 3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 22\)"):
        model([Conditions()], torch.full((1, 4, 5), 22))
    with pytest.raises(ValueError, match="unknown style tag 'polka'"):
        model([Conditions(style_tags=("polka",))], torch.zeros(1, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="max_positions"):
        model.generate([Conditions()], num_frames=600)


def test_save_load_gives_identical_logits(tmp_path) -> None:
    model = tiny_model(seed=3)
    conditions = two_conditions()
    delayed = model.delay(random_codes(2, 5))
    model.save_pretrained(tmp_path / "lm")
    loaded = AudioTokenLM.from_pretrained(tmp_path / "lm")
    assert loaded.config == model.config
    torch.testing.assert_close(
        loaded(conditions, delayed), model(conditions, delayed), rtol=0, atol=0
    )
    meta = json.loads((tmp_path / "lm" / "config.json").read_text())
    assert meta["config"]["conditions"]["style_tags"][0] == "pop"


def test_load_rejects_other_config(tmp_path) -> None:
    model = tiny_model()
    model.save_pretrained(tmp_path / "lm")
    path = tmp_path / "lm" / "config.json"
    meta = json.loads(path.read_text())
    meta["config"]["hidden_size"] = 64
    meta["config"]["num_heads"] = 4
    path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="shape"):
        AudioTokenLM.from_pretrained(tmp_path / "lm")
    meta["config"]["bogus"] = 1
    path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="bogus"):
        AudioTokenLM.from_pretrained(tmp_path / "lm")


def test_generate_shape_range_and_reproducible() -> None:
    model = tiny_model()
    conditions = two_conditions()

    def sample(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return model.generate(
            conditions, 7, temperature=1.0, top_k=8, top_p=0.9, generator=generator
        )

    a, b, c = sample(5), sample(5), sample(6)
    assert a.shape == (2, 4, 7) and a.dtype == torch.long
    assert int(a.min()) >= 0 and int(a.max()) < 16
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_kv_cache_equals_recompute_greedy() -> None:
    model = tiny_model(seed=1)
    conditions = two_conditions()
    cached = model.generate(conditions, num_frames=6, temperature=0.0)
    recomputed = model.generate(conditions, num_frames=6, temperature=0.0, use_cache=False)
    assert torch.equal(cached, recomputed)
    guided = model.generate(conditions, num_frames=6, temperature=0.0, guidance_scale=3.0)
    guided_slow = model.generate(
        conditions, num_frames=6, temperature=0.0, guidance_scale=3.0, use_cache=False
    )
    assert torch.equal(guided, guided_slow)


def test_greedy_generation_matches_teacher_forced_argmax() -> None:
    model = tiny_model(seed=2)
    conditions = two_conditions()[:1]
    codes = model.generate(conditions, num_frames=5, temperature=0.0)
    logits = model(conditions, model.delay(codes))  # [1, K, L, V]
    logits[..., 16:] = float("-inf")
    valid = torch.from_numpy(model.pattern.valid_mask(5))
    argmax = logits.argmax(-1)[0]
    assert torch.equal(argmax[valid], model.delay(codes)[0][valid])


def test_cfg_changes_the_sample_and_scale_one_is_plain() -> None:
    model = tiny_model(seed=4)
    with torch.no_grad():  # make the conditions matter
        model.condition_encoder.style_embedding.weight.mul_(50)
    conditions = [Conditions(style_tags=("rock",))]
    plain = model.generate(conditions, num_frames=8, temperature=0.0)
    one = model.generate(conditions, num_frames=8, temperature=0.0, guidance_scale=1.0)
    guided = model.generate(conditions, num_frames=8, temperature=0.0, guidance_scale=5.0)
    assert torch.equal(plain, one)
    assert guided.shape == plain.shape and not torch.equal(plain, guided)


def test_sample_logits_filters() -> None:
    logits = torch.tensor([[0.0, 1.0, 3.0, 2.0]]).repeat(200, 1)
    gen = torch.Generator().manual_seed(0)
    assert set(sample_logits(logits, top_k=2, generator=gen).tolist()) == {2, 3}
    assert set(sample_logits(logits, top_p=0.5, generator=gen).tolist()) == {2}
    assert set(sample_logits(logits, temperature=0.0).tolist()) == {2}
    assert len(set(sample_logits(logits, generator=gen).tolist())) == 4
    with pytest.raises(ValueError, match="top_p"):
        sample_logits(logits, top_p=0.0)


def test_tiny_model_overfits_one_sequence() -> None:
    model = tiny_model(seed=0).train()
    conditions = [Conditions(style_tags=("pop",), numbers={"tempo_bpm": 120.0})]
    codes = random_codes(1, 12, seed=9)
    delayed = model.delay(codes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = float(model.loss(conditions, delayed).detach())
    for _ in range(100):
        optimizer.zero_grad()
        loss = model.loss(conditions, delayed)
        loss.backward()
        optimizer.step()
    model.eval()
    final = float(model.loss(conditions, delayed).detach())
    assert first > 2.5  # about ln(22) at initialisation
    assert final < 0.05 * first
    # and greedy generation reproduces most of the memorised sequence
    generated = model.generate(conditions, num_frames=12, temperature=0.0)
    assert (generated == codes).float().mean() > 0.9


def test_loss_ignores_pad_and_learns_mask_tokens() -> None:
    model = tiny_model()
    config = model.config
    codes = random_codes(1, 10)[0]
    rearranged = causal_mask_rearrange(
        codes, [(2, 4), (6, 8)], config.mask_token_ids, config.pad_id
    )
    loss = model.loss([Conditions()], rearranged[None])
    assert torch.isfinite(loss)
    # All-pad targets except one: the loss is that one position's cross-entropy.
    only = torch.full((1, 4, 3), config.pad_id)
    only[0, 0, 1] = 5
    logits = model([Conditions()], only)
    expected = torch.nn.functional.cross_entropy(logits[0, 0, 1][None], torch.tensor([5]))
    torch.testing.assert_close(model.loss([Conditions()], only), expected)


def test_infill_keeps_context_and_resizes_span() -> None:
    model = tiny_model(seed=5)
    conditions = two_conditions()
    codes = random_codes(2, 10)
    same = model.infill(conditions, codes, (3, 6), temperature=0.0)
    assert same.shape == (2, 4, 10)
    assert torch.equal(same[:, :, :3], codes[:, :, :3]) and torch.equal(
        same[:, :, 6:], codes[:, :, 6:]
    )
    longer = model.infill(conditions, codes, (3, 6), num_new_frames=5, temperature=0.0)
    assert longer.shape == (2, 4, 12)
    assert torch.equal(longer[:, :, 8:], codes[:, :, 6:])
    tail = model.infill(conditions, codes, (7, 10), num_new_frames=6, temperature=0.0)
    assert tail.shape == (2, 4, 13) and torch.equal(tail[:, :, :7], codes[:, :, :7])
    slow = model.infill(
        conditions, codes, (3, 6), num_new_frames=5, temperature=0.0, use_cache=False
    )
    assert torch.equal(longer, slow)
    with pytest.raises(ValueError, match="outside"):
        model.infill(conditions, codes, (8, 12))


def test_tiny_model_learns_to_infill_a_span() -> None:
    model = tiny_model(seed=0).train()
    config = model.config
    conditions = [Conditions(style_tags=("rock",))]
    codes = random_codes(1, 12, seed=11)
    span = (4, 8)
    rearranged = causal_mask_rearrange(codes[0], [span], config.mask_token_ids, config.pad_id)[None]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        optimizer.zero_grad()
        model.loss(conditions, rearranged).backward()
        optimizer.step()
    model.eval()
    corrupted = codes.clone()
    corrupted[:, :, 4:8] = 0  # the span's own codes are not part of the prompt
    filled = model.infill(conditions, corrupted, span, temperature=0.0)
    assert (filled == codes).float().mean() > 0.9


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_continuation_of_a_greedy_prefix_matches_its_tail(use_cache: bool) -> None:
    model = tiny_model(seed=6)
    conditions = two_conditions()
    full = model.generate(conditions, num_frames=9, temperature=0.0)
    tail = model.generate(
        conditions, num_frames=5, temperature=0.0, prompt_codes=full[:, :, :4], use_cache=use_cache
    )
    assert torch.equal(tail, full[:, :, 4:])
    with pytest.raises(ValueError, match=r"prompt_codes must lie in \[0, 16\)"):
        model.generate(conditions, num_frames=2, prompt_codes=torch.full((2, 4, 3), 16))


def test_batched_generation_matches_single_sample_greedy() -> None:
    model = tiny_model(seed=7)
    conditions = two_conditions()  # prefixes of different lengths
    batched = model.generate(conditions, num_frames=6, temperature=0.0, guidance_scale=2.0)
    alone = model.generate(conditions[1:], num_frames=6, temperature=0.0, guidance_scale=2.0)
    assert torch.equal(batched[1:], alone)


def test_tiny_model_follows_its_style_condition() -> None:
    model = tiny_model(seed=0).train()
    conditions = [Conditions(style_tags=("pop",)), Conditions(style_tags=("jazz",))]
    codes = random_codes(2, 8, seed=12)
    delayed = model.delay(codes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.manual_seed(0)  # the condition dropout draws
    for _ in range(150):
        optimizer.zero_grad()
        model.loss(conditions, delayed).backward()
        optimizer.step()
    for scale in (1.0, 3.0):
        generated = model.generate(conditions, num_frames=8, temperature=0.0, guidance_scale=scale)
        assert (generated == codes).float().mean() > 0.9, scale
