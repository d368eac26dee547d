list(APPEND VKQ_SOURCES quant/types.c quant/float.c quant/legacy.c quant/kquants.c
     quant/kquant_fit.c quant/iquants.c quant/quantize_search.c quant/row.c
     quant/presets.c quant/model_quantize.c quant/budget.c)
