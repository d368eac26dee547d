list(APPEND VKQ_SOURCES analysis/metrics.c)
list(APPEND VKQ_SOURCES analysis/perplexity.c)
list(APPEND VKQ_SOURCES analysis/analyze.c analysis/analyze_act.c analysis/report.c)
