list(APPEND VKQ_SOURCES
  gguf/value_types.c
  gguf/text.c
  gguf/parse.c
  gguf/reader.c
  gguf/getters.c
  gguf/writer.c
  gguf/synthetic.c
  gguf/synthetic_vocab.c)
