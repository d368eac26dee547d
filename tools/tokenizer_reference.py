#!/usr/bin/env python3
"""Regenerates the fixtures of tests/tokenizer from reference implementations vkq did not write:

  smollm2_cases.txt  token ids of SmolLM2-135M-Instruct's vocabulary (read from the GGUF file) as
                     the HF `tokenizers` package computes them: a BPE model with the file's
                     vocabulary and merges, SmolLM2's pre-tokenizer (every digit alone, then
                     GPT-2's ByteLevel regex; tokenizer.ggml.pre = "smollm"), its control tokens
                     as special added tokens. Also the same vocabulary under the gpt2, llama3
                     (with ignore_merges, as Llama 3's tokenizer.json has it) and qwen2 splits.
  pretok_cases.txt   piece boundaries of the four pre-tokenizers from `tokenizers` on the texts.
  spm_vocab.txt      a SentencePiece BPE vocabulary (byte_fallback) trained by the
  spm_cases.txt      `sentencepiece` package on a corpus this script writes, and its ids.
  chat_cases.txt     chat templates (SmolLM2's from the GGUF, Llama 2, Llama 3, Mistral, Qwen2)
                     rendered by `jinja2` as transformers renders them.

Texts that are not valid UTF-8 are given to the references decoded with errors="replace" (one
U+FFFD per maximal ill-formed subsequence), which is how vkq reads them.

usage: pip install tokenizers sentencepiece gguf jinja2 unicodedata2==16.0.0
       python3 tools/tokenizer_reference.py --model "$(scripts/fetch_model.sh)"

File format (all fixtures): one record per line, "key value..."; byte strings in hex, or
"@NAME" for a string defined once by "def NAME HEX" above; a case starts with "case NAME" and
ends with "end".
"""
import argparse
import os
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tokenizer",
                   "fixtures")

# ---- the awkward texts ----------------------------------------------------------------------

