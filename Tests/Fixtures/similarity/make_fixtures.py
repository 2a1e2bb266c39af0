"""Kornblith et al.'s CKA demo inputs (google-research/google-research, representation_similarity
/Demo.ipynb): np.random.seed(1337); X = randn(100, 10); Y = randn(100, 10) + X. Their published
values on these: linear CKA 0.55761, debiased 0.51346, RBF CKA (0.5 × median) 0.65483, mean
squared CCA 0.54312. Run with numpy: python3 make_fixtures.py"""
import numpy as np
np.random.seed(1337)
X = np.random.randn(100, 10)
Y = np.random.randn(100, 10) + X
np.save("kornblith_x.npy", X)
np.save("kornblith_y.npy", Y)
