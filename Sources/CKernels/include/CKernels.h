// The probe's softmax exp in C, so that it uses AVX2 and FMA where the processor has them
// (chosen at run time) while the package builds for baseline x86-64: libm's scalar exp took a
// seventh of a probe fit's time.
#ifndef SONDE_CKERNELS_H
#define SONDE_CKERNELS_H

#include <stdint.h>

/// exp of each of `count` Doubles in place, within 2 ulp of the true value on [−708, 709]
/// (Cody–Waite reduction, the Taylor series to the 13th power); 0 below −708, exp(709) above,
/// NaN kept.
void sonde_exp(double *values, int64_t count);

/// The same, compiled for baseline x86-64 whatever the processor (what `sonde_exp` runs where
/// AVX2 or FMA is missing): for tests.
void sonde_exp_portable(double *values, int64_t count);

#endif