TEXTS = [
    ("plain", b"Hello world"),
    ("empty", b""),
    ("one_space", b" "),
    ("space_runs", b"  leading, multiple   spaces   between, trailing   "),
    ("tabs", b"tabs\tand\t\ttabs\t"),
    ("newlines", b"new\nlines\n\n\nand\r\nCRLF\r\n \n \n\t \nend"),
    ("only_newlines", b"\n\n\n"),
    ("long_number", b"12345678901234567890 and 1,000,000.5"),
    ("digits_mixed", b"3.14159 x=1+2*3/4-5 007 phone: +1 (555) 123-4567"),
    ("space_digit", b"a 1  22   333\t4444"),
    ("punctuation", b"Hello!!! What??? ...really... (yes) [no] {maybe} \"quoted\" 'single'"),
    ("contractions", b"I'm you're he's we've they'll she'd don't CAN'T I'M WE'LL 'S"),
    ("apostrophes", "'s 's's ''s it's 'ſ 'ſt ' s".encode()),
    ("accents", "café naïve résumé Zürich Ångström façade e\u0301".encode()),
    ("cjk", "日本語のテキストです。中文测试。한국어 텍스트".encode()),
    ("emoji", "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 ❤️".encode()),
    ("mixed_scripts", "Привет мир, γειά σου κόσμε, مرحبا بالعالم, שלום עולם, नमस्ते".encode()),
    ("number_scripts", "Ⅻ ½ ٣٤٥ ๑๒๓ ①② ²³".encode()),
    ("unicode_spaces", "a\u00a0b\u3000c\u2003d zero\u200bwidth \u0085next \u001cfs".encode()),
    ("math", "∑∫√∞≠≤≥ ± × ÷ → ⇒".encode()),
    ("code", b"def f(x):\n    return x**2  # comment\n\tif x != 0:\n\t\tpass\n"),
    ("url", b"https://example.com/path?query=1&x=y#frag user@mail.org"),
    ("long_word", b"Pneumonoultramicroscopicsilicovolcanoconiosis aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("invalid_ff", b"bad \xff byte"),
    ("invalid_2byte", b"\xc3\x28 invalid two-byte"),
    ("invalid_truncated", b"truncated \xe2\x82"),
    ("invalid_cut_emoji", b"\xf0\x9f\x98 cut emoji"),
    ("invalid_surrogate", b"\xed\xa0\x80 surrogate"),
    ("invalid_overlong", b"\xc0\xaf overlong"),
    ("invalid_continuations", b"lone \x80\x80\x80 continuation"),
    ("special_chat", b"<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"),
    ("special_inline", b"text<|endoftext|>more <|im_end|>"),
    ("special_repeat", b"<|im_start|><|im_start|>x"),
    ("special_partial", b"partial <|im_start| token <|im_end"),
    ("special_other", b"<repo_name>x<file_sep>y<jupyter_code>"),
    ("whitespace_mix", "a \t b\u00a0 \n c \r\n\r\n d".encode()),
    ("newline_punct", b"end.\n\nNext!\r\n\tx?\n"),
]

# Texts also run through the other pre-tokenizers with SmolLM2's vocabulary.
OTHER_PRE_TEXTS = ["plain", "space_runs", "tabs", "newlines", "long_number", "digits_mixed",
                   "space_digit", "punctuation", "contractions", "apostrophes", "accents",
                   "number_scripts", "unicode_spaces", "code", "whitespace_mix", "newline_punct",
                   "cjk"]

SPM_EXTRA = [
    ("user_defined_start", b"<|user|>hello there"),
    ("user_defined_mid", b"hi <|user|> there<|user|>"),
    ("user_defined_twice", b"<|user|><|user|>"),
    ("control_text", b"<s>hello</s>"),
]

GPT2_SPLIT = (r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def as_str(b):
    return b.decode("utf-8", errors="replace")


def write(name, lines):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d bytes)" % (os.path.relpath(path), os.path.getsize(path)))


# ---- pre-tokenizers -------------------------------------------------------------------------

def pre_tokenizer(kind):
    from tokenizers import Regex, pre_tokenizers as pt
    if kind == "gpt2":
        return pt.ByteLevel(add_prefix_space=False, use_regex=True)
    if kind == "smollm":
        return pt.Sequence([pt.Digits(individual_digits=True),
                            pt.ByteLevel(add_prefix_space=False, use_regex=True)])
    split = {"llama3": LLAMA3_SPLIT, "qwen2": QWEN2_SPLIT}[kind]
    return pt.Sequence([pt.Split(Regex(split), behavior="isolated"),
                        pt.ByteLevel(add_prefix_space=False, use_regex=False)])


def piece_lengths(kind, text):
    s = as_str(text)
    out = []
    for _, (a, b) in pre_tokenizer(kind).pre_tokenize_str(s):
        out.append(len(s[a:b].encode()))
    assert sum(out) == len(s.encode()), (kind, text)
    return out


def text_defs(texts):
    return ["def %s %s" % (name, text.hex()) for name, text in texts]


def gen_pretok():
    lines = ["# piece byte lengths from HF tokenizers' pre-tokenizers (tools/tokenizer_reference.py)"]
    lines += ["def %s %s" % (name, as_str(text).encode().hex()) for name, text in TEXTS]
    for kind in ("gpt2", "llama3", "qwen2", "smollm"):
        for name, text in TEXTS:
            lines += ["case %s/%s" % (kind, name), "pre " + kind, "text @" + name,
                      "pieces " + " ".join(map(str, piece_lengths(kind, text))), "end"]
    write("pretok_cases.txt", lines)


# ---- SmolLM2 (byte-level BPE) ----------------------------------------------------------------

def gguf_vocab(path):
    import gguf
    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0])
             for i in r.fields["tokenizer.ggml.token_type"].data]
    pre = bytes(r.fields["tokenizer.ggml.pre"].parts[-1]).decode()
    return strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges"), types, pre, r


