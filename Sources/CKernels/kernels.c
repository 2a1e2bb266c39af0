#include "CKernels.h"

#include <string.h>

// The kernel is written once as an inline body and compiled twice: for baseline x86-64
// (`sonde_exp_portable`) and, under a target attribute, for AVX2 with FMA, where the compiler
// vectorises the plain loop 4 Doubles wide. The choice is made per call from the processor's
// feature bits.

/// exp by Cody–Waite reduction to |r| ≤ ½ln 2 and the Taylor series to r¹³ (truncation below
/// 1e-17 relative); 2ⁿ from the exponent bits.
static inline __attribute__((always_inline)) void exp_body(double *restrict p, int64_t count) {
    const double magic = 6755399441055744.0;  // 1.5·2⁵²: adding it rounds to an integer in the low bits
    int64_t magicBits;
    memcpy(&magicBits, &magic, 8);
    for (int64_t i = 0; i < count; i++) {
        double v = p[i];
        double x = v > 709 ? 709 : (v < -708 ? -708 : v);
        double shifted = x * 1.4426950408889634 + magic;
        double n = shifted - magic;
        double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
        double q = 1.0 / 6227020800.0;
        q = q * r + 1.0 / 479001600.0;
        q = q * r + 1.0 / 39916800.0;
        q = q * r + 1.0 / 3628800.0;
        q = q * r + 1.0 / 362880.0;
        q = q * r + 1.0 / 40320.0;
        q = q * r + 1.0 / 5040.0;
        q = q * r + 1.0 / 720.0;
        q = q * r + 1.0 / 120.0;
        q = q * r + 1.0 / 24.0;
        q = q * r + 1.0 / 6.0;
        q = q * r + 0.5;
        double y = q * (r * r) + r + 1;
        int64_t bits;
        memcpy(&bits, &shifted, 8);
        bits = (bits - magicBits + 1023) << 52;  // 2ⁿ
        double scale;
        memcpy(&scale, &bits, 8);
        p[i] = v < -708 ? 0 : y * scale;
    }
}

void sonde_exp_portable(double *values, int64_t count) { exp_body(values, count); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void exp_avx2(double *values, int64_t count) { exp_body(values, count); }
#endif

void sonde_exp(double *values, int64_t count) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        exp_avx2(values, count);
        return;
    }
#endif
    sonde_exp_portable(values, count);
}
