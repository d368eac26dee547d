list(APPEND VKQ_SOURCES ops/stream.c ops/bandwidth.c)