def hf_bpe(tokens, merges, types, pre, ignore_merges):
    from tokenizers import AddedToken, Tokenizer, decoders, models
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tk = Tokenizer(models.BPE(vocab=vocab, merges=pairs, ignore_merges=ignore_merges))
    tk.pre_tokenizer = pre_tokenizer(pre)
    tk.decoder = decoders.ByteLevel()
    tk.add_special_tokens([AddedToken(t, special=True, normalized=False)
                           for t, ty in zip(tokens, types) if ty == 3])
    return tk


def gen_smollm2(model):
    tokens, merges, types, pre, _ = gguf_vocab(model)
    assert pre == "smollm", pre
    lines = ["# SmolLM2-135M-Instruct ids from HF tokenizers (tools/tokenizer_reference.py)"]
    lines += text_defs(TEXTS)
    n_ids = 0
    for pre_kind in ("smollm", "gpt2", "llama3", "qwen2"):
        tk = hf_bpe(tokens, merges, types, pre_kind, ignore_merges=pre_kind == "llama3")
        for name, text in TEXTS:
            if pre_kind != "smollm" and name not in OTHER_PRE_TEXTS:
                continue
            for parse_special in ((1, 0) if pre_kind == "smollm" else (1,)):
                tk.encode_special_tokens = not parse_special
                ids = tk.encode(as_str(text), add_special_tokens=False).ids
                n_ids += len(ids)
                lines += ["case %s/%s/%d" % (pre_kind, name, parse_special), "pre " + pre_kind,
                          "text @" + name, "special %d" % parse_special,
                          "ids " + " ".join(map(str, ids)), "end"]
    write("smollm2_cases.txt", lines)
    print("  smollm2: %d ids" % n_ids)


# ---- SentencePiece --------------------------------------------------------------------------

CORPUS_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A tokenizer turns text into pieces, and pieces into numbers.",
    "In 2024, the model read 1234 files and wrote 56 reports.",
    "She said: \"It's fine, we'll see; don't worry.\"",
    "Vulkan runs compute shaders on many kinds of graphics cards.",
    "for (int i = 0; i < n; i++) { sum += x[i] * y[i]; }",
    "Quantized weights take less memory, but they lose some precision.",
    "Hello world! How are you today? I am well, thank you.",
    "The cafe on the corner serves tea, coffee and cake.",
    "Numbers like 3.14 and 2.71 appear in math and science.",
]


def spm_corpus():
    lines = []
    for i in range(60):
        for j, s in enumerate(CORPUS_SENTENCES):
            if (i + j) % 3 == 0:
                lines.append(s)
            elif (i + j) % 3 == 1:
                lines.append(s.lower() + "  " + CORPUS_SENTENCES[(j + i) % len(CORPUS_SENTENCES)])
            else:
                lines.append("  " + s.upper()[: 20 + i % 20] + " <|user|> " + str(i * 37 + j))
    return "\n".join(lines) + "\n"


def gen_spm():
    import sentencepiece as spm
    with tempfile.TemporaryDirectory() as d:
        corpus = os.path.join(d, "corpus.txt")
        with open(corpus, "w") as f:
            f.write(spm_corpus())
        prefix = os.path.join(d, "tiny")
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=420,
            byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
            add_dummy_prefix=True, remove_extra_whitespaces=False, split_digits=True,
            allow_whitespace_only_pieces=True, user_defined_symbols=["<|user|>"],
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    vocab = ["# SentencePiece BPE vocabulary trained by tools/tokenizer_reference.py",
             "bos 1", "eos 2", "unk 0", "add_bos 1", "add_space_prefix 1"]
    for i in range(sp.get_piece_size()):
        ty = 1
        if sp.is_unknown(i):
            ty = 2
        elif sp.is_control(i):
            ty = 3
        elif sp.is_byte(i):
            ty = 6
        elif sp.is_unused(i):
            ty = 5
        elif sp.id_to_piece(i) == "<|user|>":
            ty = 4
        vocab.append("piece %d %.9g %s" % (ty, sp.get_score(i), sp.id_to_piece(i).encode().hex()))
    write("spm_vocab.txt", vocab)
    lines = ["# SentencePiece ids (sentencepiece %s, tools/tokenizer_reference.py)" % spm.__version__]
    n_ids = 0
    for name, text in TEXTS + SPM_EXTRA:
        if name.startswith("special_"):
            continue  # the SmolLM2 control tokens mean nothing to this vocabulary
        ids = sp.encode(as_str(text))
        n_ids += len(ids)
        lines += ["case spm/" + name, "text " + text.hex(), "special 0", "add 0",
                  "ids " + " ".join(map(str, ids)), "end"]
    ids = [1] + sp.encode("Hello world")
    lines += ["case spm/with_bos", "text " + b"Hello world".hex(), "special 0", "add 1",
              "ids " + " ".join(map(str, ids)), "end"]
    write("spm_cases.txt", lines)
    print("  spm: %d pieces, %d ids" % (sp.get_piece_size(), n_ids))


