# Weight products: matvec, matmul, get_rows, the integer-dot matvec, their references and the
# kernel benchmark.
list(APPEND VKQ_SOURCES ops/products.c ops/matvec.c ops/matmul.c ops/get_rows.c ops/kernel_bench.c
     ops/matvec_dot.c)
