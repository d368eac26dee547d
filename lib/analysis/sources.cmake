list(APPEND VKQ_SOURCES analysis/metrics.c)