# ---- chat templates -------------------------------------------------------------------------

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}")
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}")
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}")
QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

CONVERSATIONS = [
    ("user_only", [("user", "Hello there!")]),
    ("full", [("system", "You are terse."), ("user", "Hi"), ("assistant", "Hello."),
              ("user", "What is 2+2?")]),
    ("no_system_multi", [("user", "One"), ("assistant", "Two"), ("user", "Three")]),
    ("whitespace", [("system", "  padded system \n"), ("user", "\n  spaced user\t "),
                    ("assistant", " reply  "), ("user", "ünïcödé 😀 ")]),
]


def render(template, messages, gen, bos, eos):
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    out = env.from_string(template).render(
        messages=[{"role": r, "content": c} for r, c in messages], add_generation_prompt=gen,
        bos_token=bos, eos_token=eos)
    # vkq leaves out the BOS that a template writes first (the tokenizer adds it); a template
    # that never writes bos_token (SmolLM2's, whose bos is <|im_start|>) keeps its text whole.
    if "bos_token" in template and bos and out.startswith(bos):
        out = out[len(bos):]
    return out


def gen_chat(model):
    _, _, _, _, r = gguf_vocab(model)
    smollm_template = r.fields["tokenizer.chat_template"].contents()
    templates = [("smollm2", smollm_template, "<|im_start|>", "<|im_end|>"),
                 ("qwen2", QWEN2_TEMPLATE, "", "<|im_end|>"),
                 ("llama2", LLAMA2_TEMPLATE, "<s>", "</s>"),
                 ("llama3", LLAMA3_TEMPLATE, "<|begin_of_text|>", "<|eot_id|>"),
                 ("mistral", MISTRAL_TEMPLATE, "<s>", "</s>")]
    lines = ["# chat templates rendered by jinja2 (tools/tokenizer_reference.py); the leading",
             "# bos_token is removed, as vkq formats prompts without it"]
    lines += ["def %s %s" % (t[0], t[1].encode().hex()) for t in templates]
    for tname, template, bos, eos in templates:
        for cname, msgs in CONVERSATIONS:
            for gen in (True, False):
                try:
                    out = render(template, msgs, gen, bos, eos)
                except Exception:  # Mistral's template refuses system messages
                    continue
                lines += ["case %s/%s/%d" % (tname, cname, gen), "template @" + tname,
                          "bos " + bos.encode().hex(), "eos " + eos.encode().hex(),
                          "gen %d" % gen]
                lines += ["msg %s %s" % (r_, c.encode().hex()) for r_, c in msgs]
                lines += ["expect " + out.encode().hex(), "end"]
    write("chat_cases.txt", lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="SmolLM2-135M-Instruct GGUF (scripts/fetch_model.sh)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    gen_pretok()
    gen_smollm2(args.model)
    gen_spm()
    gen_chat(args.model)


if __name__ == "__main__":
    sys.exit(main())
