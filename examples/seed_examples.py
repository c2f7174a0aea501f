"""The seeds' worked examples, computed with upconv (run: python examples/seed_examples.py)."""

import numpy as np

import upconv

x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]

# Seed 002: transposed convolution as scatter-add, every input element times the kernel.
kernel = np.full((1, 1, 2, 2), 5.0)
y = upconv.conv_transpose(x, kernel, method="scatter")
print("transposed conv [[1,2],[3,4]] * 5s:\n", y[0, 0])
assert y[0, 0].tolist() == [[5, 15, 10], [20, 50, 30], [15, 35, 20]]

# Seed 002: K-nearest, bed of nails, max pooling with switches and max-unpooling.
print("nearest x2:\n", upconv.interpolate(x, scale_factor=2)[0, 0])
print("bed of nails:\n", upconv.unpool(x, 2)[0, 0])
a = np.array([[1.0, 2, 4, 1], [3, 4, 2, 3], [1, 4, 1, 2], [2, 3, 4, 3]])[None, None]
pooled, switches = upconv.max_pool(a, 2, return_indices=True)
print("max pool:\n", pooled[0, 0], "\nswitches:\n", switches[0, 0])
print("max unpool of [[1,2],[3,4]]:\n", upconv.max_unpool(x, switches, 2)[0, 0])

# Seed 004: the shapes, forward and inverse, and the direct form of a transposed convolution.
print(upconv.equivalent_conv(3, 3, stride=2, padding=1, output_padding=1))
print("output_padding taking 7 to 14 (k=3, s=2, p=1):", upconv.output_padding_for(7, 14, 3, 2, 1))

# Seed 001: conv's input gradient *is* the transposed convolution with the same weight.
rng = np.random.default_rng(0)
xi, w = rng.standard_normal((1, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
g = rng.standard_normal(upconv.conv(xi, w, stride=2).shape)
gi, _, _ = upconv.conv_backward(g, xi, w, stride=2)
assert np.allclose(gi, upconv.conv_transpose(g, w, stride=2, output_size=(7, 7)))
print("conv_backward's grad_input == conv_transpose(grad_output): True")
