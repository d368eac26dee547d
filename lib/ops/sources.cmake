list(APPEND VKQ_SOURCES ops/stream.c ops/bandwidth.c)
# Each kernel family lists its own files.
include(ops/products.cmake OPTIONAL)  # matvec, matmul, get_rows
include(ops/layers.cmake OPTIONAL)    # norm, rope, attention, activations, sampling
