"""A tiny, randomly initialised Qwen2.5-VL in the official GRM's directory layout, built locally.

It lets the robodopamine backend run end to end on a CPU with no download: in the tests (prompt,
image order, parsing, fusion and shaping) and in benchmarks/grm_backends.py (the pipeline's own
cost). It knows nothing: its final norm is zero, so every logit is equal and greedy decoding
always picks token 0, which is the fixed `reply` (then the end of the answer). A reply with no
score (`reply="no idea"`) exercises the unparsed path.

    python -m grm.robodopamine_tiny DIR ["<score>+50%</score>"]
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>"]
# Qwen2.5-VL's chat template reduced to what the GRM's prompt uses (one user turn of text and images)
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for c in message['content'] %}{% if c['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def write_tiny_model(out: str | Path, reply: str = "<score>+50%</score>", seed: int = 0) -> Path:
    """Write the model, tokenizer, chat template and image processor to `out`; returns it."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration,
                              Qwen2VLImageProcessor)

    from grm.robodopamine import MAX_PIXELS, MIN_PIXELS

    vocab = {reply: 0, "[UNK]": 1, **{t: 2 + i for i, t in enumerate(SPECIAL)}}
    words = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="[UNK]", pad_token="<|endoftext|>",
                                        eos_token="<|im_end|>", additional_special_tokens=SPECIAL[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    config = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8192,
                         rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[0]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=0, pad_token_id=ids["<|endoftext|>"])  # token 0 (the reply) ends the answer
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    with torch.no_grad():
        model.model.language_model.norm.weight.zero_()  # all logits equal: greedy decoding picks token 0
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS).save_pretrained(out)
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m grm.robodopamine_tiny DIR [REPLY]")
    print(write_tiny_model(*sys.argv[1:]))
