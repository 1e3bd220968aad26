"""Order of the gallery examples: from the core idea to the image pipeline."""

from __future__ import annotations

import os

ORDER = [
    "plot_outliers_2d.py",
    "plot_algorithms.py",
    "plot_select_k.py",
    "plot_grid_search.py",
    "plot_loss_comparison_images.py",
    "plot_feature_maps.py",
    "plot_color_quantization.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: the examples in
    ``ORDER`` first, in that order, then any other by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        return (ORDER.index(name), name) if name in ORDER else (len(ORDER), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
