"""Writes the small tensor files the SondeLinalg tests read, with numpy and the `safetensors`
package (the reference writers). Run from this folder: python3 make_fixtures.py
Made with numpy 2.4.6 and safetensors 0.8.0 (pip install numpy safetensors).

Every array's values follow from its index, so the tests know them without reading numpy:
    base(shape)[i] = i * 0.25 - 1   (flat C-order index i)
"""
import json
import struct

import numpy as np
from safetensors.numpy import save_file


def base(shape, dtype=np.float32):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * 0.25 - 1).reshape(shape).astype(dtype)


def ints(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.int64) * 1000003 - 7).reshape(shape).astype(dtype)


np.save("f32_c.npy", base((3, 4)))
np.save("f32_fortran.npy", np.asfortranarray(base((3, 4))))
np.save("f32_fortran_3d.npy", np.asfortranarray(base((2, 3, 4))))
np.save("f16.npy", base((3, 4), np.float16))
np.save("f64.npy", base((3, 4), np.float64))
np.save("i32.npy", ints((5,), np.int32))
np.save("i64.npy", ints((2, 3), np.int64))
np.save("f32_3d.npy", base((2, 3, 4)))
np.save("f32_empty.npy", base((0, 4)))
for version in [(2, 0), (3, 0)]:
    with open(f"f32_v{version[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, base((3, 4)), version=version)
np.save("big_endian.npy", base((3, 4)).astype(">f4"))

np.savez("stored.npz", a=base((3, 4)), b=ints((2, 3), np.int64))
np.savez_compressed("compressed.npz", a=base((3, 4)), b=ints((2, 3), np.int64))

save_file({"a": base((3, 4)), "b": ints((2, 3), np.int64), "c": base((5,), np.float64)},
          "mixed.safetensors", metadata={"model": "fixture", "layers": "a,b,c"})
save_file({"w": base((4, 8), np.float16)}, "f16.safetensors")
save_file({"x": ints((4,), np.int32)}, "i32.safetensors")

# numpy has no bfloat16, so safetensors.numpy cannot write BF16: this file follows the format by
# hand (8-byte length, JSON header padded with spaces to a multiple of 8, data). bfloat16 of
# base((2, 3)) is exact: the values are multiples of 0.25 in [-1, 0.25].
bf16 = (base((2, 3)).view(np.uint32) >> 16).astype("<u2").tobytes()
header = json.dumps({"t": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, len(bf16)]}}).encode()
header += b" " * ((8 - len(header) % 8) % 8)
with open("bf16.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + bf16)
