// libFuzzer's entry for programs with their own main (clang's libclang_rt.fuzzer_no_main):
// benchmarks/fuzz.sh links it into sonde-fuzz; the normal build never calls it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
