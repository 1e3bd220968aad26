"""k-means under robust losses and VGG16 image features, as scikit-learn estimators.

Public names are imported lazily, so that ``import robustkmeans`` stays cheap and
does not import torch or matplotlib until a class that needs them is used.
"""

from importlib import import_module

__version__ = "0.2.0.dev0"

_PUBLIC = {
    "LossKMeans": "._loss_kmeans",
    "LOSSES": "._losses",
    "VGG16Featurizer": "._vgg16",
    "ImageLoadError": "._images",
    "load_image_folder": "._images",
    "select_k": ".model_selection",
    "SelectKResult": ".model_selection",
    "WholeSetSplit": ".model_selection",
    "evaluate_labels": ".metrics",
    "quantize_colors": "._quantize",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'robustkmeans' has no attribute {name!r}")


def __dir__():
    return __all__
