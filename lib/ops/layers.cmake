# Layer ops other than the weight products (lib/ops/layers.h) and their CPU references.
list(APPEND VKQ_SOURCES ops/norm.c ops/rope.c ops/attention.c ops/activation.c ops/sample.c
     ops/stats.c ops/layers_ref.c)
