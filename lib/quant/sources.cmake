list(APPEND VKQ_SOURCES quant/types.c)
