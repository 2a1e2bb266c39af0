// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, /usr/include/x86_64-linux-gnu/cblas.h),
// including openblas_set_num_threads / openblas_get_num_threads.
#include <cblas.h>
