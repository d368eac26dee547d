list(APPEND VKQ_SOURCES engine/hparams.c engine/model.c engine/model_tokenizer.c engine/session.c
     engine/forward.c engine/sample.c engine/reference.c
     engine/importance.c engine/profile.c)
