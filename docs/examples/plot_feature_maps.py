"""
==============================
VGG16 feature maps of an image
==============================

What does :class:`~robustkmeans.VGG16Featurizer` see? Its output is the
average over the image of the 512 channels of VGG16's last convolutional block.
:meth:`~robustkmeans.VGG16Featurizer.feature_maps` returns the activations of
one image after chosen layers, before any pooling, and
:class:`~robustkmeans.plotting.FeatureMapsDisplay` draws the most active
channels of each.

.. note:: **Which weights this page shows.** The ImageNet weights are used when
   a local file is found (the environment variable
   ``ROBUSTKMEANS_VGG16_WEIGHTS``, or
   ``shared/weights/vgg16_features_imagenet1k_v1.pth`` in the working folder or
   one of its parents); nothing is downloaded. Otherwise the example falls back
   to ``weights=None``, a *random* initialisation: the maps still show how
   resolution and channel count change with depth, but their content is
   meaningless. The printed output and the figure title say which was used.
"""

# %%
# An image and the featurizer
# ---------------------------

import matplotlib.pyplot as plt
from sklearn.datasets import load_sample_image

from robustkmeans import VGG16Featurizer
from robustkmeans._demo import find_vgg16_weights
from robustkmeans._vgg16 import FEATURE_MAP_LAYERS, LAYER_NAMES
from robustkmeans.plotting import FeatureMapsDisplay

# $ROBUSTKMEANS_VGG16_WEIGHTS, or shared/weights/... here or in a folder above; no download
weights = find_vgg16_weights()
if weights is not None:
    featurizer = VGG16Featurizer(weights=str(weights)).fit()
    label = "ImageNet weights"
else:
    featurizer = VGG16Featurizer(weights=None).fit()
    label = "RANDOM weights (fallback: no weights file found)"
print("VGG16 with", label)

flower = load_sample_image("flower.jpg")[40:400, 140:500]  # the dahlia, 360 x 360

# %%
# The layers
# ----------
# ``features`` is a sequence of 31 modules (13 convolutions, each followed by a
# ReLU, and 5 max-pools). The default layers are the first ReLU, the second
# convolution before and after its ReLU, and the last ReLU of each following
# block: from 224 x 224 pixels with 64 channels down to 14 x 14 with 512.
for index in FEATURE_MAP_LAYERS:
    print(f"{index:2d}  {LAYER_NAMES[index]}")

# %%
# The feature maps
# ----------------
# One row per layer: the input image, then the 8 channels of largest mean
# activation. Early layers respond to colours and edges at full resolution;
# deeper layers to larger patterns (petals, the flower's centre) on coarser
# grids. The pooled ``pool5`` vector that the clustering uses is the mean of
# maps like those of the last row, one number per channel.
display = FeatureMapsDisplay.from_estimator(featurizer, flower, n_channels=8)
display.figure_.suptitle(f"Most active channels per layer -- VGG16, {label}")
plt.show()

# %%
# The arrays themselves, without plotting:
maps = featurizer.feature_maps(flower, layers=["relu3_1", "pool5"])
for index, activation in maps.items():
    print(f"{LAYER_NAMES[index]:8s} shape {activation.shape}, mean {activation.mean():.3f}")
