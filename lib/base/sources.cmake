list(APPEND VKQ_SOURCES base/status.c base/env.c base/file.c)
