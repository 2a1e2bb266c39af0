// LAPACKE (Debian: liblapacke-dev), whose LAPACK is met by OpenBLAS.
#include <lapacke.h>
// lapack_int is a #define in lapacke_config.h, which Swift cannot see: give it a real type name.
typedef lapack_int sonde_lapack_int;
