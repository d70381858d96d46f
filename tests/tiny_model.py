"""Build a tiny random Llama and a byte-level BPE tokenizer in a folder (no download).

Used by the engine and backend tests: real transformers code paths, a model
small enough to run hundreds of forward passes in seconds.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "以下是中国关于计算机网络考试的单项选择题，请选出其中的正确答案。",
    "社会主义核心价值观是社会主义核心价值体系的内核 A. B. C. D. 答案: ",
    "The following are multiple choice questions (with answers). Answer: A B C D",
    "0123456789 ____ 《》，。、；：？！（）() [] {} - + = * / \\ ' \" \n",
]


SEED_BANK = Path(__file__).resolve().parent.parent / "examples" / "raw" / "chinese_core_socialist_values.csv"


def build_tiny_model(folder: Path, *, seed: int = 0, chat_template: bool = True) -> Path:
    """Write a random 2-layer Llama (vocab ~1,500) and its tokenizer to ``folder``; return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1500,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # the seed bank's text keeps test prompts short (whole words instead of UTF-8 bytes)
    corpus = CORPUS + SEED_BANK.read_text(encoding="utf-8").splitlines()
    tok.train_from_iterator(corpus * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    if chat_template:
        fast.chat_template = (
            "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
        )
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    # Larger weights than the default init so that greedy outputs and rankings vary between prompts.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0 if p.dim() > 1 else 1.0)
    model.save_pretrained(folder)
    return folder
