#!/usr/bin/env python3
"""Independent reference logits for vkq's test model (SmolLM2-135M-Instruct.Q4_1.gguf).

The reference is computed by code vkq did not write: Hugging Face `transformers` loads the GGUF
checkpoint on the CPU, dequantizes every tensor (Q4_1 / Q8_0) to float32 and runs its own
LlamaForCausalLM in float32 with eager attention. A second, smaller check then reruns every
prompt through a plain numpy forward pass written here, straight from the GGUF file (own Q4_1 /
Q8_0 dequantization, llama.cpp-layout weights with the interleaved "NORM" rope), and records how
far its logits are from transformers'. The two agree only if transformers un-permuted Q/K
correctly, read rope theta / RMS eps from the GGUF, and tied the output to the embeddings.

Output (kept < 100 KB): a JSON file with, for each of 4 fixed prompts,
  - the prompt token ids (no BOS: see "tokenizer" in the output),
  - at every prompt position, the top-1 id and the top-1 / runner-up logits,
  - at the last prompt position the top-20 (id, logit) and the logits of 20 fixed ids,
  - a greedy continuation of 40 tokens (EOS does not stop it) with per-step top-1/top-2 margins,
and metadata (package versions, dtype, model sha256, date, GGUF hyper-parameters).

Dependencies (only PyPI is needed; the plain `torch` wheel from PyPI works on a CPU-only box,
it is a large download):

    python3 -m venv /tmp/venv-ref
    /tmp/venv-ref/bin/pip install torch transformers gguf numpy accelerate sentencepiece protobuf

Usage:

    MODEL=$(bash scripts/fetch_model.sh)
    /tmp/venv-ref/bin/python tools/reference_logits.py --model "$MODEL" \
        --out tests/engine/fixtures/smollm2_reference.json

Takes 1 to 4 minutes on 2 cores (most of it the 160 no-cache greedy forwards).
`--no-numpy-check` skips the numpy cross-check.

Tokenizer note: transformers builds the tokenizer from the GGUF vocabulary and merges, but with a
plain GPT-2 ByteLevel pre-tokenizer. SmolLM2's own tokenizer.json (and llama.cpp's "smollm"
pre-tokenizer named in the GGUF, which vkq implements) first splits every \\p{N} code point into a
piece of its own. The two differ on e.g. "x  1" (two spaces before a digit). This script installs
the SmolLM2 pre-tokenizer (Digits(individual_digits) then ByteLevel) on the HF tokenizer, and
records the stock HF ids too wherever they differ.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import sys
import tempfile

import numpy as np

PROMPTS = [
    ("capital", "The capital of France is"),
    ("code", "def fibonacci(n):"),
    ("chatml", "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"),
    (
        "paragraph",
        "The history of the printing press begins in the fifteenth century, when Johannes "
        "Gutenberg developed a system of movable metal type in the German city of Mainz. His "
        "invention made books far cheaper to produce, and within a few decades printing shops "
        "had spread to more than two hundred cities across Europe, changing the way that ideas",
    ),
]

# Logits at these ids are stored for the last prompt position of every prompt: the three
# specials, a few common word pieces, " Paris", and ids spread over the vocabulary up to its end.
FIXED_IDS = [0, 1, 2, 28, 30, 198, 216, 260, 282, 314, 504, 1000, 4649, 7042, 10000, 20000,
             30000, 40000, 45000, 49151]

TOKENIZER_CASES = ["x  1", "a\n\n2024", "x\u00b2 \u00bd", " Paris", "Paris", "hello  world\n\n  x",
                   "na\u00efve caf\u00e9 \u65e5\u672c\u8a9e", "<|im_start|>system\n<|im_end|>"]

N_GEN = 40
TOPK_LAST = 20
ROUND = 4  # decimals kept for logits


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def r(x):
    return round(float(x), ROUND)


# ---------------------------------------------------------------------------------------------
# GGUF metadata and the numpy cross-check
# ---------------------------------------------------------------------------------------------

def gguf_meta(reader):
    def get(key, default=None):
        f = reader.fields.get(key)
        return f.contents() if f is not None else default

    return {
        "architecture": get("general.architecture"),
        "block_count": int(get("llama.block_count")),
        "embedding_length": int(get("llama.embedding_length")),
        "feed_forward_length": int(get("llama.feed_forward_length")),
        "head_count": int(get("llama.attention.head_count")),
        "head_count_kv": int(get("llama.attention.head_count_kv")),
        "rope_freq_base": float(get("llama.rope.freq_base")),
        "rope_dimension_count": int(get("llama.rope.dimension_count")),
        "rms_norm_eps": float(get("llama.attention.layer_norm_rms_epsilon")),
        "vocab_size": int(get("llama.vocab_size")),
        "context_length": int(get("llama.context_length")),
        "tokenizer_model": get("tokenizer.ggml.model"),
        "tokenizer_pre": get("tokenizer.ggml.pre"),
        "add_bos_token": bool(get("tokenizer.ggml.add_bos_token", False)),
        "bos_token_id": int(get("tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(get("tokenizer.ggml.eos_token_id")),
        "tensor_types": sorted({t.tensor_type.name for t in reader.tensors}),
        "has_output_weight": any(t.name == "output.weight" for t in reader.tensors),
    }


def dequant_own(t):
    """Q4_1 / Q8_0 / F32 / F16 -> float32 [rows, cols], written from the block layouts, not gguf-py."""
    name = t.tensor_type.name
    ne = [int(x) for x in t.shape]  # GGUF order: ne[0] is the contiguous (row) length
    rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
    raw = np.asarray(t.data)
    if name == "F32":
        return raw.astype(np.float32).reshape(rows, ne[0])
    if name == "F16":
        return raw.astype(np.float32).reshape(rows, ne[0])
    b = raw.view(np.uint8).reshape(-1)
    if name == "Q4_1":  # block of 32: f16 d, f16 m, 16 bytes (low nibbles = 0..15, high = 16..31)
        blk = b.reshape(-1, 20)
        d = blk[:, 0:2].copy().view(np.float16).astype(np.float32)
        m = blk[:, 2:4].copy().view(np.float16).astype(np.float32)
        qs = blk[:, 4:20]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        return (q * d + m).reshape(rows, ne[0])
    if name == "Q8_0":  # block of 32: f16 d, 32 int8
        blk = b.reshape(-1, 34)
        d = blk[:, 0:2].copy().view(np.float16).astype(np.float32)
        q = blk[:, 2:34].copy().view(np.int8).astype(np.float32)
        return (q * d).reshape(rows, ne[0])
    raise ValueError(f"unsupported tensor type {name} for {t.name}")


class NumpyLlama:
    """A plain llama forward pass on GGUF-layout weights (llama.cpp conventions), float32."""

    def __init__(self, reader, meta):
        self.m = meta
        w = {t.name: t for t in reader.tensors}
        self.W = {}
        for name, t in w.items():
            a = dequant_own(t)
            self.W[name] = a.reshape(-1) if name.endswith("norm.weight") else a
        self.out = self.W.get("output.weight", self.W["token_embd.weight"])

    def rmsnorm(self, x, g):
        eps = self.m["rms_norm_eps"]
        return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)) * g

    def rope_norm(self, x, pos):
        # llama.cpp LLAMA_ROPE_TYPE_NORM: rotate adjacent pairs (x[2i], x[2i+1]) of each head.
        hd = x.shape[-1]
        inv = self.m["rope_freq_base"] ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
        ang = pos[:, None].astype(np.float64) * inv[None, :]  # [T, hd/2]
        c = np.cos(ang).astype(np.float32)[:, None, :]
        s = np.sin(ang).astype(np.float32)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        y = np.empty_like(x)
        y[..., 0::2] = x0 * c - x1 * s
        y[..., 1::2] = x0 * s + x1 * c
        return y

    def forward(self, ids):
        m, W = self.m, self.W
        T = len(ids)
        nh, nkv = m["head_count"], m["head_count_kv"]
        hd = m["embedding_length"] // nh
        pos = np.arange(T)
        x = W["token_embd.weight"][np.asarray(ids)]
        mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
        for L in range(m["block_count"]):
            p = f"blk.{L}."
            h = self.rmsnorm(x, W[p + "attn_norm.weight"])
            q = (h @ W[p + "attn_q.weight"].T).reshape(T, nh, hd)
            k = (h @ W[p + "attn_k.weight"].T).reshape(T, nkv, hd)
            v = (h @ W[p + "attn_v.weight"].T).reshape(T, nkv, hd)
            q, k = self.rope_norm(q, pos), self.rope_norm(k, pos)
            rep = nh // nkv
            k = np.repeat(k, rep, axis=1)
            v = np.repeat(v, rep, axis=1)
            att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = np.einsum("hts,shd->thd", att, v).reshape(T, nh * hd)
            x = x + o @ W[p + "attn_output.weight"].T
            h = self.rmsnorm(x, W[p + "ffn_norm.weight"])
            g = h @ W[p + "ffn_gate.weight"].T
            u = h @ W[p + "ffn_up.weight"].T
            x = x + ((g / (1.0 + np.exp(-g))) * u) @ W[p + "ffn_down.weight"].T
        x = self.rmsnorm(x, W["output_norm.weight"])
        return x @ self.out.T


# ---------------------------------------------------------------------------------------------
# transformers side
# ---------------------------------------------------------------------------------------------

def top2(logits_row):
    """(top-1 id, top-1 logit, runner-up id, runner-up logit) of a 1-D torch tensor."""
    import torch

    v, i = torch.topk(logits_row, 2)
    return int(i[0]), float(v[0]), int(i[1]), float(v[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="path of SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--out", required=True, help="output JSON path")
    ap.add_argument("--no-numpy-check", action="store_true", help="skip the numpy cross-check")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = ap.parse_args()

    import torch
    import transformers
    import tokenizers
    import gguf
    from gguf import GGUFReader
    from tokenizers import pre_tokenizers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model_path = os.path.abspath(args.model)
    reader = GGUFReader(model_path)
    meta = gguf_meta(reader)

    # transformers wants (directory, file name); link the file into a scratch directory so that
    # nothing is written next to the cached model.
    with tempfile.TemporaryDirectory() as tmp:
        fname = os.path.basename(model_path)
        os.symlink(model_path, os.path.join(tmp, fname))
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=fname)
        stock_tok = AutoTokenizer.from_pretrained(tmp, gguf_file=fname)  # kept unmodified
        model = AutoModelForCausalLM.from_pretrained(
            tmp, gguf_file=fname, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config

    # --- the transformers model must be the computation the GGUF describes -------------------
    rope_theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta",
                                                                   getattr(cfg, "rope_theta", None))
    checks = {
        "num_hidden_layers": (cfg.num_hidden_layers, meta["block_count"]),
        "hidden_size": (cfg.hidden_size, meta["embedding_length"]),
        "intermediate_size": (cfg.intermediate_size, meta["feed_forward_length"]),
        "num_attention_heads": (cfg.num_attention_heads, meta["head_count"]),
        "num_key_value_heads": (cfg.num_key_value_heads, meta["head_count_kv"]),
        "vocab_size": (cfg.vocab_size, meta["vocab_size"]),
        "rope_theta": (float(rope_theta), meta["rope_freq_base"]),
        "rms_norm_eps": (float(cfg.rms_norm_eps), meta["rms_norm_eps"]),
        "head_dim": (getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads),
                     meta["rope_dimension_count"]),
    }
    for k, (a, b) in checks.items():
        if (abs(a - b) > 1e-12 * max(1.0, abs(b))) if isinstance(b, float) else a != b:
            sys.exit(f"config mismatch {k}: transformers {a} vs gguf {b}")
    rope_scaling = (getattr(cfg, "rope_parameters", None) or {}).get("rope_type", "default")
    if rope_scaling != "default":
        sys.exit(f"unexpected rope type {rope_scaling}")
    tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    if not meta["has_output_weight"] and not tied:
        sys.exit("GGUF has no output.weight but transformers did not tie lm_head")

    # --- tokenizer: install SmolLM2's pre-tokenizer (digits split first) ---------------------
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])

    def encode(t, text):
        return t(text, add_special_tokens=True).input_ids

    bos_probe = encode(tok, "Hello")
    hf_prepends_bos = len(bos_probe) > 0 and bos_probe[0] == tok.bos_token_id

    tok_cases = []
    for text in TOKENIZER_CASES:
        ids = encode(tok, text)
        case = {"text": text, "ids": ids}
        stock = encode(stock_tok, text)
        if stock != ids:
            case["hf_stock_ids"] = stock
        tok_cases.append(case)

    # --- numpy cross-check model ---------------------------------------------------------------
    np_model = None if args.no_numpy_check else NumpyLlama(reader, meta)

    @torch.no_grad()
    def logits_of(ids):
        return model(torch.tensor([ids], dtype=torch.long)).logits[0].float()

    results = []
    for key, text in PROMPTS:
        ids = encode(tok, text)
        stock = encode(stock_tok, text)
        lg = logits_of(ids)  # [T, V]
        positions = []
        for t in range(len(ids)):
            i1, v1, i2, v2 = top2(lg[t])
            positions.append([i1, r(v1), i2, r(v2)])
        last = lg[-1]
        tv, ti = torch.topk(last, TOPK_LAST)
        lse = float(torch.logsumexp(last, 0))
        entry = {
            "name": key,
            "text": text,
            "ids": ids,
            "n_tokens": len(ids),
            "positions_doc": "per prompt position t: [top1_id, top1_logit, top2_id, top2_logit] "
                             "of the logits predicting token t+1",
            "positions": positions,
            "last_top20": [[int(i), r(v)] for i, v in zip(ti, tv)],
            "last_fixed": [[i, r(last[i])] for i in FIXED_IDS],
            "last_stats": {"mean": r(last.mean()), "std": r(last.std()), "max": r(last.max()),
                           "min": r(last.min()), "logsumexp": r(lse)},
        }
        if stock != ids:
            entry["hf_stock_ids"] = stock

        if np_model is not None:
            npl = np_model.forward(ids)
            ref = lg.numpy()
            diff = np.abs(npl - ref)
            np_top1 = npl.argmax(-1)
            entry["numpy_check"] = {
                "max_abs_logit_diff": r(diff.max()),
                "mean_abs_logit_diff": float(f"{diff.mean():.3g}"),
                "top1_agree_positions": int((np_top1 == ref.argmax(-1)).sum()),
                "of": len(ids),
            }

        # greedy continuation, full recompute each step (no KV cache), EOS does not stop it
        seq = list(ids)
        gen, steps = [], []
        first_eos = None
        for s in range(N_GEN):
            row = logits_of(seq)[-1]
            i1, v1, i2, v2 = top2(row)
            gen.append(i1)
            steps.append([i1, r(v1), i2, r(v2)])
            if first_eos is None and i1 == tok.eos_token_id:
                first_eos = s
            seq.append(i1)
        entry["greedy"] = {
            "ids": gen,
            "text": tok.decode(gen, skip_special_tokens=False),
            "text_to_first_eos": tok.decode(gen[: first_eos + 1] if first_eos is not None else gen,
                                            skip_special_tokens=False),
            "first_eos_step": first_eos,
            "steps_doc": "per generated step: [top1_id, top1_logit, top2_id, top2_logit]",
            "steps": steps,
            "min_margin": r(min(a[1] - a[3] for a in steps)),
            "min_margin_step": int(np.argmin([a[1] - a[3] for a in steps])),
        }
        # Teacher-forced view: one forward over prompt + greedy[:-1] must reproduce every step's
        # top-1 / top-2 logits (a consumer can compare this way without divergence cascading).
        tf = logits_of(ids + gen[:-1])[len(ids) - 1:]
        tf_diff = max(max(abs(float(tf[s_][a[0]]) - a[1]), abs(float(tf[s_][a[2]]) - a[3]))
                      for s_, a in enumerate(steps))
        tf_top1 = [int(x) for x in tf.argmax(-1)]
        entry["greedy"]["teacher_forced_check"] = {
            "max_abs_diff_vs_steps": float(f"{tf_diff:.3g}"),
            "top1_agree_steps": sum(int(a == b) for a, b in zip(tf_top1, gen)),
            "of": N_GEN,
        }
        margins = [p[1] - p[3] for p in positions]
        entry["prompt_min_margin"] = r(min(margins))
        entry["prompt_min_margin_pos"] = int(np.argmin(margins))
        entry["prompt_positions_margin_below_0_1"] = [t for t, mg in enumerate(margins) if mg < 0.1]
        entry["greedy_steps_margin_below_0_1"] = [s for s, a in enumerate(steps) if a[1] - a[3] < 0.1]
        # Greedy tokens must agree exactly up to here; at this step a consumer within ~0.1 logits
        # of the reference may legitimately pick the runner-up (null: no such step in N_GEN).
        entry["greedy_first_near_tie_step"] = (entry["greedy_steps_margin_below_0_1"] or [None])[0]
        results.append(entry)
        print(f"[{key}] {len(ids)} tokens; greedy: {entry['greedy']['text']!r}; "
              f"min margins prompt {entry['prompt_min_margin']} greedy {entry['greedy']['min_margin']}"
              + (f"; numpy max|diff| {entry['numpy_check']['max_abs_logit_diff']}"
                 if "numpy_check" in entry else ""), file=sys.stderr)

    out = {
        "what": "Independent reference (HF transformers, float32, CPU) for vkq's test model "
                "SmolLM2-135M-Instruct.Q4_1.gguf; see tests/engine/fixtures/README.md",
        "metadata": {
            "generated_by": "tools/reference_logits.py",
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model_file": os.path.basename(model_path),
            "model_sha256": sha256_file(model_path),
            "model_bytes": os.path.getsize(model_path),
            "dtype": "float32 (all GGUF tensors dequantized to float32 by transformers/gguf)",
            "attn_implementation": "eager",
            "kv_cache": "none: every step recomputes the whole sequence",
            "torch_threads": args.threads,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__,
                "gguf": getattr(gguf, "__version__", None) or _dist_version("gguf"),
                "numpy": np.__version__,
            },
            "platform": platform.platform(),
            "gguf_hparams": meta,
            "transformers_config": {
                "rope_theta": float(rope_theta),
                "rms_norm_eps": float(cfg.rms_norm_eps),
                "tie_word_embeddings": bool(getattr(cfg, "tie_word_embeddings", tied)),
                "lm_head_tied_to_embed_tokens": bool(tied),
                "hidden_act": cfg.hidden_act,
            },
            "logit_decimals": ROUND,
        },
        "tokenizer": {
            "hf_prepends_bos": bool(hf_prepends_bos),
            "gguf_add_bos_token": meta["add_bos_token"],
            "bos_token": tok.bos_token, "bos_token_id": tok.bos_token_id,
            "eos_token": tok.eos_token, "eos_token_id": tok.eos_token_id,
            "special_tokens_in_text": "parsed: '<|im_start|>' in a prompt becomes id 1",
            "pre_tokenizer": "Digits(individual_digits=True) then ByteLevel GPT-2 regex "
                             "(= SmolLM2 tokenizer.json = llama.cpp 'smollm'); stock transformers "
                             "GGUF loading omits the digit split, see hf_stock_ids",
            "cases": tok_cases,
        },
        "fixed_ids": FIXED_IDS,
        "n_greedy": N_GEN,
        "prompts": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", file=sys.stderr)


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    main()
