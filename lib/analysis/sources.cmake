list(APPEND VKQ_SOURCES analysis/metrics.c)
list(APPEND VKQ_SOURCES analysis/perplexity.c)
