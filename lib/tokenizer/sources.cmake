list(APPEND VKQ_SOURCES
  tokenizer/unicode.c
  tokenizer/unicode_tables.c
  tokenizer/pretokenize.c
  tokenizer/vocab.c
  tokenizer/vocab_gguf.c
  tokenizer/merge.c
  tokenizer/bpe.c
  tokenizer/spm.c
  tokenizer/tokenize.c
  tokenizer/detok.c
  tokenizer/chat.c
  tokenizer/api.c)
