"""
==========================================
Comparing the six losses on image features
==========================================

A small labelled image set is cut from the two photographs that ship with
scikit-learn (six classes: pagoda, sky, water, trees, dahlia, leaves; see
:func:`~robustkmeans._demo.make_demo_images`), and six "junk" images that
belong to no class are added: three of random noise and three of a single
flat colour, the kind of corrupt or off-topic files a real photo folder
contains. Each image becomes a VGG16 feature vector
(:class:`~robustkmeans.VGG16Featurizer`), and the features are clustered under
each loss with :class:`~robustkmeans.plotting.LossComparisonDisplay`.

.. note:: **Which features this page shows.** The features come from VGG16 with
   its ImageNet weights when a local weights file is found: the file named by
   the environment variable ``ROBUSTKMEANS_VGG16_WEIGHTS``, or
   ``shared/weights/vgg16_features_imagenet1k_v1.pth`` in the working folder or
   one of its parents. Nothing is downloaded. Without weights the example falls
   back to colour histograms (:class:`~robustkmeans._demo.ColorHistogramFeaturizer`),
   which see colour but not shape or texture; the printed output and the
   figure titles say which was used.
"""

# %%
# The images
# ----------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from robustkmeans import LossKMeans, VGG16Featurizer, evaluate_labels
from robustkmeans._demo import ColorHistogramFeaturizer, find_vgg16_weights, make_demo_images
from robustkmeans.plotting import LossComparisonDisplay, RepresentativesDisplay

folder = Path(tempfile.mkdtemp(prefix="robustkmeans-demo-"))
data = make_demo_images(folder, n_per_class=8, random_state=0)

rng = np.random.default_rng(0)
junk = [rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8) for _ in range(3)]
flat_colours = ([200, 30, 30], [30, 30, 200], [230, 230, 40])
junk += [np.full((96, 96, 3), rgb, dtype=np.uint8) for rgb in flat_colours]
images = list(data.filenames) + junk
target_names = list(data.target_names) + ["junk"]
y = np.r_[data.target, np.full(len(junk), len(data.target_names))]
print(
    f"{len(images)} images: {len(data.filenames)} in {len(data.target_names)} classes "
    f"+ {len(junk)} junk"
)


# %%
# The features: VGG16 with ImageNet weights, if available locally
# ---------------------------------------------------------------
# $ROBUSTKMEANS_VGG16_WEIGHTS, or shared/weights/... here or in a folder above; no download
weights = find_vgg16_weights()
if weights is not None:
    featurizer = VGG16Featurizer(weights=str(weights))  # pool5, average pooling, L2
    feature_name = "VGG16 (ImageNet weights), pool5, L2-normalised"
else:
    featurizer = ColorHistogramFeaturizer(bins=8)
    feature_name = "colour histograms (FALLBACK: no VGG16 weights file found)"
print("features:", feature_name)
X = featurizer.fit_transform(images)
print("feature matrix:", X.shape)

# %%
# Six losses, the same features
# -----------------------------
# ``LossComparisonDisplay`` refits a clone of the estimator under each loss and
# shows, per loss, the image closest to each center together with the
# objective, the silhouette, the Calinski-Harabasz index and -- since we have
# labels -- the adjusted Rand index (ARI) and V-measure. The junk images are
# counted as a seventh class, so a clustering that scatters them among the
# real classes loses a little ARI. The scales are chosen automatically, and
# every loss's silhouette is measured in one metric (``metric="euclidean"``, the
# default), so that the silhouettes of the six losses can be compared.
estimator = LossKMeans(
    n_clusters=6, delta="auto", sigma="auto", epsilon="auto", n_init=3, random_state=0
)
display = LossComparisonDisplay.from_estimator(estimator, X, images, y=y)
display.figure_.suptitle(f"Representative per cluster, for each loss\n({feature_name})")
plt.show()

# %%
# The same numbers as a table, plus where the junk went:
print(f"{'loss':22s} {'ARI':>6s} {'V':>6s}  clusters of the junk images")
junk_rows = slice(len(data.filenames), None)
for loss, metrics in zip(display.losses, display.metrics, strict=True):
    labels = display.labels_[loss]
    print(
        f"{loss:22s} {metrics['adjusted_rand']:6.3f} {metrics['v_measure']:6.3f}  "
        f"{labels[junk_rows].tolist()}"
    )

# %%
# Atypical images
# ---------------
# The images of *largest* cost in their cluster are where a robust loss earns
# its keep: they are the samples it down-weights. For one loss, the
# representatives (closest to the center) and the most atypical images (dashed
# black frame) per cluster:
huber = display.estimators_["huber"]
RepresentativesDisplay.from_estimator(huber, X, images, n_representatives=3, n_atypical=2)
plt.show()

# %%
# What to take from this
# ----------------------
# With VGG16 features the six classes are far apart and every loss but
# ``correntropy`` recovers them. The junk images are close to no class; they
# join the nearest cluster (in VGG16's view, noise looks most like foliage and
# flat colours like the dark leaves), where they are exactly the most atypical
# members: the dashed black frames above. That is the practical use of the atypical
# images: finding corrupt or off-topic files in a folder. The ARI is below 1
# only because the junk, counted as a seventh class, has no cluster of its
# own. ``correntropy`` instead gives the three flat colours a cluster of their
# own and merges sky and water, hence its lower ARI. (With the fallback colour
# histograms, which see colour only, classes mix -- pagoda with trees, or sky
# with leaves -- and the ARI and V-measure of every loss are lower: features
# matter.)
#
# On such well separated data the choice of the features and of their
# normalisation matters more than the loss (see :ref:`image_features`). The
# loss matters when the classes overlap and off-topic images are numerous:
# then the square loss lets them pull the centers, and so the choice of the
# representatives, away from the typical images, as in
# :ref:`sphx_glr_auto_examples_plot_outliers_2d.py`. A robust loss protects the
# centers, but a far, *compact* group of junk can still take a cluster of its
# own under an unbounded cost (see :ref:`isolated_outliers`).
#
# Evaluation against labels is described in :ref:`evaluation`; the
# representatives of the closest images under each loss are a quick visual
# check when there are no labels.
scores = evaluate_labels(y, display.labels_["square"])
print("square loss, all indices:", {k: round(v, 3) for k, v in scores.items()})
