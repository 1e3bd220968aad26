"""``VGG16Featurizer`` on a CUDA device: the same features as on the CPU, and its speed.

Run where a GPU is (``python benchmarks/check_cuda.py``; about a minute on one GPU,
most of it the CPU side of check 1). It checks, and writes to
``benchmarks/results/check_cuda.json``:

1. the features of the same image files computed with ``device="cpu"`` and
   ``device="cuda"`` (same weights) agree (largest absolute difference, target
   <= 1e-5: convolutions run in full float32, TF32 off), and so do those of the
   same images given as arrays; ``device="auto"`` picks CUDA;
2. throughput on CUDA: ``transform(paths)`` end to end (read, decode, resize,
   normalise, forward, pool, L2-normalise; ``n_jobs`` decoding threads None and 8)
   against the network alone on pre-made 224 px tensors (the same batches), in
   images per second;
3. a ``Pipeline`` of the featurizer on CUDA and ``LossKMeans`` in a
   ``GridSearchCV`` over loss and k, scored by silhouette: its adjusted Rand index
   against the classes of the demo images;
4. the command line: ``robustkmeans demo --device cuda`` exits 0 and writes its
   report.

Each throughput figure is one timed run after a warm-up, not the best of
interleaved repeats as in the ``bench_*.py`` scripts; ``--quick`` and ``--repeat``
(common to all the scripts) are ignored here.

The images are the demo's crops of scikit-learn's sample photographs
(``make_demo_images``, 96 px PNGs; ``--n-per-class``). Weights: ``--weights PATH``,
else what ``find_vgg16_weights`` finds (``$ROBUSTKMEANS_VGG16_WEIGHTS``, then
``shared/weights/`` in this folder or a parent); ImageNet weights are required.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS_DIR, environment, package_state, parser, record_end, write_json

#: largest absolute difference allowed between CPU and CUDA features (L2-normalised)
MAX_DIFF = 1e-5


def _synchronize(torch):
    torch.cuda.synchronize()


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--weights", default=None, help="VGG16 features state dict")
    p.add_argument("--n-per-class", type=int, default=24, help="demo images per class (24)")
    args = p.parse_args(argv)

    import torch
    from PIL import Image
    from sklearn.metrics import adjusted_rand_score
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    import robustkmeans._vgg16 as vgg_module
    from robustkmeans import LossKMeans, VGG16Featurizer
    from robustkmeans._demo import find_vgg16_weights, make_demo_images
    from robustkmeans.metrics import make_silhouette_scorer
    from robustkmeans.model_selection import WholeSetSplit

    if not torch.cuda.is_available():
        print("check_cuda: no CUDA device here (torch.cuda.is_available() is False)")
        return 1
    weights = find_vgg16_weights(args.weights)
    if weights is None:
        print("check_cuda: no VGG16 weights found; pass --weights")
        return 1
    weights = str(weights)
    env = environment()
    env["cuda_device"] = torch.cuda.get_device_name(0)
    env["torch"] = torch.__version__
    result = {"n_per_class": args.n_per_class}

    tmp = Path(tempfile.mkdtemp())
    make_demo_images(tmp / "demo", n_per_class=args.n_per_class, random_state=0)
    files = sorted(str(f) for f in (tmp / "demo").rglob("*.png"))
    classes = np.array([Path(f).parent.name for f in files])
    result["n_images"] = len(files)

    # 1. same features on both devices
    start = time.perf_counter()
    cpu = VGG16Featurizer(weights=weights, device="cpu", batch_size=16).fit_transform(files)
    result["cpu_transform_s"] = time.perf_counter() - start
    cuda_est = VGG16Featurizer(weights=weights, device="cuda", batch_size=64).fit(files[:2])
    cuda = cuda_est.transform(files)
    arrays = cuda_est.transform([np.asarray(Image.open(f).convert("RGB")) for f in files[:16]])
    result["auto_device"] = VGG16Featurizer(weights=weights, device="auto").fit(files[:1]).device_
    result["max_abs_diff_cpu_cuda"] = float(np.abs(cpu - cuda).max())
    result["max_abs_diff_arrays_files"] = float(np.abs(arrays - cuda[:16]).max())
    result["dtype"] = str(cuda.dtype)
    same = (
        result["max_abs_diff_cpu_cuda"] <= MAX_DIFF
        and result["max_abs_diff_arrays_files"] <= MAX_DIFF
        and result["auto_device"].startswith("cuda")
        and cuda.dtype == np.float32
    )
    result["features_status"] = "PASS" if same else "MISS"

    # 2. throughput: end to end against the network alone on the same batches
    many = files * 8
    batch = 128
    for n_jobs in (None, 8):
        est = VGG16Featurizer(weights=weights, device="cuda", batch_size=batch, n_jobs=n_jobs)
        est.fit(many[:2]).transform(many[:batch])  # warm-up
        _synchronize(torch)
        start = time.perf_counter()
        est.transform(many)
        _synchronize(torch)
        result[f"end_to_end_img_per_s_n_jobs_{n_jobs}"] = len(many) / (time.perf_counter() - start)
    model = vgg_module._load_features(weights, "cuda")
    x = torch.randn(batch, 3, 224, 224, device="cuda").contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), vgg_module._full_float32(torch, "cuda"):
        model(x).mean(dim=(2, 3))  # warm-up
        _synchronize(torch)
        start = time.perf_counter()
        for _ in range(len(many) // batch):
            model(x).mean(dim=(2, 3))
        _synchronize(torch)
    result["tensors_img_per_s"] = (len(many) // batch) * batch / (time.perf_counter() - start)

    # 3. a grid search over CUDA features
    pipe = Pipeline(
        [
            ("features", VGG16Featurizer(weights=weights, device="cuda")),
            ("cluster", LossKMeans(n_clusters=6, random_state=0)),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {"cluster__loss": ["square", "correntropy"], "cluster__n_clusters": [5, 6, 7]},
        scoring=make_silhouette_scorer(),
        cv=WholeSetSplit(),
    ).fit(files)
    result["grid_best_params"] = grid.best_params_
    result["grid_ari"] = float(adjusted_rand_score(classes, grid.predict(files)))

    # 4. the command line
    out = tmp / "demo_out"
    command = [sys.executable, "-m", "robustkmeans", "demo", "--device", "cuda"]
    command += ["--weights", weights, "--out", str(out), "--no-progress"]
    proc = subprocess.run(command, capture_output=True, text=True)
    result["cli_demo_returncode"] = proc.returncode
    result["cli_demo_output"] = (proc.stdout + proc.stderr)[-1000:]
    result["cli_demo_report_written"] = (out / "report.html").is_file()

    record_end(env)
    payload = {"environment": env, "package": package_state(), "result": result}
    output = args.output or RESULTS_DIR / "check_cuda.json"
    write_json(output, payload)
    for key, value in result.items():
        if key != "cli_demo_output":
            print(f"{key}: {value}")
    print(f"wrote {output}")
    ok = same and proc.returncode == 0 and result["cli_demo_report_written"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
