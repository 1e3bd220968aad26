import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _optional import HAS_TORCH, requires_torch, unreadable_folders
from PIL import Image

from robustkmeans._losses import LOSS_NAMES
from robustkmeans.cli import main

#: the quickest VGG16 features: random weights, small images (needs PyTorch)
FAST = ["--weights", "random", "--image-size", "32", "--no-progress", "--n-init", "1"]
#: the features of the tests whose subject is not the features: FAST where PyTorch is
#: installed, else colour histograms, so that these tests run without it too
QUICK = FAST if HAS_TORCH else ["--features", "histogram", "--no-progress", "--n-init", "1"]


def _png_bytes(seed):
    """A small PNG image's bytes."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    rng = np.random.RandomState(seed)
    Image.fromarray(rng.randint(0, 255, (8, 8, 3)).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _photos(tmp_path, monkeypatch, n, folder="photos"):
    """``n`` small PNGs in ``tmp_path/folder``, the working folder being ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / folder).mkdir()
    for i in range(n):
        (tmp_path / folder / f"{i}.png").write_bytes(_png_bytes(i))


def _assert_refused(argv, message, capsys, tmp_path):
    """``argv`` is a usage error (exit 2) saying ``message``, and writes nothing."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def _make_images(folder: Path, n_per_class=5, size=40, seed=0):
    """Two subfolders of generated images: reddish blobs and green stripes."""
    rng = np.random.RandomState(seed)
    for name in ("red", "green"):
        (folder / name).mkdir(parents=True)
        for i in range(n_per_class):
            if name == "red":
                array = rng.normal((200, 40, 40), 30, size=(size, size, 3))
            else:
                array = rng.normal((40, 160, 40), 30, size=(size, size, 3))
                array[::5] = 250
            image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
            image.save(folder / name / f"{name}_{i}.{'png' if i % 2 else 'jpg'}")
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _digests(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _assert_report_references_every_figure(out: Path):
    report = (out / "report.html").read_text()
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures
    for name in figures:
        assert f'alt="{name}"' in report
    assert report.count("data:image/png;base64,") == len(figures)
    assert "<script" not in report and 'src="http' not in report  # self-contained
    assert not list(out.glob(".*tmp"))  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "report.html").stat().st_mode & 0o777 == 0o666 & ~umask
    return report, figures


@pytest.fixture
def image_dir(tmp_path):
    folder = tmp_path / "images"
    paths = _make_images(folder)
    return folder, paths


@requires_torch
def test_cluster_end_to_end(image_dir, tmp_path, capsys):
    folder, paths = image_dir
    before = _digests(paths)
    out = tmp_path / "out"
    status = main(["cluster", str(folder), "--k", "2", "--loss", "huber", "--out", str(out), *FAST])
    assert status == 0
    assert _digests(paths) == before  # inputs untouched

    rows = _read_csv(out / "labels.csv")
    assert list(rows[0]) == ["file", "cluster", "cost"]
    assert sorted(r["file"] for r in rows) == sorted(str(p.relative_to(folder)) for p in paths)
    assert {int(r["cluster"]) for r in rows} == {0, 1}
    assert all(np.isfinite(float(r["cost"])) and float(r["cost"]) >= 0 for r in rows)

    report, figures = _assert_report_references_every_figure(out)
    assert figures == ["representatives.png", "scatter.png", "silhouette.png"]
    assert "huber" in report and "adjusted_rand" in report  # labelled by subfolders
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["k"] == 2 and sum(summary["cluster_sizes"]) == len(paths)
    assert summary["metrics"]["adjusted_rand"] == 1.0
    assert "RANDOM weights" in capsys.readouterr().out  # never silent about random weights
    # the scale the fit used (--delta auto: estimated), in the summary and the report
    delta = summary["scale"]["delta"]
    assert delta > 0 and f"<td>{delta:.4g}</td>" in report.replace("\n", "")


@requires_torch
def test_cluster_searches_k(image_dir, tmp_path):
    folder, paths = image_dir
    out = tmp_path / "out"
    status = main(
        [
            "cluster",
            str(folder),
            "--k",
            "auto",
            "--k-range",
            "2:4",
            "--loss",
            "absolute",
            "--out",
            str(out),
            *FAST,
        ]
    )
    assert status == 0
    _, figures = _assert_report_references_every_figure(out)
    assert "k_selection.png" in figures
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k_selection"]["k"] == [2, 3, 4]
    assert summary["metrics"]["k"] == summary["k_selection"]["best_k"]["silhouette"] == 2
    assert len(_read_csv(out / "labels.csv")) == len(paths)


@requires_torch
@pytest.mark.parametrize("device_args", [[], ["--device", "auto"]], ids=["default", "auto"])
def test_summary_and_report_record_what_reproduces_the_run(
    image_dir, tmp_path, capsys, device_args
):
    # the seed, the initialisations, the input size, the k searched and the command
    # line were in neither. The device: without --device it is the CPU, also where
    # a GPU is (the test expected the GPU there and failed on a CUDA machine);
    # --device auto records what it resolved to
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:40", "--out", str(out)]
    argv += [*FAST, "--random-state", "7", *device_args]
    on_gpu = bool(device_args) and pytest.importorskip("torch").cuda.is_available()
    assert main(argv) == 0
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert settings == {
        "k_range_searched": list(range(2, 10)),  # below the 10 images
        "image_folder": str(folder.resolve()),
        "n_init": 1,
        "random_state": 7,
        "image_size": 32,
        "device": "cuda" if on_gpu else "cpu",
        "command": "robustkmeans " + " ".join(argv),
    }
    report = (out / "report.html").read_text()
    for header in ("k range searched", "n_init", "random_state", "image_size", "device", "command"):
        assert f"<th>{header}</th>" in report
    assert "<td>2, 3, 4, 5, 6, 7, 8, 9</td>" in report
    capsys.readouterr()
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("robustkmeans 0.")


def test_cluster_k_search_uses_one_scale_for_every_k(image_dir, tmp_path):
    # --delta auto is resolved once for the whole search (estimated per k, the
    # objectives behind the elbow were costs under different losses); the summary
    # records it, and the chosen fit uses it
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:4", "--loss", "huber"]
    assert main([*argv, "--out", str(out), *QUICK]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["scale"]) == {"delta"}
    assert summary["k_selection"]["params"]["delta"] == summary["scale"]["delta"]


def test_cluster_subsamples_silhouette_for_many_images(image_dir, tmp_path):
    folder, paths = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:3", "--out", str(out)]
    assert main([*argv, "--silhouette-sample-size", "6", *QUICK]) == 0
    report = (out / "report.html").read_text()
    assert "random subsample of 6 of 10 images" in report
    assert "<th>silhouette on</th>" in report  # (in the Settings, beside the metrics)
    summary = json.loads((out / "summary.json").read_text())
    assert np.isfinite(summary["metrics"]["silhouette"])
    assert len(_read_csv(out / "labels.csv")) == len(paths)  # every image is clustered


def test_cluster_flat_folder_without_labels(tmp_path):
    folder = tmp_path / "flat"
    nested = _make_images(tmp_path / "nested", n_per_class=3)
    folder.mkdir()
    for path in nested:
        (folder / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "out"
    assert main(["cluster", str(folder), "--k", "2", "--out", str(out), *QUICK]) == 0
    assert len(_read_csv(out / "labels.csv")) == 6
    assert "adjusted_rand" not in json.loads((out / "summary.json").read_text())["metrics"]


def test_compare_losses_end_to_end(image_dir, tmp_path):
    folder, paths = image_dir
    before = _digests(paths)
    out = tmp_path / "out"
    assert main(["compare-losses", str(folder), "--k", "2", "--out", str(out), *QUICK]) == 0
    assert _digests(paths) == before
    rows = _read_csv(out / "labels.csv")
    assert list(rows[0]) == ["file", "loss", "cluster", "cost"]
    assert len(rows) == len(LOSS_NAMES) * len(paths)
    assert {r["loss"] for r in rows} == set(LOSS_NAMES)
    report, figures = _assert_report_references_every_figure(out)
    assert figures == ["compare_losses.png"]
    assert all(loss in report for loss in LOSS_NAMES)
    # each loss's scale as used (auto: estimated) is shown with its row
    assert all(f"{name}=" in report for name in ("delta", "sigma", "epsilon"))


def test_compare_losses_draws_the_largest_clusters_only_beyond_the_cap(
    image_dir, tmp_path, monkeypatch
):
    # one column per cluster in every loss's row: 40 clusters took 15 s to draw
    # and save; compare_losses.png draws the _MAX_COMPARED_CLUSTERS largest of
    # the first loss, and their counterparts, and says so
    from robustkmeans import cli

    drawn = []
    figure_png = cli._figure_png

    def record(figure):
        drawn.append([len([a for a in sub.axes if a.get_images()]) for sub in figure.subfigs])
        return figure_png(figure)

    monkeypatch.setattr(cli, "_MAX_COMPARED_CLUSTERS", 2)
    monkeypatch.setattr(cli, "_figure_png", record)
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["compare-losses", str(folder), "--k", "3", "--out", str(out), *QUICK]
    assert main(argv) == 0
    assert drawn == [[2] * len(LOSS_NAMES)]  # two thumbnails in each loss's row
    report = (out / "report.html").read_text()
    caption = re.search(r"<figcaption>([^<]*)<code>compare_losses.png", report).group(1)
    assert "the 2 largest clusters of the first loss (square) of 3" in caption
    monkeypatch.setattr(cli, "_MAX_COMPARED_CLUSTERS", 3)
    drawn.clear()
    assert main(argv) == 0
    assert drawn == [[3] * len(LOSS_NAMES)]
    assert "largest clusters" not in (out / "report.html").read_text()


def test_compare_losses_report_says_when_silhouettes_are_of_a_subsample(image_dir, tmp_path):
    # cluster's report said so (its silhouette figure's caption); compare-losses',
    # whose table lists a silhouette per loss, did not
    folder, _ = image_dir
    argv = ["compare-losses", str(folder), "--k", "2", "--features", "histogram"]
    argv += ["--no-progress", "--n-init", "1"]
    out = tmp_path / "sub"
    assert main([*argv, "--silhouette-sample-size", "6", "--out", str(out)]) == 0
    report = (out / "report.html").read_text()
    assert "<th>silhouette on</th>" in report
    assert "a random subsample of 6 of 10 images (--silhouette-sample-size)" in report
    out = tmp_path / "all"
    assert main([*argv, "--out", str(out)]) == 0
    assert "silhouette on" not in (out / "report.html").read_text()


def test_compare_losses_scores_every_loss_with_one_named_metric(image_dir, tmp_path, capsys):
    # absolute was scored with the Manhattan distance and the others with the
    # Euclidean one, so equal labels got different silhouettes in one table.
    folder, _ = image_dir
    out = tmp_path / "out"
    assert main(["compare-losses", str(folder), "--k", "2", "--out", str(out), *QUICK]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if "silhouette=" in line]
    assert len(printed) == len(LOSS_NAMES)
    assert all(line.endswith("(euclidean) ARI=1.000") for line in printed)
    assert len({line.split(":")[1] for line in printed}) == 1  # same labels, same silhouette
    report = (out / "report.html").read_text()
    assert "<th>silhouette metric</th>" in report
    assert report.count("<td>euclidean</td>") == len(LOSS_NAMES) and "manhattan" not in report

    single = tmp_path / "single"
    argv = ["cluster", str(folder), "--k", "2", "--loss", "absolute", "--out", str(single)]
    assert main([*argv, *QUICK]) == 0
    summary = json.loads((single / "summary.json").read_text())
    assert summary["metrics"]["silhouette_metric"] == "manhattan"  # the one loss's own
    assert "(manhattan)" in capsys.readouterr().out


def test_quantize(tmp_path):
    rng = np.random.RandomState(0)
    source = tmp_path / "photo.png"
    Image.fromarray(rng.randint(0, 256, size=(30, 40, 3)).astype(np.uint8)).save(source)
    before = source.read_bytes()
    out = tmp_path / "quantized.png"
    assert (
        main(["quantize", str(source), "--colors", "5", "--loss", "absolute", "--out", str(out)])
        == 0
    )
    assert source.read_bytes() == before
    result = np.asarray(Image.open(out))
    assert result.shape == (30, 40, 3)
    assert len(np.unique(result.reshape(-1, 3), axis=0)) <= 5


def test_deprecation_warnings_of_other_packages_are_not_printed(tmp_path, capsys, monkeypatch):
    # matplotlib 3.6 under pyparsing 3.3 gave four "'setParseAction' deprecated"
    # lines on every command: a DeprecationWarning is for the developers of the
    # code that triggers it (Python shows it for __main__'s only), not for the user
    import robustkmeans._quantize as quantize_module

    quantize_colors = quantize_module.quantize_colors

    def warning_quantize(*args, **kwargs):
        for module in ("pyparsing", "matplotlib._fontconfig_pattern"):
            warnings.warn_explicit(
                "'parseString' deprecated", DeprecationWarning, module, 1, module
            )
        warnings.warn("a user warning", UserWarning, stacklevel=2)
        return quantize_colors(*args, **kwargs)

    monkeypatch.setattr(quantize_module, "quantize_colors", warning_quantize)
    source = tmp_path / "photo.png"
    Image.fromarray(np.zeros((6, 5, 3), np.uint8)).save(source)
    assert main(["quantize", str(source), "--colors", "2", "--out", str(tmp_path / "q.png")]) == 0
    err = capsys.readouterr().err
    assert "a user warning" in err and "deprecated" not in err


def test_demo_with_colour_histograms(tmp_path, capsys):
    out = tmp_path / "demo"
    status = main(
        [
            "demo",
            "--out",
            str(out),
            "--features",
            "histogram",
            "--n-per-class",
            "3",
            "--loss",
            "absolute",
            "--no-progress",
            "--n-init",
            "2",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "colour histograms" in printed
    ari = float(re.search(r"ARI=([-0-9.]+)", printed).group(1))
    summary = json.loads((out / "summary.json").read_text())
    assert ari == pytest.approx(summary["metrics"]["adjusted_rand"], abs=1e-3)
    assert summary["metrics"]["k"] == 6  # one cluster per class
    assert ari > 0.5
    assert len(list((out / "images").rglob("*.png"))) == 18
    _assert_report_references_every_figure(out)


def _error_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    return lines[0]


def test_user_errors_exit_non_zero_with_one_line(tmp_path, image_dir, capsys):
    folder, _ = image_dir
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["cluster", str(empty), "--k", "2", "--out", str(tmp_path / "o"), *QUICK]) == 1
    assert "no images found" in _error_line(capsys)

    assert main(["cluster", str(folder), "--k", "50", "--out", str(tmp_path / "o"), *QUICK]) == 1
    assert "larger than the number of images (10 image files found)" in _error_line(capsys)

    bad = tmp_path / "bad"
    _make_images(bad, n_per_class=2)
    (bad / "red" / "notes.jpg").write_text("this is not an image")
    assert main(["cluster", str(bad), "--k", "2", "--out", str(tmp_path / "o"), *QUICK]) == 1
    assert "notes.jpg" in _error_line(capsys)

    assert main(["cluster", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 1
    assert f"{str(tmp_path / 'missing')!r} does not exist; give a folder" in _error_line(capsys)
    assert main(["cluster", str(bad / "red" / "notes.jpg"), "--out", str(tmp_path / "o")]) == 1
    assert "notes.jpg' is not a folder; give a folder of images" in _error_line(capsys)

    source = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(source)
    assert main(["quantize", str(source), "--out", str(source)]) == 1
    assert "never modified" in _error_line(capsys)
    assert not (tmp_path / "o" / "report.html").exists()


@pytest.mark.parametrize(
    "features", [["--features", "histogram"], pytest.param(FAST, marks=requires_torch)]
)
def test_on_error_skip_lists_unreadable_images(tmp_path, capsys, features):
    folder = tmp_path / "images"
    paths = _make_images(folder, n_per_class=3)
    (folder / "green" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--on-error", "skip"]
    assert main([*argv, *features, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "skipped 1 unreadable image(s)" in err
    # each with why it was skipped, as --on-error raise says (the reason was not given)
    reason = "the image data is corrupt (Truncated File Read)"
    assert f"broken.png ({reason}" in err
    rows = _read_csv(out / "labels.csv")
    assert sorted(r["file"] for r in rows) == sorted(str(p.relative_to(folder)) for p in paths)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == [str(Path("green") / "broken.png")]
    report = (out / "report.html").read_text()
    assert f"<li><code>{Path('green') / 'broken.png'}</code>: {reason}" in report

    assert main([*argv[:-2], *features, "--no-progress"]) == 1  # the default raises
    assert "broken.png" in _error_line(capsys)


def test_unreadable_subfolders_are_listed_as_unreadable_images_are(tmp_path, capsys, monkeypatch):
    # a folder that cannot be listed was skipped without a word, even with
    # --on-error raise: its class vanished and the run scored the images left
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=3)
    (folder / "green" / "locked").mkdir()
    (folder / "blue").mkdir()
    for i, path in enumerate(["green/locked/0.png", "blue/0.png", "blue/1.png"]):
        (folder / path).write_bytes(_png_bytes(i))
    unreadable_folders(monkeypatch, folder / "green" / "locked", folder / "blue")
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), *QUICK]
    assert main(argv) == 1
    locked = os.path.join("green", "locked")
    assert _error_line(capsys).endswith(
        f"error: 2 folder(s) in {str(folder)!r} cannot be read: blue (Permission denied); "
        f"{locked} (Permission denied). Give read permission to them or move them out, or "
        "pass --on-error skip to cluster the images of the others."
    )
    assert not out.exists()
    assert main([*argv, "--on-error", "skip"]) == 0
    note = (
        f"skipped 2 unreadable folder(s) and the images in them: blue (Permission denied), "
        f"{locked} (Permission denied)"
    )
    assert capsys.readouterr().err.splitlines() == [f"robustkmeans cluster: {note}"]
    assert json.loads((out / "summary.json").read_text())["notes"] == [note]
    assert len(_read_csv(out / "labels.csv")) == 6  # red and green, scored
    # with the only class unreadable, the run said "no images found", not why
    shutil.rmtree(folder / "red")
    shutil.rmtree(folder / "green")
    assert main(argv) == 1
    assert "1 folder(s) in" in _error_line(capsys)
    assert main([*argv, "--on-error", "skip"]) == 1
    assert "no images found" in capsys.readouterr().err.splitlines()[-1]


def test_a_broken_link_in_a_folder_without_classes_is_listed_as_missing(tmp_path, capsys):
    # in a class subfolder such a link was named as missing, but lying directly in
    # the folder it was left out without a word: 12 images clustered, not 13
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.png").write_bytes(_png_bytes(i))
    (folder / "gone.png").symlink_to(tmp_path / "moved-away.png")
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 1
    line = _error_line(capsys)
    assert "1 of 5 image(s) cannot be read" in line
    target = str(tmp_path / "moved-away.png")
    assert f"gone.png (file not found: it is a symbolic link to {target!r}, which" in line
    assert main([*argv, "--no-progress", "--on-error", "skip"]) == 0
    assert json.loads((out / "summary.json").read_text())["skipped"] == ["gone.png"]


@requires_torch
def test_missing_weights_is_a_clear_error(image_dir, tmp_path, capsys, monkeypatch):
    folder, _ = image_dir
    monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", str(tmp_path / "nope.pth"))
    assert main(["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o")]) == 1
    assert "nope.pth" in _error_line(capsys)


@pytest.mark.parametrize("command", [[], ["cluster"], ["compare-losses"], ["quantize"], ["demo"]])
def test_help_on_every_subcommand(command, capsys):
    assert main([*command, "--help"]) == 0
    assert "usage: robustkmeans" in capsys.readouterr().out


def test_bad_arguments_are_usage_errors(capsys):
    assert main(["cluster", "x", "--out", "o", "--k", "zero"]) == 2
    assert "expected an integer or 'auto'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, usage, message",
    [
        (
            ["cluster", "x", "--out", "o", "--delat", "0.5"],
            "usage: robustkmeans cluster ",
            "robustkmeans cluster: error: unrecognized arguments: --delat 0.5 "
            "(did you mean --delta?)",
        ),
        (
            ["quantize", "photo.png", "--out", "q.png", "--colours", "8"],
            "usage: robustkmeans quantize ",
            "robustkmeans quantize: error: unrecognized arguments: --colours 8 "
            "(did you mean --colors?)",
        ),
        (
            ["demo", "--out", "d", "--frobnicate"],
            "usage: robustkmeans demo ",
            "robustkmeans demo: error: unrecognized arguments: --frobnicate",
        ),
    ],
)
def test_a_misspelt_option_is_named_with_its_command_and_the_likely_option(
    argv, usage, message, capsys
):
    # argparse reported it for the top-level parser ("usage: robustkmeans [-h]
    # [--version] COMMAND ...", "robustkmeans: error: unrecognized arguments"),
    # without the options of the command it belongs to
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage)
    assert err.splitlines()[-1] == message


@pytest.mark.parametrize(
    "argv",
    [
        ["cluster", "photos", "--k", "3"],
        ["compare-losses", "photos", "--k", "3"],
        ["demo"],
        ["quantize", "photo.png"],
    ],
)
def test_empty_out_is_a_usage_error(argv, tmp_path, capsys, monkeypatch):
    # --out "" wrote into the current folder
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", ""]) == 2
    assert "argument --out: expected a path, got an empty string" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("module", ["robustkmeans.cli", "robustkmeans"])
def test_console_module_runs(module, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", module, "quantize", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--colors" in result.stdout
    # the exit status of main reaches the shell: 1 for a user error, 2 for a usage error
    missing = [sys.executable, "-m", module, "quantize", str(tmp_path / "no.png")]
    result = subprocess.run(
        [*missing, "--out", str(tmp_path / "q.png")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and "does not exist" in result.stderr
    result = subprocess.run(missing, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--out" in result.stderr


WEIGHTS = Path(__file__).resolve().parents[1].parent / "shared" / "weights"
WEIGHTS = WEIGHTS / "vgg16_features_imagenet1k_v1.pth"


@pytest.mark.slow
@pytest.mark.skipif(not WEIGHTS.is_file(), reason="real VGG16 weights not available")
@requires_torch
def test_demo_with_real_vgg16_weights_recovers_the_classes(tmp_path, capsys):
    out = tmp_path / "demo"
    status = main(
        [
            "demo",
            "--out",
            str(out),
            "--weights",
            str(WEIGHTS),
            "--n-per-class",
            "5",
            "--no-progress",
            "--n-init",
            "2",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert f"VGG16 weights from {WEIGHTS}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["adjusted_rand"] > 0.9


@pytest.mark.parametrize(
    "option, message",
    [
        (["--delta", "wide"], "expected a number or 'auto', got 'wide'"),
        (["--k", "2.5"], "expected an integer or 'auto', got '2.5'"),
        (["--k", "0"], "k must be at least 1, got 0"),
    ],
)
def test_numbers_or_auto_are_checked_by_the_parser(option, message, capsys):
    assert main(["cluster", "x", "--out", "o", *option]) == 2
    assert message in capsys.readouterr().err


def test_parser_reads_auto_and_numbers_alike_for_every_clustering_command():
    from robustkmeans.cli import build_parser

    parser = build_parser()
    for argv in (["cluster", "d", "--out", "o"], ["compare-losses", "d", "--out", "o"]):
        args = parser.parse_args([*argv, "--delta", "0.5", "--sigma", "auto"])
        assert (args.delta, args.sigma, args.epsilon) == (0.5, "auto", "auto")
        assert args.features == "vgg16" and args.func.__name__.startswith("_cmd_")
    args = parser.parse_args(["demo", "--out", "o", "--k", "auto"])
    assert args.k == "auto" and args.features == "auto" and args.loss == "huber"
    assert not hasattr(parser.parse_args(["compare-losses", "d", "--out", "o"]), "loss")


def test_rerun_into_same_folder_and_warnings_in_one_line(image_dir, tmp_path, capsys):
    image_dir, _ = image_dir
    out = tmp_path / "out"
    common = ["--features", "histogram", "--no-progress", "--out", str(out)]
    assert main(["cluster", str(image_dir), "--k", "auto", "--k-range", "2:40", *common]) == 0
    err = capsys.readouterr().err
    assert "--k-range limited to" in err
    assert (out / "k_selection.png").is_file()
    # a fixed-k run into the same folder drops the figure its report no longer shows
    assert main(["cluster", str(image_dir), "--k", "2", *common]) == 0
    assert not (out / "k_selection.png").exists()
    _assert_report_references_every_figure(out)
    # warnings are single lines, without Python's source excerpt
    assert all(line.startswith("robustkmeans") for line in capsys.readouterr().err.splitlines())


@pytest.mark.parametrize("command", ["cluster", "compare-losses"])
def test_out_inside_the_image_folder_is_refused(image_dir, tmp_path, capsys, command):
    folder, paths = image_dir
    before = _digests(paths)
    link = tmp_path / "link"
    link.symlink_to(folder / "red", target_is_directory=True)
    for out in (folder, folder / "report", folder / "red", link, link / "deeper"):
        argv = [command, str(folder), "--k", "2", "--out", str(out), *QUICK]
        assert main(argv) == 1
        assert "inside the image folder" in _error_line(capsys)
    assert sorted(p for p in folder.rglob("*")) == sorted(
        [*paths, folder / "red", folder / "green"]
    )
    assert _digests(paths) == before
    # a sibling whose name starts like the image folder's is fine
    assert main(["cluster", str(folder), "--k", "2", "--out", f"{folder}-out", *QUICK]) == 0


@pytest.mark.parametrize("flag", ["--out", "--cache"])
def test_folders_through_the_image_folder_leave_nothing_in_it(image_dir, tmp_path, flag):
    # "images/new/../../elsewhere": makedirs created images/new on the way, an
    # empty folder left in the images (a user review); the folder meant is created
    folder, paths = image_dir
    through = f"{folder}/new/deeper/../../../elsewhere/{flag[2:]}"
    out = str(tmp_path / "o") if flag == "--cache" else through
    argv = ["cluster", str(folder), "--k", "2", "--out", out, *FAST]
    assert main([*argv, "--cache", through] if flag == "--cache" else argv) == 0
    assert sorted(folder.rglob("*")) == sorted([*paths, folder / "red", folder / "green"])
    assert (folder.parent / "elsewhere" / flag[2:]).is_dir()


def test_failed_run_leaves_the_previous_outputs_intact(image_dir, tmp_path, capsys, monkeypatch):
    from robustkmeans import plotting

    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main([*argv, "--k", "2"]) == 0
    before = _digests(sorted(out.iterdir()))

    def broken(*args, **kwargs):
        raise RuntimeError("scatter failed")

    monkeypatch.setattr(plotting.ClusterScatterDisplay, "from_estimator", broken)
    assert main([*argv, "--k", "3"]) == 1  # fails after the labels are known
    assert "scatter failed" in _error_line(capsys)
    assert _digests(sorted(out.iterdir())) == before  # labels.csv included: still k=2
    assert not list(out.glob(".*tmp"))


def test_outputs_of_an_earlier_run_are_removed(image_dir, tmp_path):
    folder, _ = image_dir
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "photo.png").write_bytes(b"not written by robustkmeans")
    common = [str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main(["compare-losses", *common, "--k", "2"]) == 0
    assert (out / "compare_losses.png").is_file()
    assert main(["cluster", *common, "--k", "2"]) == 0
    assert (out / "silhouette.png").is_file() and not (out / "compare_losses.png").exists()
    # one cluster: no silhouette, so the earlier silhouette.png must go too
    assert main(["cluster", *common, "--k", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(p.name for p in out.glob("*.png")) == sorted([*summary["figures"], "photo.png"])
    assert not (out / "silhouette.png").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert main(["compare-losses", *common, "--k", "2"]) == 0
    assert not (out / "summary.json").exists()  # it described the cluster run
    assert sorted(p.name for p in out.iterdir()) == [
        ".robustkmeans-outputs.json",
        "compare_losses.png",
        "labels.csv",
        "notes.txt",
        "photo.png",
        "report.html",
    ]
    manifest = json.loads((out / ".robustkmeans-outputs.json").read_text())
    assert manifest["files"] == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for name in ("compare_losses.png", "labels.csv", "report.html")
    }


def _notes(err):
    return [line for line in err.splitlines() if ": note: left " in line]


def test_files_of_an_output_name_not_written_by_the_command_are_kept(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    out = tmp_path / "results"
    out.mkdir()
    (out / "summary.json").write_text('{"my": "own data"}')
    (out / "silhouette.png").write_text("notes")
    common = [str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main(["compare-losses", *common, "--k", "2"]) == 0
    assert (out / "summary.json").read_text() == '{"my": "own data"}'
    assert (out / "silhouette.png").read_text() == "notes"
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 2
    assert "silhouette.png" in notes[0] and "summary.json" in notes[1]
    assert all(line.startswith("robustkmeans compare-losses: note:") for line in notes)
    # a later run overwrites summary.json (it writes one) but still not silhouette.png,
    # which no manifest lists
    assert main(["cluster", *common, "--k", "1"]) == 0
    assert json.loads((out / "summary.json").read_text())["metrics"]["k"] == 1
    assert (out / "silhouette.png").read_text() == "notes"
    assert ["silhouette.png" in line for line in _notes(capsys.readouterr().err)] == [True]


def test_a_stale_output_changed_since_is_kept(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    out = tmp_path / "out"
    common = [str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main(["cluster", *common, "--k", "auto", "--k-range", "2:3"]) == 0
    assert (out / "silhouette.png").is_file()
    with open(out / "k_selection.png", "ab") as f:
        f.write(b"edited")
    edited = (out / "k_selection.png").read_bytes()
    capsys.readouterr()
    assert main(["cluster", *common, "--k", "1"]) == 0  # writes neither figure
    assert not (out / "silhouette.png").exists()  # ours and unchanged: removed
    assert (out / "k_selection.png").read_bytes() == edited  # changed since: kept
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 1 and str(out / "k_selection.png") in notes[0]
    assert not [p for p in out.iterdir() if p.name.endswith((".tmp", ".bak"))]


def test_a_folder_in_place_of_an_output_changes_no_output(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main([*argv, "--k", "auto", "--k-range", "2:3"]) == 0
    capsys.readouterr()  # (that run's notes)
    (out / "scatter.png").unlink()
    (out / "scatter.png").mkdir()
    files = sorted(p for p in out.iterdir() if p.is_file())
    before = _digests(files)
    assert main([*argv, "--k", "3"]) == 1
    line = _error_line(capsys)
    assert "scatter.png" in line and "is a folder" in line and "no output was changed" in line
    assert sorted(p for p in out.iterdir() if p.is_file()) == files
    assert _digests(files) == before
    assert (out / "scatter.png").is_dir()


def test_a_failed_replacement_restores_the_previous_outputs(
    image_dir, tmp_path, capsys, monkeypatch
):
    from robustkmeans import cli

    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main([*argv, "--k", "auto", "--k-range", "2:3"]) == 0
    capsys.readouterr()  # (that run's notes)
    files = sorted(out.iterdir())
    before = _digests(files)
    replace = os.replace
    seen = []

    def failing(src, dst):
        seen.append(Path(dst).name)
        # once, for the last output: after the others and the stale figures moved
        if Path(dst).name == "summary.json" and seen.count("summary.json") == 1:
            raise OSError("disk full")
        return replace(src, dst)

    monkeypatch.setattr(cli.os, "replace", failing)
    assert main([*argv, "--k", "1"]) == 1
    assert "disk full" in _error_line(capsys)
    placed = list(dict.fromkeys(name for name in seen if not name.startswith(".")))
    assert placed[-2:] == ["report.html", "summary.json"]  # the page and summary last
    monkeypatch.setattr(cli.os, "replace", replace)
    assert sorted(out.iterdir()) == files  # no backup or temporary file left
    assert _digests(files) == before  # k_selection.png and silhouette.png back too


@pytest.mark.parametrize("command", ["cluster", "compare-losses"])
def test_one_image_is_a_clear_error(tmp_path, capsys, command):
    folder = tmp_path / "one"
    folder.mkdir()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(folder / "only.png")
    out = tmp_path / "out"
    argv = [command, str(folder), "--k", "1", "--out", str(out), "--features", "histogram"]
    assert main(argv) == 1
    assert "needs at least 2 images (1 image file found)" in _error_line(capsys)
    # the same when the other images cannot be read
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert main([*argv, "--on-error", "skip"]) == 1
    assert "needs at least 2 images (1 readable image, 1 unreadable skipped)" in (
        capsys.readouterr().err
    )
    assert not out.exists()


def test_report_and_k_search_share_the_silhouette_subsample(image_dir, tmp_path):
    folder, _ = image_dir
    common = [str(folder), "--features", "histogram", "--no-progress", "--n-init", "1"]
    common += ["--silhouette-sample-size", "6", "--random-state", "3"]
    out = tmp_path / "auto"
    assert main(["cluster", *common, "--k", "auto", "--k-range", "2:4", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    search = summary["k_selection"]
    k = summary["metrics"]["k"]
    listed = search["silhouette"][search["k"].index(k)]
    assert summary["metrics"]["silhouette"] == pytest.approx(listed, abs=1e-12)
    for k_fixed in search["k"]:  # a run with that k shows what the search listed for it
        out = tmp_path / f"k{k_fixed}"
        assert main(["cluster", *common, "--k", str(k_fixed), "--out", str(out)]) == 0
        fixed = json.loads((out / "summary.json").read_text())["metrics"]["silhouette"]
        listed = search["silhouette"][search["k"].index(k_fixed)]
        assert fixed == pytest.approx(listed, abs=1e-12)


def test_silhouette_of_a_subsample_of_singletons_is_not_available(image_dir, tmp_path, capsys):
    folder, paths = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "9", "--silhouette-sample-size", "3", "--out", str(out)]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0
    assert "silhouette=n/a" in capsys.readouterr().out
    assert len(_read_csv(out / "labels.csv")) == len(paths)
    assert not (out / "silhouette.png").exists()


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_summary_is_strict_json_with_null_for_undefined_metrics(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--out", str(out), "--features", "histogram", "--n-per-class", "1"]
    assert main([*argv, "--no-progress", "--n-init", "1"]) == 0  # 6 images, 6 clusters
    summary = _strict_json(out / "summary.json")
    assert summary["metrics"]["silhouette"] is None
    assert summary["metrics"]["calinski_harabasz"] is None
    assert "silhouette=n/a" in capsys.readouterr().out
    assert "n/a" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare-losses", "d", "--k", "auto"], "compare-losses needs a number of clusters"),
        (["compare-losses", "d", "--k", "0"], "k must be at least 1, got 0"),
        (["compare-losses", "d", "--k", "2.5"], "expected an integer, got '2.5'"),
        (["cluster", "d", "--n-representatives", "-1"], "expected an integer >= 1, got '-1'"),
        (["demo", "--n-representatives", "0"], "expected an integer >= 1, got '0'"),
        (["cluster", "d", "--silhouette-sample-size", "-1"], "expected 0 (use all images)"),
        (["cluster", "d", "--silhouette-sample-size", "2"], "or an integer >= 3, got '2'"),
    ],
)
def test_counts_are_checked_by_the_parser(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", "o"]) == 2  # before any image is read
    assert not list(tmp_path.iterdir())
    assert message in capsys.readouterr().err


def test_quantize_a_folder_says_so(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    assert main(["quantize", str(folder), "--out", str(tmp_path / "q.png")]) == 1
    line = _error_line(capsys)
    assert "is a folder; quantize takes one image file" in line
    assert "does not exist" not in line


def test_k_criterion_without_an_answer_warns_and_names_the_fallback(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:3", "--k-criterion", "elbow"]
    assert main([*argv, "--out", str(out), "--features", "histogram", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: --k-criterion elbow chose no k" in err
    assert "from the silhouette criterion instead" in err
    summary = json.loads((out / "summary.json").read_text())
    search = summary["k_selection"]
    assert search["best_k"]["elbow"] is None
    assert (search["requested_criterion"], search["criterion"]) == ("elbow", "silhouette")
    assert summary["metrics"]["k"] == search["best_k"]["silhouette"]
    report = (out / "report.html").read_text()
    assert "criterion silhouette; --k-criterion elbow chose none" in report


def test_one_class_with_images_is_not_scored(tmp_path, capsys):
    photos = tmp_path / "photos"
    _make_images(photos, n_per_class=3)
    for path in (photos / "green").iterdir():
        path.unlink()  # an empty class subfolder
    common = ["--k", "2", "--features", "histogram", "--no-progress"]
    out = tmp_path / "out"
    assert main(["cluster", str(photos), "--out", str(out), *common]) == 0
    assert "ARI" not in capsys.readouterr().out
    assert "adjusted_rand" not in json.loads((out / "summary.json").read_text())["metrics"]

    # the other class's images all unreadable: skipped, and one class is left
    for i in range(2):
        (photos / "green" / f"broken{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    argv = ["cluster", str(photos), "--out", str(out), "--on-error", "skip", *common]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "ARI" not in captured.out
    assert "only one subfolder has readable images" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert "adjusted_rand" not in summary["metrics"] and len(summary["skipped"]) == 2


def test_classes_are_counted_from_the_labels_not_the_names(tmp_path, capsys, monkeypatch):
    from robustkmeans import _images

    load = _images.load_image_folder

    def with_an_empty_class(*args, **kwargs):  # as the loader once listed empty subfolders
        data = load(*args, **kwargs)
        data.target_names = [*data.target_names, "zz_empty"]
        return data

    monkeypatch.setattr(_images, "load_image_folder", with_an_empty_class)
    photos = tmp_path / "photos"
    _make_images(photos, n_per_class=3)
    for path in (photos / "green").iterdir():
        path.unlink()
    (photos / "green").rmdir()
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    assert "ARI" not in capsys.readouterr().out


@pytest.mark.parametrize("command", ["cluster", "compare-losses"])
def test_file_names_that_are_not_utf8_are_written_safely(tmp_path, capsys, command):
    folder = tmp_path / os.fsdecode(b"photos\xe9")  # a Latin-1 folder name
    try:
        folder.mkdir()
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    _make_images(folder, n_per_class=2)
    bad = os.fsdecode(b"red/bad\xff\xfe.png")
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(folder / bad, format="PNG")
    out = tmp_path / os.fsdecode(b"out\xff")
    assert main([command, str(folder), "--k", "2", "--out", str(out), *QUICK]) == 0
    assert "wrote" in capsys.readouterr().out

    # labels.csv holds the name's own bytes: it reads back as the path of the file
    with open(out / "labels.csv", newline="", errors="surrogateescape") as f:
        files = {row["file"] for row in csv.DictReader(f)}
    assert bad in files and (folder / bad).is_file()
    # the page and the summary are valid UTF-8, the bytes shown as escapes
    report = (out / "report.html").read_bytes().decode("utf-8")
    assert "photos\\xe9" in report  # in the title
    if command == "cluster":  # the clusters table names the images
        assert "bad\\xff\\xfe.png" in report
        json.loads((out / "summary.json").read_bytes().decode("utf-8"))


def test_a_class_folder_whose_name_is_not_utf8_is_drawn_with_escapes(tmp_path, capsys):
    # scatter.png's legend of the classes ended the run in matplotlib's TypeError
    # (a traceback): the name's undecodable byte reached it as a lone surrogate
    folder = tmp_path / "photos"
    _make_images(folder, n_per_class=2)
    try:
        (folder / "red").rename(folder / os.fsdecode(b"red\xff"))
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ARI=" in captured.out and captured.err == ""
    assert (out / "scatter.png").is_file()


@pytest.mark.parametrize("command", ["cluster", "compare-losses"])
def test_control_characters_in_file_names_are_escaped_in_the_report(tmp_path, capsys, command):
    # HTML forbids control characters (a parse error: html5lib refuses the page,
    # browsers draw nothing or a box); a name holding one was written as it is
    folder = tmp_path / "photos\x1b"
    _make_images(folder, n_per_class=2)
    try:
        shutil.move(folder / "red" / "red_1.png", folder / "red" / "red\x01\x7f\x85.png")
    except OSError:
        pytest.skip("the file system refuses control characters in names")
    out = tmp_path / "out"
    argv = [command, str(folder), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    capsys.readouterr()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert re.search("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]", report) is None
    assert "photos\\x1b" in report  # the title, escaped as on the terminal
    if command == "cluster":  # the clusters table names the images
        assert "red/red\\x01\\x7f\\x85.png" in report


def test_control_characters_in_names_are_escaped_on_the_terminal(tmp_path, capsys):
    # a name holding an escape sequence reached the terminal as it is, where it
    # recolours or clears the screen; it is shown escaped, as in the report
    folder = tmp_path / "photos\x1b[31m"
    paths = _make_images(folder, n_per_class=2)
    try:
        shutil.move(paths[0], folder / "red" / "x\x1b[2J.png")
    except OSError:
        pytest.skip("the file system refuses control characters in names")
    (folder / "red" / "broken\x07.png").write_bytes(b"not an image")
    out = tmp_path / "out\x1b]0;title\x07"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress", "--on-error", "skip"]) == 0
    printed = capsys.readouterr()
    for text in (printed.out, printed.err):
        assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text) is None, text
    assert "out\\x1b]0;title\\x07" in printed.out  # where the files were written
    assert "broken\\x07.png" in printed.err  # the file skipped


@pytest.mark.parametrize("criterion", ["davies_bouldin", "calinski_harabasz"])
def test_report_shows_the_k_criterion_that_chose_k(image_dir, tmp_path, criterion):
    # the table had no Davies-Bouldin column and the figure marks only the elbow
    # and the best silhouette: the report says which criterion chose which k
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:5", "--k-criterion", criterion]
    assert main([*argv, "--out", str(out), "--features", "histogram", "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    k = summary["metrics"]["k"]
    assert k == summary["k_selection"]["best_k"][criterion]
    report = (out / "report.html").read_text()
    assert "<th>davies_bouldin</th>" in report and "<th>calinski_harabasz</th>" in report
    chosen = re.findall(
        r"<tr><td>(\d+)</td>(?:<td>[^<]*</td>)*<td>chosen by (\w+)</td></tr>", report
    )
    assert chosen == [(str(k), criterion)]
    for value in summary["k_selection"][criterion]:  # every value of the criterion is listed
        assert f"<td>{value:.4g}</td>" in report
    assert f"k={k} was chosen by {criterion}" in report
    caption = re.search(r"<figcaption>([^<]*)<code>k_selection.png", report).group(1)
    assert f"k={k} was chosen by {criterion}" in caption and "does not plot" in caption


def test_k_selection_figure_title_names_the_chosen_k_its_criterion_and_the_distance(
    image_dir, tmp_path, monkeypatch
):
    # k_selection.png, read alone, was titled "Choosing k": it did not say which k
    # the run took, nor by which criterion (Calinski-Harabasz and Davies-Bouldin
    # are not plotted: the figure marks an elbow and a best silhouette that may be
    # other ks), nor the silhouette's distance (Manhattan for the absolute loss)
    from robustkmeans import cli

    titles = []
    figure_png = cli._figure_png

    def record(figure):
        titles.extend(
            axis.get_title() for axis in figure.axes if axis.get_xlabel() == "number of clusters k"
        )
        return figure_png(figure)

    monkeypatch.setattr(cli, "_figure_png", record)
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:5", "--features", "histogram"]
    argv += ["--no-progress", "--n-init", "1"]
    out = tmp_path / "ch"
    more = ["--k-criterion", "calinski_harabasz", "--loss", "absolute"]
    assert main([*argv, *more, "--out", str(out), "--silhouette-sample-size", "6"]) == 0
    k = json.loads((out / "summary.json").read_text())["metrics"]["k"]
    assert titles == [
        f"Choosing k: k={k}, chosen by calinski_harabasz (not plotted)\n"
        "(silhouette: manhattan distance, on a random subsample of 6 of 10 images)"
    ]
    titles.clear()
    out = tmp_path / "sil"
    assert main([*argv, "--out", str(out)]) == 0
    k = json.loads((out / "summary.json").read_text())["metrics"]["k"]
    assert titles == [f"Choosing k: k={k}, chosen by silhouette\n(silhouette: euclidean distance)"]


def test_k_selection_title_of_the_fallback_says_no_criterion_chose():
    from robustkmeans.cli import _k_selection_title

    assert _k_selection_title(2, "smallest k searched", "euclidean") == (
        "Choosing k: k=2, the smallest k searched (no criterion chose a k)\n"
        "(silhouette: euclidean distance)"
    )


def test_k_criterion_without_an_answer_is_shown_as_not_available(image_dir, tmp_path):
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:3", "--k-criterion", "elbow"]
    assert main([*argv, "--out", str(out), "--features", "histogram", "--no-progress"]) == 0
    report = (out / "report.html").read_text()
    assert "elbow: n/a" in report and "None" not in report
    assert "chosen by silhouette" in report and "--k-criterion elbow chose none" in report
    assert "(n/a: the criterion chose none)" in report


def test_not_available_note_only_when_a_criterion_chose_none(image_dir, tmp_path):
    # the note explaining "n/a" was printed even when every criterion chose a k
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:4"]
    assert main([*argv, "--out", str(out), "--features", "histogram", "--no-progress"]) == 0
    best_k = json.loads((out / "summary.json").read_text())["k_selection"]["best_k"]
    assert all(value is not None for value in best_k.values()), best_k
    report = (out / "report.html").read_text()
    assert "Best k per criterion: " in report
    assert "n/a" not in report.split("Best k per criterion: ")[1].split("</p>")[0]


def test_images_beside_class_subfolders_say_why_they_are_not_scored(tmp_path, capsys):
    # a stray image at the top silently turned off the scoring against the subfolders
    photos = tmp_path / "photos"
    _make_images(photos, n_per_class=3)
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(photos / "stray.png")
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ARI" not in captured.out
    assert "note: 1 image(s) lie directly in" in captured.err and "stray.png" in captured.err
    assert "not scored against the subfolders" in captured.err
    assert len(_read_csv(out / "labels.csv")) == 7  # the stray image is clustered too
    (photos / "stray.png").unlink()
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ARI=" in captured.out and "note" not in captured.err


def test_a_loose_link_to_an_image_of_a_class_is_clustered_once(tmp_path, capsys):
    # fav.png -> red/red_1.png beside the class subfolders was clustered twice (and,
    # as a loose image, turned off the scoring), where load_image_folder keeps a
    # file reached under two class folders once and says so
    photos = tmp_path / "photos"
    paths = _make_images(photos, n_per_class=3)
    try:
        (photos / "fav.png").symlink_to(Path("red") / "red_1.png")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    warning = (
        f"warning: 1 image(s) lying directly in {str(photos)!r} are the same files as "
        "images of the class subfolders (through symbolic links) and are clustered once, "
        f"in their class: fav.png (kept as {os.path.join('red', 'red_1.png')})"
    )
    assert captured.err.splitlines() == [f"robustkmeans cluster: {warning}"]
    assert json.loads((out / "summary.json").read_text())["notes"] == [warning]
    files = sorted(row["file"] for row in _read_csv(out / "labels.csv"))
    assert files == sorted(str(p.relative_to(photos)) for p in paths)
    assert "ARI=" in captured.out  # no image left outside the classes


def test_a_single_class_subfolder_says_why_it_is_not_scored(tmp_path, capsys):
    # every image in one subfolder (one class): the clusters were not scored against
    # it, without a word, where a run left with one readable class said why
    photos = tmp_path / "photos"
    _make_images(photos, n_per_class=3)
    shutil.rmtree(photos / "green")
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--k", "2", "--out", str(out), "--features", "histogram"]
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ARI" not in captured.out
    note = (
        "note: every image lies in one subfolder, 'red' (one class); the clusters are "
        "not scored against the subfolders (give each class a subfolder of its own to "
        "score them)"
    )
    assert captured.err.splitlines() == [f"robustkmeans cluster: {note}"]
    assert json.loads((out / "summary.json").read_text())["notes"] == [note]
    # beside loose images, one subfolder is no sign of classes: no note
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(photos / "loose.png")
    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ARI" not in captured.out and captured.err == ""


def test_files_left_out_for_their_extension_are_noted(tmp_path, capsys):
    # .jfif and .jpe images were skipped, and any other file too, without a note
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=3)
    for i, extension in enumerate(["jfif", "jpe"]):
        Image.open(folder / "red" / "red_0.jpg").save(folder / "red" / f"more_{i}.{extension}")
    (folder / "green" / "notes.txt").write_text("not an image")
    (folder / "green" / ".hidden").write_text("never noted")
    out = tmp_path / "o"
    argv = ["cluster", str(folder), "--k", "2", "--features", "histogram", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    files = {row["file"] for row in _read_csv(out / "labels.csv")}
    assert {os.path.join("red", "more_0.jfif"), os.path.join("red", "more_1.jpe")} <= files
    assert len(files) == 8
    err = capsys.readouterr().err
    note = "note: left out 1 file(s) whose extension is not one of an image"
    assert f"{note} ({os.path.join('green', 'notes.txt')}); the images read end in" in err
    assert ".hidden" not in err
    assert any(n.startswith(note) for n in json.loads((out / "summary.json").read_text())["notes"])


def test_hidden_folders_and_images_left_out_are_noted(tmp_path, capsys):
    # a hidden class folder and hidden images were left out without a word (a
    # user review); hidden files that are no images (.DS_Store) are not worth one
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=3)
    shutil.copytree(folder / "red", folder / ".blue")
    shutil.copy(folder / "red" / "red_0.jpg", folder / "green" / ".copy.jpg")
    (folder / "green" / ".DS_Store").write_text("finder")
    out = tmp_path / "o"
    argv = ["cluster", str(folder), "--k", "2", "--features", "histogram", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    assert len(_read_csv(out / "labels.csv")) == 6
    err = capsys.readouterr().err
    shown = f"(.blue{os.sep}, {os.path.join('green', '.copy.jpg')})"
    note = "note: left out 2 hidden folder(s) and image file(s), whose names start with '.'"
    assert f"{note} {shown}; rename those that hold images to cluster them" in err
    assert ".DS_Store" not in err


def test_the_notes_of_a_run_reach_the_report_and_summary(tmp_path, capsys):
    # the note saying why the clusters are not scored was printed on stderr only:
    # report.html showed metrics without ARI and no reason, summary.json neither
    photos = tmp_path / "photos"
    _make_images(photos, n_per_class=3)
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(photos / "stray<b>.png")
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main([*argv, "--k", "auto", "--k-range", "2:9"]) == 0
    err = capsys.readouterr().err
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert len(notes) == 2
    assert notes[0].startswith("note: 1 image(s) lie directly in") and "stray<b>.png" in notes[0]
    assert notes[1] == "note: --k-range limited to k <= 6 (there are 7 images)"
    assert [f"robustkmeans cluster: {note}" for note in notes] == err.splitlines()
    report = (out / "report.html").read_text()
    assert "<h2>Notes</h2>" in report and "stray&lt;b&gt;.png" in report  # escaped
    assert "not scored against the subfolders" in report.split("<h2>Notes</h2>")[1]

    # a clean run has an empty list, and no Notes section
    (photos / "stray<b>.png").unlink()
    assert main([*argv, "--k", "2"]) == 0
    assert json.loads((out / "summary.json").read_text())["notes"] == []
    assert "<h2>Notes</h2>" not in (out / "report.html").read_text()
    assert capsys.readouterr().err == ""


def test_the_last_line_names_every_file_written(image_dir, tmp_path, capsys):
    # "wrote out/labels.csv and out/report.html" left out summary.json and the figures
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = [str(folder), "--out", str(out), "--features", "histogram", "--no-progress"]
    assert main(["cluster", *argv, "--k", "2"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    figures = ["representatives.png", "scatter.png", "silhouette.png"]
    assert written == sorted(["labels.csv", "report.html", "summary.json", *figures])
    assert last.startswith(f"wrote {len(written)} files to {out}: ")
    assert sorted(last.split(": ", 1)[1].split(", ")) == written

    compare = tmp_path / "compare"
    assert main(["compare-losses", str(folder), "--out", str(compare), *argv[3:], "--k", "2"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"wrote 3 files to {compare}: labels.csv, compare_losses.png, report.html"


DEMO = ["--features", "histogram", "--no-progress", "--n-init", "1"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--k", "100", *DEMO],
            "--k 100 is larger than the number of images (72 crops: 6 classes x --n-per-class "
            "12); use a smaller --k or raise --n-per-class.",
        ),
        (["--k", "auto", "--k-range", "80:90", *DEMO], "--k-range 80..90 leaves fewer than two"),
        pytest.param(
            ["--features", "vgg16", "--no-progress"],
            "no VGG16 weights found",
            marks=requires_torch,
        ),
        # a weights file that torch cannot load (it was read after the crops)
        pytest.param(
            ["--weights", "garbage.pth", "--no-progress"],
            "--weights garbage.pth: weights file",
            marks=requires_torch,
        ),
    ],
)
def test_demo_checks_its_arguments_before_writing_images(
    argv, message, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # where no shared/weights folder is found
    monkeypatch.delenv("ROBUSTKMEANS_VGG16_WEIGHTS", raising=False)
    (tmp_path / "garbage.pth").write_bytes(b"not a state dict")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), *argv]) == 1
    assert message in _error_line(capsys)
    assert not out.exists()


def test_demo_rerun_removes_the_images_of_the_previous_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-per-class", "3", *DEMO]) == 0
    (out / "images" / "sky" / "mine.png").write_bytes(b"the user's file")
    edited = out / "images" / "sky" / "sky_02.png"
    edited.write_bytes(b"edited since")
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--n-per-class", "1", *DEMO]) == 0
    assert len(_read_csv(out / "labels.csv")) == 6
    images = sorted(p.relative_to(out / "images").as_posix() for p in (out / "images").rglob("*"))
    images = [name for name in images if "/" in name]
    classes = ["dahlia", "leaves", "pagoda", "sky", "trees", "water"]
    assert images == sorted(
        [*(f"{c}/{c}_00.png" for c in classes), "sky/mine.png", "sky/sky_02.png"]
    )
    assert edited.read_bytes() == b"edited since"  # changed since: left, with a note
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 1 and "sky_02.png" in notes[0]
    # a cluster run into the demo folder (its images as input) removes none of them
    argv = ["cluster", str(out / "images"), "--k", "2", "--out", str(out), *DEMO]
    assert main([*argv, "--on-error", "skip"]) == 0  # mine.png and sky_02.png: not images
    assert len(list((out / "images").rglob("*.png"))) == 8
    # ... and the next demo still knows them as its own
    edited.unlink()
    assert main(["demo", "--out", str(out), "--n-per-class", "2", *DEMO]) == 0
    assert len(list((out / "images").rglob("*_*.png"))) == 12


@pytest.mark.parametrize(
    "features", [["--features", "histogram"], pytest.param(FAST, marks=requires_torch)]
)
def test_every_unreadable_image_is_listed_with_what_to_do(tmp_path, capsys, features):
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=2)
    (folder / "red" / "notes.jpg").write_text("this is not an image")
    (folder / "green" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), *features]
    assert main([*argv, "--no-progress"]) == 1
    line = _error_line(capsys)
    assert "2 of 6 image(s) cannot be read" in line
    assert "notes.jpg (not an image: the content is a text file)" in line
    assert "broken.png" in line and "--on-error skip" in line
    assert not (tmp_path / "o").exists()


def test_out_naming_a_file_is_a_usage_error(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    existing = tmp_path / "results.txt"
    existing.write_text("mine")
    for out in (existing, existing / "deeper"):
        assert main(["cluster", str(folder), "--k", "2", "--out", str(out), *FAST]) == 2
        err = capsys.readouterr().err
        assert "argument --out:" in err and "is a file, not a folder" in err
        assert "Errno" not in err
    assert existing.read_text() == "mine"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cluster", "d", "--n-init", "0"], "argument --n-init: expected an integer >= 1, got '0'"),
        (["cluster", "d", "--n-jobs", "0"], "argument --n-jobs: expected a number of jobs >= 1"),
        (["cluster", "d", "--sigma", "-1"], "argument --sigma: expected a number > 0 or 'auto'"),
        (["compare-losses", "d", "--delta", "0"], "argument --delta: expected a number > 0"),
        (["cluster", "d", "--epsilon", "-0.5"], "argument --epsilon: expected a number >= 0"),
        (["cluster", "d", "--delta", "nan"], "argument --delta: expected a number > 0"),
        (["cluster", "d", "--image-size", "0"], "argument --image-size: expected an integer >= 32"),
        (["quantize", "p.png", "--colors", "0"], "argument --colors: expected an integer >= 1"),
        (["quantize", "p.png", "--sample-size", "0"], "argument --sample-size: expected an"),
        (["quantize", "p.png", "--sigma", "-1"], "argument --sigma: expected a number > 0"),
        (["demo", "--n-per-class", "0"], "argument --n-per-class: expected an integer >= 1"),
        # reported by the subcommand, as argparse's own errors are
        (
            ["cluster", "d", "--k", "auto", "--k-range", "3"],
            "robustkmeans cluster: error: argument --k-range: 3 is a single k value",
        ),
        (
            ["demo", "--k", "auto", "--k-range", "4:4"],
            "robustkmeans demo: error: argument --k-range: 4 is a single k value",
        ),
        # a reversed range: its integers are >= 1, the message said they must be
        (
            ["cluster", "d", "--k", "auto", "--k-range", "10:2"],
            "argument --k-range: the k range '10:2' is empty: it starts above its end; give "
            "the smaller k first, e.g. 2:10",
        ),
        (
            ["cluster", "d", "--random-state", "-1"],
            "argument --random-state: expected an integer from 0 to 4294967295 (2**32 - 1), "
            "got '-1'",
        ),
        (["compare-losses", "d", "--random-state", "99999999999"], "--random-state: expected"),
        (["quantize", "p.png", "--random-state", "-1"], "argument --random-state: expected"),
        (["demo", "--random-state", "4294967296"], "argument --random-state: expected an"),
        (["cluster", "d", "--device", "tpu"], "argument --device: expected cpu, cuda, cuda:N"),
        (["demo", "--device", "gpu0"], "argument --device: expected cpu, cuda, cuda:N or auto"),
        # scales whose square leaves float32, the features' and pixels' dtype: the
        # error came from LossKMeans after the images were read, in its words ("Rescale
        # X (for example with StandardScaler) or use delta='auto'")
        (
            ["cluster", "d", "--delta", "1e300"],
            "argument --delta: expected a number from 4.34e-19 to 4.61e+18 (the loss "
            "squares it in float32) or 'auto', got '1e300'",
        ),
        (["quantize", "p.png", "--loss", "huber", "--delta", "1e19"], "from 4.34e-19 to"),
        (["cluster", "d", "--loss", "correntropy", "--sigma", "1e-30"], "--sigma: expected a"),
        # an epsilon beyond float32: the fit warned of overflow and put every cost at 0
        (
            ["cluster", "d", "--loss", "epsilon_insensitive", "--epsilon", "1e300"],
            "argument --epsilon: expected a number from 0 to 3.4e+38 (a float32 number) or "
            "'auto', got '1e300'",
        ),
    ],
)
def test_values_out_of_range_are_usage_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--out", "o.png" if argv[0] == "quantize" else "o"]) == 2
    assert not list(tmp_path.iterdir())
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["cluster", "photos", "--k-range", "2:5", "--k-criterion", "elbow"],
            "robustkmeans cluster: error: --k-range, --k-criterion apply to --k auto only "
            "(the search for k); pass --k auto to choose k with them, or drop them to use "
            "the default --k",
        ),
        (
            ["cluster", "photos", "--k", "3", "--k-range", "5"],
            "--k-range applies to --k auto only (the search for k); pass --k auto to choose "
            "k with it, or drop it to use --k 3",
        ),
        (["demo", "--k-criterion", "silhouette"], "robustkmeans demo: error: --k-criterion"),
        # --n-jobs runs the fits of the search in parallel: a fixed k is one fit
        (
            ["cluster", "photos", "--k", "3", "--n-jobs", "2"],
            "robustkmeans cluster: error: --n-jobs applies to --k auto only",
        ),
    ],
)
def test_k_search_options_without_k_auto_are_usage_errors(
    argv, message, capsys, tmp_path, monkeypatch
):
    # they would be ignored, the run clustering with another k than the user meant
    _photos(tmp_path, monkeypatch, 10)
    _assert_refused([*argv, "--features", "histogram", "--out", "o"], message, capsys, tmp_path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["cluster", "photos", "--loss", "square", "--delta", "0.5", "--sigma", "3"],
            "robustkmeans cluster: error: --delta, --sigma do not apply to --loss square, "
            "which has no scale (--delta applies to --loss huber or pseudo_huber; --sigma "
            "applies to --loss correntropy)",
        ),
        (
            ["demo", "--loss", "huber", "--epsilon", "0"],
            "robustkmeans demo: error: --epsilon does not apply to --loss huber, which uses "
            "--delta (--epsilon applies to --loss epsilon_insensitive)",
        ),
        (
            ["quantize", "photos/0.png", "--loss", "square", "--delta", "0.3"],
            "robustkmeans quantize: error: --delta does not apply to --loss square",
        ),
        (
            ["quantize", "photos/0.png", "--sigma", "auto"],  # the default loss: absolute
            "--sigma does not apply to --loss absolute, which has no scale",
        ),
    ],
)
def test_a_scale_for_a_loss_that_does_not_use_it_is_a_usage_error(
    argv, message, capsys, tmp_path, monkeypatch
):
    # it was ignored without a word
    _photos(tmp_path, monkeypatch, 4)
    out = "o.png" if argv[0] == "quantize" else "o"
    features = [] if argv[0] == "quantize" else ["--features", "histogram"]
    _assert_refused([*argv, *features, "--out", out], message, capsys, tmp_path)


def test_a_scale_for_the_loss_that_uses_it_is_taken(capsys, tmp_path, monkeypatch):
    _photos(tmp_path, monkeypatch, 4)
    argv = ["quantize", "photos/0.png", "--colors", "2", "--out", "q.png"]
    assert main([*argv, "--loss", "correntropy", "--sigma", "0.5"]) == 0
    # compare-losses fits every loss: each scale is used by one
    argv = ["compare-losses", "photos", "--k", "2", "--features", "histogram", "--out", "o"]
    assert main([*argv, "--sigma", "0.5", "--delta", "0.2", "--no-progress"]) == 0


def test_k_search_options_take_their_defaults_with_k_auto():
    from robustkmeans.cli import _check_k_options, build_parser

    args = build_parser().parse_args(["cluster", "d", "--k", "auto", "--out", "o"])
    _check_k_options(args)
    assert args.k_range == list(range(2, 11)) and args.k_criterion == "silhouette"


def test_identical_images_give_no_numpy_warning(tmp_path, capsys):
    # the scatter plot's PCA has no variance to explain: its axes say so, and
    # numpy's "invalid value encountered in divide" is neither printed nor noted
    for name in ("a", "b"):
        (tmp_path / "dup" / name).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "dup" / name / f"{i}.png").write_bytes(_png_bytes(0))
    out = tmp_path / "o"
    argv = ["cluster", str(tmp_path / "dup"), "--k", "2", "--features", "histogram"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert not [note for note in notes if "invalid value" in note]
    assert "invalid value" not in capsys.readouterr().err


def test_k_range_is_reported_in_order(capsys, tmp_path, monkeypatch):
    _photos(tmp_path, monkeypatch, 3, "imgs")
    argv = ["cluster", "imgs", "--k", "auto", "--k-range", "9,8,7", "--out", "o"]
    assert main([*argv, "--features", "histogram"]) == 1
    assert "--k-range 7..9 leaves fewer than two" in capsys.readouterr().err


def test_a_huge_k_range_is_cut_to_the_images_without_being_built(tmp_path, capsys, monkeypatch):
    # --k-range 2:1000000000 built the whole list first: MemoryError
    _photos(tmp_path, monkeypatch, 5, "imgs")
    argv = ["cluster", "imgs", "--k", "auto", "--features", "histogram", "--out", "o"]
    assert main([*argv, "--k-range", f"2:{10**12}", "--no-progress"]) == 0
    assert "--k-range limited to k <= 4 (there are 5 images)" in capsys.readouterr().err
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["k_selection"]["k"] == [
        2,
        3,
        4,
    ]
    assert main([*argv, "--k-range", f"{10**12}:{10**30}"]) == 1
    assert f"--k-range {10**12}..{10**30}" in capsys.readouterr().err


def test_cache_that_is_a_file_is_a_usage_error(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    cache = tmp_path / "cache.bin"
    cache.write_bytes(b"")
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), *FAST]
    assert main([*argv, "--cache", str(cache)]) == 2
    err = capsys.readouterr().err
    assert "argument --cache:" in err and "is a file, not a folder" in err
    assert "cache=None" not in err


# A folder of /proc cannot be created, even by root (who may write in a chmod 555 one).
NO_WRITE = Path("/proc/robustkmeans-no-such-folder")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("flag", ["--out", "--cache"])
def test_out_or_cache_that_cannot_be_written_is_a_usage_error(image_dir, tmp_path, capsys, flag):
    # found only after every feature was computed (or after the first batch, for
    # --cache), with a raw "[Errno 2] No such file or directory"
    folder, _ = image_dir
    options = {"--out": str(tmp_path / "o"), "--cache": str(tmp_path / "cache")}
    options[flag] = str(NO_WRITE / "x")
    argv = ["cluster", str(folder), "--k", "2", *FAST]
    assert main([*argv, "--out", options["--out"], "--cache", options["--cache"]]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: cannot create the folder {str(NO_WRITE)!r}" in err
    assert "Errno" not in err and "extracting" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["images"]  # checked before any write


def test_cache_under_home_is_checked_where_it_is_written(tmp_path, monkeypatch):
    # "--cache=~/feat" reaches the program unexpanded: the featurizer writes to
    # $HOME/feat, while the checks looked at ./~/feat
    from robustkmeans.cli import build_parser

    monkeypatch.setenv("HOME", str(tmp_path))
    args = build_parser().parse_args(["cluster", "d", "--out=~/o", "--cache=~/feat"])
    assert args.cache == str(tmp_path / "feat") and args.out == str(tmp_path / "o")
    args = build_parser().parse_args(["quantize", "p.png", "--out=~/q.png"])
    assert args.out == str(tmp_path / "q.png")


def test_quantize_out_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    # a folder as --out gave "[Errno 21] Is a directory" naming a temporary file, and
    # --out inside a file "[Errno 17] File exists"
    source = _quantize_source(tmp_path)
    (tmp_path / "q.png").mkdir()
    (tmp_path / "afile").write_text("mine")
    for out, message in (
        (tmp_path / "q.png", f"argument --out: {str(tmp_path / 'q.png')!r} is a folder"),
        (tmp_path / "afile" / "x.png", "which is a file"),
    ):
        assert main(["quantize", str(source), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Errno" not in err and ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "photo.png", "q.png"]
    assert not list((tmp_path / "q.png").iterdir())


def test_cache_inside_the_image_folder_is_refused(image_dir, tmp_path, capsys):
    folder, paths = image_dir
    for cache in (folder, folder / "cache"):
        argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), *FAST]
        assert main([*argv, "--cache", str(cache)]) == 1
        line = _error_line(capsys)
        assert f"--cache {str(cache)!r} is inside the image folder" in line
        assert "give a cache folder outside it" in line
    assert sorted(folder.rglob("*")) == sorted([*paths, folder / "red", folder / "green"])
    assert not (tmp_path / "o").exists()


@requires_torch
def test_device_without_cuda_is_worded_for_the_command_line(
    image_dir, tmp_path, capsys, monkeypatch
):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), *FAST]
    assert main([*argv, "--device", "cuda"]) == 1
    line = _error_line(capsys)
    assert "--device cuda:" in line and "use --device cpu" in line and "device=" not in line


@requires_torch
def test_imagenet_weights_offline_is_worded_for_the_command_line(
    image_dir, tmp_path, capsys, monkeypatch
):
    import urllib.error

    import torch

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.delenv("ROBUSTKMEANS_VGG16_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--weights", "imagenet"]) == 1
    line = _error_line(capsys)
    assert line.startswith("robustkmeans cluster: error: --weights imagenet:")
    assert "Name or service not known" in line
    assert "--weights PATH" in line and "--features histogram" in line
    assert str(tmp_path / "hub" / "checkpoints") in line
    for api in ("weights=", "shared/weights"):
        assert api not in line


def test_quantize_caps_the_palette_at_the_number_of_pixels(tmp_path, capsys):
    source = tmp_path / "dot.png"
    Image.fromarray(np.array([[[200, 30, 40]]], np.uint8)).save(source)
    out = tmp_path / "q.png"
    assert main(["quantize", str(source), "--out", str(out)]) == 0  # --colors 16
    assert "note: the image has 1 pixel(s); the palette is capped at 1" in capsys.readouterr().err
    assert np.asarray(Image.open(out)).tolist() == [[[200, 30, 40]]]

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.RandomState(0).randint(0, 256, (10, 10, 3), np.uint8)).save(photo)
    assert main(["quantize", str(photo), "--sample-size", "5", "--out", str(out)]) == 1
    line = _error_line(capsys)
    assert "--sample-size 5 is smaller than --colors 16" in line and "sample_size=" not in line


def test_quantize_an_image_of_few_colours_says_so_in_its_terms(tmp_path, capsys):
    # --colors above the colours the image holds: the clusterer's "Number of
    # distinct clusters (4) found smaller than n_clusters (30)" warning came out
    # as it is; the command says it of the palette's colours instead
    pixels = np.zeros((40, 40, 3), np.uint8)
    pixels[:, :20] = [255, 0, 0]
    pixels[20:, :, 1] = 200
    source = tmp_path / "flags.png"
    Image.fromarray(pixels).save(source)
    out = tmp_path / "q.png"
    assert main(["quantize", str(source), "--colors", "30", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "only 4 distinct colour(s), fewer than --colors 30" in err
    assert "Number of distinct clusters" not in err
    stored = np.asarray(Image.open(out))
    assert np.array_equal(stored, pixels)  # (each colour its own palette entry)
    # as many colours as asked: no such note
    assert main(["quantize", str(source), "--colors", "4", "--out", str(out)]) == 0
    assert "distinct colour" not in capsys.readouterr().err


def test_quantize_out_with_an_extension_only_asks_for_a_file_name(tmp_path, capsys):
    # --out .png: pathlib reads ".png" as a hidden file's name without an
    # extension, and the error said to "end it in .png", which it does
    source = tmp_path / "dot.png"
    Image.fromarray(np.array([[[200, 30, 40]]], np.uint8)).save(source)
    out = tmp_path / ".png"
    assert main(["quantize", str(source), "--out", str(out)]) == 1
    line = _error_line(capsys)
    assert "has an extension but no file name" in line
    assert str(tmp_path / "quantized.png") in line
    assert not out.exists()


def test_cluster_of_duplicate_images_warns_in_terms_of_images(tmp_path, capsys):
    # four images, three of them copies: at --k 3 one cluster stays empty, and the
    # clusterer's "Number of distinct clusters (2) found smaller than n_clusters
    # (3). Possibly due to duplicate points in X" was printed as it is
    folder = tmp_path / "dups"
    folder.mkdir()
    for i, seed in enumerate([1, 1, 1, 2]):
        (folder / f"im{i}.png").write_bytes(_png_bytes(seed))
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "3", "--features", "histogram", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "at k=3 only 2 clusters hold images" in err and "duplicate images?" in err
    assert "a k of at most 2 gives every cluster images" in err
    assert "duplicate points in X" not in err
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("only 2 clusters hold images" in note for note in notes)


@pytest.mark.parametrize(
    "image_dir, command, title",
    [
        (".", "cluster", "Clusters of photos"),
        ("./", "cluster", "Clusters of photos"),
        (".", "compare-losses", "Losses compared on photos"),
    ],
)
def test_report_title_names_the_folder_given_as_dot(
    image_dir, command, title, tmp_path, monkeypatch
):
    # run from inside the image folder, the report was titled "Clusters of ."
    _make_images(tmp_path / "photos", n_per_class=3, size=16)
    monkeypatch.chdir(tmp_path / "photos")
    out = tmp_path / "out"
    argv = [command, image_dir, "--k", "2", "--features", "histogram", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    assert f"<title>{title}</title>" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "n, expected",
    [(1, "at k=3 only 1 cluster holds images"), (2, "at k=3 only 2 clusters hold images")],
)
def test_duplicate_images_warning_agrees_in_number(n, expected):
    # all images alike: "at k=3 only 1 clusters hold images"
    from robustkmeans.cli import _in_command_terms

    message = (
        f"Number of distinct clusters ({n}) found smaller than n_clusters (3). "
        "Possibly due to duplicate points in X."
    )
    assert _in_command_terms(message, "cluster").startswith(expected + ":")


def test_quantize_an_image_too_large_for_pillow_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # Pillow refuses to open an image of more than twice MAX_IMAGE_PIXELS with a
    # DecompressionBombError, which is no OSError: it ended quantize in a traceback
    source = tmp_path / "panorama.png"
    Image.new("RGB", (20, 10)).save(source)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # 200 pixels > 2 * 50
    out = tmp_path / "q.png"
    assert main(["quantize", str(source), "--out", str(out), "--no-progress"]) == 1
    line = _error_line(capsys)
    assert "panorama.png" in line and "too large" in line
    assert not out.exists()


@pytest.mark.parametrize("command, default", [("cluster", 8), ("compare-losses", 5)])
def test_default_k_is_shown_and_named_as_the_default(tmp_path, capsys, command, default):
    assert main([command, "--help"]) == 0
    help_k = re.search(r"--k K\s+(.*?)\n  --", capsys.readouterr().out, re.S).group(1)
    assert f"({default})" in help_k
    folder = tmp_path / "photos"
    _make_images(folder, n_per_class=2)  # 4 images
    argv = [command, str(folder), "--out", str(tmp_path / "o"), "--features", "histogram"]
    assert main(argv) == 1
    line = _error_line(capsys)
    images = "the number of images (4 image files found)"
    assert f"the default --k {default} is larger than {images}" in line
    assert "pass a smaller --k" in line
    assert main([*argv, "--k", "6"]) == 1
    assert f"error: --k 6 is larger than {images}" in _error_line(capsys)


def test_representatives_caption_when_no_cluster_has_atypical_images(image_dir, tmp_path):
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--n-representatives", "5", "--out", str(out)]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0  # 5 + 5 images
    report = (out / "report.html").read_text()
    caption = re.search(r"<figcaption>([^<]*)<code>representatives.png", report).group(1)
    assert "none is shown as atypical" in caption and "then the most atypical" not in caption


def test_representatives_draw_the_largest_clusters_only_beyond_the_cap(
    image_dir, tmp_path, monkeypatch
):
    # a row of 150 pixels per cluster: a report of 440 clusters was still drawing
    # after 12 minutes, and matplotlib refuses a figure past 65,536 pixels (about
    # 437 rows); the figure draws the _MAX_DRAWN_CLUSTERS largest and says so
    from robustkmeans import cli

    drawn = []
    figure_png = cli._figure_png

    titles = []

    def record(figure):
        drawn.append([a.yaxis.label.get_text() for a in figure.axes if a.get_ylabel()])
        titles.append(figure._suptitle.get_text() if figure._suptitle else "")
        return figure_png(figure)

    monkeypatch.setattr(cli, "_MAX_DRAWN_CLUSTERS", 2)
    monkeypatch.setattr(cli, "_figure_png", record)
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "3", "--out", str(out), "--random-state", "0"]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0
    report = (out / "report.html").read_text()
    caption = re.search(r"<figcaption>([^<]*)<code>representatives.png", report).group(1)
    assert "the 2 largest of 3 clusters (labels.csv lists every image" in caption
    sizes = np.bincount([int(r["cluster"]) for r in _read_csv(out / "labels.csv")], minlength=3)
    largest = sorted(range(3), key=lambda c: (-sizes[c], c))[:2]
    assert drawn[0] == [f"cluster {c}\nn={sizes[c]}" for c in sorted(largest)]
    # the PNG says so too, read alone (RepresentativesDisplay's max_clusters)
    assert "the 2 largest clusters (of 3)" in titles[0]
    # under the cap, every cluster is drawn and the caption says nothing of it
    monkeypatch.setattr(cli, "_MAX_DRAWN_CLUSTERS", 3)
    drawn.clear()
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0
    assert len(drawn[0]) == 3 and "largest of" not in (out / "report.html").read_text()


def test_non_finite_features_of_readable_images_blame_the_weights(image_dir):
    # NaN features (a weights file with a NaN bias) were reported as unreadable
    # images, "could not be read", for files that read fine
    import argparse

    from robustkmeans import cli

    folder, paths = image_dir
    files = [str(p) for p in paths]

    class NaNFeaturizer:
        def fit_transform(self, filenames):
            return np.full((len(filenames), 3), np.nan)

    for on_error in ("raise", "skip"):
        args = argparse.Namespace(on_error=on_error, command="cluster", k=2)
        with pytest.raises(cli.UserError, match=r"read fine are not finite.*--weights"):
            cli._extract(NaNFeaturizer(), files, None, args)


@requires_torch
def test_a_folder_as_weights_is_said_to_be_a_folder(image_dir, tmp_path, capsys, monkeypatch):
    # it was said not to exist
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--weights", str(tmp_path)]) == 1
    line = _error_line(capsys)
    assert f"VGG16 weights file {str(tmp_path)!r} is a folder; give the weights file" in line
    monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", str(tmp_path))
    for weights in ([], ["--weights", "imagenet"]):
        assert main([*argv, *weights]) == 1
        assert f"ROBUSTKMEANS_VGG16_WEIGHTS={str(tmp_path)!r} is a folder" in _error_line(capsys)
    assert not (tmp_path / "o").exists()


@requires_torch
def test_weights_expand_the_home_folder_as_out_and_cache_do(
    image_dir, tmp_path, capsys, monkeypatch
):
    # "--weights=~/vgg16.pth" reaches the parser unexpanded; the file was looked
    # for in a folder named "~" (said not to exist), where --out and --cache expand it
    folder, _ = image_dir
    monkeypatch.setenv("HOME", str(tmp_path))
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--weights=~/missing.pth"]) == 1
    line = _error_line(capsys)
    assert f"VGG16 weights file {str(tmp_path / 'missing.pth')!r} does not exist" in line
    # and what else to pass, as the run without any weights says
    others = (
        "Or use --weights imagenet (torchvision's cache), --weights random (smoke test) "
        "or --features histogram."
    )
    assert line.endswith(f"does not exist. {others}")
    assert main([*argv, "--weights=~"]) == 1
    line = _error_line(capsys)
    assert f"VGG16 weights file {str(tmp_path)!r} is a folder" in line
    assert line.endswith(f"(a .pth file). {others}")


def test_find_vgg16_weights_looks_in_the_working_folder_first(tmp_path, monkeypatch):
    # the docs say shared/weights/... is found "in the working folder or a parent";
    # only the parents were searched. The function only locates the file (the content
    # is read by VGG16Featurizer), so a dummy file stands in for the weights.
    from robustkmeans._demo import WEIGHTS_ENV, find_vgg16_weights

    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    relative = Path("shared") / "weights" / "vgg16_features_imagenet1k_v1.pth"
    here, above = tmp_path / "project", tmp_path
    (above / relative).parent.mkdir(parents=True)
    (above / relative).write_bytes(b"not really weights")
    (here / relative).parent.mkdir(parents=True)
    (here / relative).write_bytes(b"not really weights either")
    monkeypatch.chdir(here)
    assert find_vgg16_weights() == here / relative
    (here / relative).unlink()  # then the nearest folder above
    assert find_vgg16_weights() == above / relative
    monkeypatch.chdir(here / "shared")  # and from a subfolder, the nearest one above
    assert find_vgg16_weights() == above / relative


def test_the_imagenet_note_expands_the_home_folder_in_the_variable(tmp_path, monkeypatch):
    # VGG16Featurizer reads ROBUSTKMEANS_VGG16_WEIGHTS="~/vgg16.pth" (a .env file:
    # no shell expands it) as the file under $HOME; the note compared the
    # unexpanded value and credited torchvision with that file
    from robustkmeans.cli import _imagenet_note

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", "~/vgg16.pth")
    path = str(tmp_path / "vgg16.pth")
    assert _imagenet_note(path) == (
        f"VGG16 weights from {path} ($ROBUSTKMEANS_VGG16_WEIGHTS, used by --weights "
        "imagenet in place of torchvision's ImageNet weights)"
    )
    other = str(tmp_path / "hub" / "vgg16-397923af.pth")
    assert _imagenet_note(other) == f"VGG16 ImageNet weights (torchvision) from {other}"


@requires_torch
@pytest.mark.parametrize("weights", [[], ["--weights", "imagenet"]])
def test_the_weights_variable_expands_the_home_folder_as_the_python_api_does(
    image_dir, tmp_path, capsys, monkeypatch, weights
):
    # ROBUSTKMEANS_VGG16_WEIGHTS="~/vgg16.pth": the default --weights exited 1 (it
    # "does not name an existing file"), and --weights imagenet credited torchvision
    import torch

    from robustkmeans._vgg16 import _load_features

    def offline(*args, **kwargs):
        raise AssertionError("no download expected")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    torch.save(_load_features(None, "cpu").state_dict(), tmp_path / "vgg16.pth")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", "~/vgg16.pth")
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--image-size", "32", "--n-init", "1", *weights]) == 0
    printed = capsys.readouterr().out
    assert f"features: VGG16 weights from {tmp_path / 'vgg16.pth'}" in printed
    assert "(torchvision)" not in printed


@requires_torch
def test_imagenet_weights_name_the_file_used(image_dir, tmp_path, capsys, monkeypatch):
    """--weights imagenet reads $ROBUSTKMEANS_VGG16_WEIGHTS when set (the offline
    stand-in): stdout, the report and summary.json name that file, never torchvision."""
    import torch

    from robustkmeans._vgg16 import _load_features

    def offline(*args, **kwargs):
        raise AssertionError("no download expected")

    state = _load_features(None, "cpu").state_dict()
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    other = tmp_path / "other.pth"
    torch.save(state, other)
    monkeypatch.setenv("ROBUSTKMEANS_VGG16_WEIGHTS", str(other))
    folder, _ = image_dir
    out = tmp_path / "o"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--no-progress"]
    argv += ["--image-size", "32", "--n-init", "1", "--weights", "imagenet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    report = (out / "report.html").read_text()
    for text in (printed, summary["features"], report):
        assert f"VGG16 weights from {other} ($ROBUSTKMEANS_VGG16_WEIGHTS" in text
        assert "(torchvision)" not in text

    # a file that is not VGG16 weights fails before any image is read
    torch.save([1, 2, 3], other)
    assert main(argv) == 1
    line = _error_line(capsys)
    assert "--weights imagenet: $ROBUSTKMEANS_VGG16_WEIGHTS=" in line and "state dict" in line

    # without the variable: torchvision's cached file, named too
    monkeypatch.delenv("ROBUSTKMEANS_VGG16_WEIGHTS")
    cached = hub / "checkpoints" / "vgg16-397923af.pth"
    cached.parent.mkdir(parents=True)
    torch.save(state, cached)
    assert main(argv) == 0
    expected = f"VGG16 ImageNet weights (torchvision) from {cached}"
    assert expected in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["features"] == expected


def test_weights_help_says_imagenet_reads_the_environment_variable(capsys):
    assert main(["cluster", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "when $ROBUSTKMEANS_VGG16_WEIGHTS is set, the file it names instead" in help_text


def _quantize_source(tmp_path):
    source = tmp_path / "photo.png"
    array = np.random.RandomState(0).normal(128, 60, (60, 80, 3))
    Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(source)
    return source


def _colours_in(path):
    with Image.open(path) as image:
        return len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0))


@pytest.mark.parametrize("extension", ["png", "tif", "webp"])
def test_quantize_writes_exactly_the_palette_in_lossless_formats(tmp_path, capsys, extension):
    out = tmp_path / f"q.{extension}"
    assert (
        main(["quantize", str(_quantize_source(tmp_path)), "--colors", "8", "--out", str(out)]) == 0
    )
    assert _colours_in(out) == 8  # WebP is written lossless
    captured = capsys.readouterr()
    assert f"wrote {out} (8 colours, loss absolute)" in captured.out
    assert captured.err == ""


def test_quantize_to_jpeg_says_the_compression_adds_colours(tmp_path, capsys):
    out = tmp_path / "q.jpg"
    assert (
        main(["quantize", str(_quantize_source(tmp_path)), "--colors", "8", "--out", str(out)]) == 0
    )
    n_stored = _colours_in(out)
    assert n_stored > 8
    captured = capsys.readouterr()
    assert f"8-colour palette, loss absolute; the file holds {n_stored} colours" in captured.out
    note = captured.err.splitlines()
    assert len(note) == 1 and note[0].startswith("robustkmeans quantize: note:")
    assert "JPEG compression is lossy" in note[0]
    assert f"holds {n_stored} distinct colours, not the 8 of the palette" in note[0]
    assert "write .png" in note[0]


@pytest.mark.parametrize(
    "shape,levels", [((60, 80, 3), 256), ((1, 1, 3), 256), ((700, 9000, 3), 4), ((30, 40), 256)]
)
def test_colours_are_counted_as_numpy_counts_distinct_pixels(shape, levels):
    # one table of the 2**24 colours, blocks of rows (700 x 9000 spans two): the
    # rows sorted by np.unique took 85 s of a 90 s run on 8000 x 8000 (a user
    # review), the count is the same
    from robustkmeans.cli import _n_colours

    image = np.random.RandomState(0).randint(0, levels, shape).astype(np.uint8) * (256 // levels)
    pixels = image.reshape(-1, shape[2] if len(shape) == 3 else 1)
    assert _n_colours(image) == len(np.unique(pixels, axis=0))
    assert _n_colours(image.astype(np.float32)) == len(np.unique(pixels, axis=0))


def test_quantize_to_a_format_pillow_cannot_write_is_a_clear_error(tmp_path, capsys):
    source = _quantize_source(tmp_path)
    for extension, message in (("psd", "Pillow cannot write PSD images"), ("xbm", "as XBM")):
        out = tmp_path / f"q.{extension}"
        assert main(["quantize", str(source), "--colors", "2", "--out", str(out)]) == 1
        line = _error_line(capsys)
        assert message in line and "end" in line and ".png" in line
        assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [["cluster", "photos"], ["compare-losses", "photos"], ["demo"]],
    ids=["cluster", "compare-losses", "demo"],
)
def test_vgg16_options_with_colour_histograms_are_usage_errors(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = [*argv, "--out", "o", "--features", "histogram"]
    vgg16 = "--features vgg16" + (" or auto" if argv[0] == "demo" else "")
    for option, value in (
        ("--weights", "/nope.pth"),
        ("--weights", "random"),
        ("--device", "cuda:7"),
        ("--cache", "c"),
        ("--image-size", "224"),
    ):
        assert main([*base, option, value]) == 2
        line = capsys.readouterr().err.splitlines()[-1]
        assert line.startswith(f"robustkmeans {argv[0]}: error: {option} applies to {vgg16} only")
        assert line.endswith("drop it with --features histogram")
    assert main([*base, "--cache", "c", "--weights", "/nope.pth", "--device", "cuda:7"]) == 2
    line = capsys.readouterr().err.splitlines()[-1]
    assert f"--weights, --cache, --device apply to {vgg16} only" in line
    assert not list(tmp_path.iterdir())  # no cache folder, no output, no demo image


def test_colour_histograms_take_the_options_they_use(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:3", "--no-progress"]
    argv += ["--out", str(tmp_path / "o"), "--features", "histogram", "--n-jobs", "2"]
    argv += ["--on-error", "skip", "--n-init", "1"]
    assert main(argv) == 0
    assert "colour histograms" in capsys.readouterr().out


def _jpeg_with_corrupt_exif(path, seed=0):
    """A JPEG whose EXIF block is cut short: Pillow warns 'Corrupt EXIF data'."""
    import io

    buffer = io.BytesIO()
    pixels = np.random.RandomState(seed).randint(0, 256, (40, 40, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG")
    data = buffer.getvalue()
    payload = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03\x00"
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    path.write_bytes(data[:2] + segment + data[2:])


def test_pillow_warnings_name_the_images_that_give_them(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    bad = folder / "red" / "corrupt_exif.jpg"
    _jpeg_with_corrupt_exif(bad)
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--features", "histogram", "--n-init", "1"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if ": warning: " in line]
    assert len(warned) == 1 and "Corrupt EXIF data" in warned[0]
    assert warned[0].endswith(f"(in 1 image(s): {bad})")
    notes = json.loads((tmp_path / "o" / "summary.json").read_text())["notes"]
    assert notes == [warned[0].removeprefix("robustkmeans cluster: ")]  # in the report too
    assert str(bad) in (tmp_path / "o" / "report.html").read_text().split("<h2>Notes</h2>")[1]

    assert main(["quantize", str(bad), "--colors", "4", "--out", str(tmp_path / "q.png")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if ": warning: " in line]
    assert len(warned) == 1 and warned[0].endswith(f"(in 1 image(s): {bad})")


def test_quantize_to_pdf_says_the_pixels_are_jpeg_compressed(tmp_path, capsys):
    # Pillow writes an RGB PDF with its pixels JPEG-compressed: the file cannot be
    # read back to count its colours, so the lossy format is named instead
    source = tmp_path / "noise.png"
    pixels = np.random.RandomState(0).randint(0, 256, (40, 50, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(source)
    assert main(["quantize", str(source), "--colors", "4", "--out", str(tmp_path / "q.pdf")]) == 0
    captured = capsys.readouterr()
    assert "lossy compression" in captured.err and ".png" in captured.err
    assert "lossy PDF" in captured.out


def test_naming_the_image_of_a_pillow_warning_does_not_decode_pngs(tmp_path, monkeypatch):
    # a PNG's getexif() decodes all its pixels when no eXIf chunk precedes them:
    # looking for the image behind a warning reads headers only
    from PIL import PngImagePlugin

    from robustkmeans.cli import _pillow_warning_sources

    png = tmp_path / "plain.png"
    Image.fromarray(np.zeros((30, 20, 3), np.uint8)).save(png)
    loads = []
    load = PngImagePlugin.PngImageFile.load
    monkeypatch.setattr(
        PngImagePlugin.PngImageFile, "load", lambda self: loads.append(1) or load(self)
    )
    assert _pillow_warning_sources([str(png)], {"Corrupt EXIF data": None}) == {
        "Corrupt EXIF data": []
    }
    assert loads == []


def test_demo_without_weights_notes_the_vgg16_options_it_ignores(tmp_path, capsys, monkeypatch):
    # --features auto (demo's default) falls back to colour histograms when no
    # weights are found: VGG16's options given then are named as ignored
    import robustkmeans._demo as demo

    monkeypatch.setattr(demo, "find_vgg16_weights", lambda *args, **kwargs: None)
    out = tmp_path / "demo"
    argv = ["demo", "--out", str(out), "--n-per-class", "2", "--no-progress", "--n-init", "1"]
    assert main([*argv, "--image-size", "64"]) == 0
    assert "--image-size (a VGG16 option) is ignored" in capsys.readouterr().err
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("--image-size" in note for note in notes)


def test_warnings_are_shown_when_the_run_then_fails(image_dir, tmp_path, capsys):
    folder, _ = image_dir
    bad = folder / "red" / "corrupt_exif.jpg"
    _jpeg_with_corrupt_exif(bad)
    (folder / "green" / "not_an_image.png").write_text("hello")  # fails the run after reading
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, "--features", "histogram", "--on-error", "raise"]) == 1
    err = capsys.readouterr().err
    assert "not_an_image.png" in err.split(": error: ")[1]
    assert "Corrupt EXIF data" in err.split(": error: ")[0]


@requires_torch
def test_weights_file_is_read_once(image_dir, tmp_path, monkeypatch):
    """--weights PATH is checked before any image is read, and the network built
    then is the featurizer's: torch.load runs once per run, not twice."""
    from collections import OrderedDict

    import torch

    from robustkmeans import _vgg16

    path = tmp_path / "w.pth"
    torch.save(_vgg16._load_features(None, "cpu").state_dict(), path)
    monkeypatch.setattr(_vgg16, "_MODEL_MEMO", OrderedDict())
    loads = []
    real_load = torch.load

    def counted(*args, **kwargs):
        loads.append(args[0])
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", counted)
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "2", "--out", str(tmp_path / "o"), "--no-progress"]
    argv += ["--image-size", "32", "--n-init", "1", "--weights", str(path)]
    assert main(argv) == 0
    assert len(loads) == 1  # of the bytes read (and hashed) from the file


# ---------------------------------------------------------------------------------
# behaviour a mutation sweep of cli.py found no test pinning down
# ---------------------------------------------------------------------------------
def test_every_option_says_what_it_is_and_its_default():
    """Each option of each subcommand has a help text that starts by saying what
    the option is (``quantize --loss`` read just ``(absolute)``) and that shows
    the default the parser applies, as ``docs/user_guide/command_line.rst``
    renders these texts."""
    import argparse

    from robustkmeans.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    problems = []
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.dest == "help":
                continue
            text = action.help or ""
            if not text[:1].isalpha():
                problems.append(f"{name} {action.dest}: help {text!r} does not say what it is")
            if action.default not in (None, False) and str(action.default) not in text:
                problems.append(f"{name} {action.dest}: default {action.default!r} not in {text!r}")
    assert problems == []


def test_the_parser_accepts_the_ends_of_every_range():
    from robustkmeans.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(
        [
            *("cluster", "d", "--out", "o", "--k", "auto", "--k-range", "1:2"),
            *("--n-jobs", "-1", "--random-state", "4294967295", "--image-size", "32"),
            *("--silhouette-sample-size", "3", "--epsilon", "0", "--device", "cuda:10"),
        ]
    )
    assert args.k_range == range(1, 3) and args.n_jobs == -1
    assert args.random_state == 2**32 - 1 and args.image_size == 32
    assert args.silhouette_sample_size == 3 and args.epsilon == 0.0
    assert args.device == "cuda:10"
    args = parser.parse_args(["cluster", "d", "--out", "o", "--device", "cuda:0", "--k", "1"])
    assert args.device == "cuda:0" and args.k == 1


@pytest.mark.parametrize("device", ["cuda:01", "cpu:00", "cuda:-1", "cuda:"])
def test_device_numbers_are_written_as_torch_writes_them(device, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["cluster", "d", "--out", "o", "--device", device]) == 2
    assert "argument --device: expected cpu, cuda, cuda:N or auto" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_k_list_is_cut_below_the_number_of_images(tmp_path, capsys, monkeypatch):
    # 5 images: k = 5 (one image per cluster) is not searched, as for a range
    _photos(tmp_path, monkeypatch, 5, "imgs")
    argv = ["cluster", "imgs", "--k", "auto", "--features", "histogram", "--out", "o"]
    assert main([*argv, "--k-range", "2,3,5", "--no-progress"]) == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["k_selection"]["k"] == [2, 3]


def test_a_k_range_leaving_one_k_below_the_number_of_images_is_refused(
    tmp_path, capsys, monkeypatch
):
    _photos(tmp_path, monkeypatch, 3, "imgs")
    argv = ["cluster", "imgs", "--k", "auto", "--k-range", "2:3", "--out", "o"]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 1
    message = "--k-range 2..3 leaves fewer than two values below the number of images"
    assert f"{message} (3 image files found)" in capsys.readouterr().err


def test_k_criterion_falls_back_to_the_smallest_k_when_no_index_chooses():
    from robustkmeans import SelectKResult
    from robustkmeans.cli import _chosen_k

    nan = np.full(3, np.nan)
    search = SelectKResult(
        k_values=np.array([3, 4, 5]),
        objective=nan,
        silhouette=nan,
        calinski_harabasz=nan,
        davies_bouldin=nan,
        best_k=dict.fromkeys(["elbow", "silhouette", "calinski_harabasz", "davies_bouldin"]),
        metric="euclidean",
    )
    # (it said "using k=3 from the smallest k searched criterion instead")
    with pytest.warns(UserWarning, match="; using the smallest k searched, k=3, instead$"):
        assert _chosen_k(search, "elbow") == (3, "smallest k searched")


def test_k_search_of_identical_images_reports_the_smallest_k(tmp_path, capsys):
    # no criterion chooses a k when every image is the same (one cluster at every
    # k): _chosen_k falls back to the smallest k, whose report then ended in a
    # KeyError traceback ('smallest k searched' has no rule to describe it)
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(5):
        (folder / f"blank_{i}.png").write_bytes(_png_bytes(0))
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:3", "--out", str(out)]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "using the smallest k searched, k=2, instead" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["k"] == 2
    assert summary["k_selection"]["criterion"] == "smallest k searched"
    report = (out / "report.html").read_text()
    assert "k=2 is the smallest k searched, as no criterion chose a k" in report
    assert "k=2 is the smallest k searched: no criterion chose a k" in report  # the caption


def test_report_silhouette_uses_the_distance_of_the_loss():
    from sklearn.datasets import make_blobs
    from sklearn.metrics import silhouette_score

    from robustkmeans import LossKMeans
    from robustkmeans.cli import _cluster_metrics

    X, _ = make_blobs(n_samples=40, centers=3, random_state=0)
    model = LossKMeans(3, loss="absolute", random_state=0).fit(X)
    metrics = _cluster_metrics(X, model.labels_, model, np.arange(len(X)))
    assert metrics["silhouette_metric"] == "manhattan"
    expected = silhouette_score(X, model.labels_, metric="manhattan")
    assert metrics["silhouette"] == pytest.approx(expected)
    assert expected != pytest.approx(silhouette_score(X, model.labels_))


def test_labels_csv_rows_give_the_cost_to_six_significant_digits():
    from robustkmeans.cli import _label_rows

    rows = _label_rows(["a.png", "b.png"], np.array([1, 0]), [1.23456789, 0.000123456789], "red")
    assert rows == [["a.png", "red", 1, "1.23457"], ["b.png", "red", 0, "0.000123457"]]


def test_k_checks_say_whether_they_count_files_found_or_images_read(tmp_path, capsys, monkeypatch):
    # 16 image files, one unreadable: k is checked against the 16 files found before
    # any feature is computed, then against the 15 images read once it is skipped
    _photos(tmp_path, monkeypatch, 15)
    (tmp_path / "photos" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    argv = ["cluster", "photos", "--features", "histogram", "--on-error", "skip"]
    argv += ["--out", "r", "--no-progress"]
    found = "the number of images (16 image files found)"
    read = "the number of images (15 readable images, 1 unreadable skipped)"

    assert main([*argv, "--k", "50"]) == 1
    # one line: refused before the features, which note the file skipped
    assert f"--k 50 is larger than {found}" in _error_line(capsys)
    assert main([*argv, "--k", "16"]) == 1
    err = capsys.readouterr().err
    assert "skipped 1 unreadable image(s): photos/broken.png" in err
    assert f"--k 16 is larger than {read}" in err

    assert main([*argv, "--k", "auto", "--k-range", "15:20"]) == 1
    assert f"--k-range 15..20 leaves fewer than two values below {found}" in _error_line(capsys)
    assert main([*argv, "--k", "auto", "--k-range", "14:15"]) == 1
    assert f"--k-range 14..15 leaves fewer than two values below {read}" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", ["cluster", "compare-losses", "demo"])
def test_commands_that_write_figures_need_matplotlib_before_reading_or_writing(
    command, tmp_path, capsys, monkeypatch
):
    # an unreadable image fails the run once the images are read; demo writes crops
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=2)
    (folder / "red" / "notes.jpg").write_text("this is not an image")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    out = tmp_path / "out"
    argv = (
        ["demo", "--n-per-class", "1"] if command == "demo" else [command, str(folder), "--k", "2"]
    )
    argv += ["--out", str(out), "--features", "histogram", "--no-progress"]
    assert main(argv) == 1
    line = _error_line(capsys)
    assert "needs matplotlib" in line and "pip install robustkmeans[plot]" in line
    assert not out.exists()


def test_quantize_without_pillow_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    source = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(source)
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    assert main(["quantize", str(source), "--out", str(tmp_path / "q.png")]) == 1
    line = _error_line(capsys)
    assert "Reading images needs Pillow" in line and "pip install robustkmeans[vision]" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


# Runs main(sys.argv[1:]) in a Python in which the top-level packages named by
# $BLOCKED cannot be imported, as where they are not installed (in this process
# they may be imported already, and other packages look for them in sys.modules).
_WITHOUT = """
import os, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in os.environ["BLOCKED"].split(","):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Blocked())
from robustkmeans.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _main_without(packages, argv, cwd):
    env = {**os.environ, "BLOCKED": ",".join(packages)}
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_demo_without_pytorch_falls_back_to_colour_histograms(tmp_path, capsys):
    # the weights are found (never read: without PyTorch VGG16 cannot run); as
    # when none are found, the demo clusters colour histograms and says why
    weights = tmp_path / "vgg16.pth"
    weights.write_bytes(b"a weights file")
    argv = [
        "demo",
        "--n-per-class",
        "2",
        "--no-progress",
        "--n-init",
        "1",
        "--weights",
        "vgg16.pth",
    ]
    result = _main_without(["torch"], [*argv, "--out", "demo", "--image-size", "64"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "features: colour histograms: PYTORCH IS NOT INSTALLED" in result.stdout
    assert "pip install robustkmeans[vision]" in result.stdout
    assert "--weights, --image-size (VGG16's options) are ignored" in result.stderr
    # the clusters are those of colour histograms
    assert main([*argv[:-2], "--out", str(tmp_path / "histograms"), "--features", "histogram"]) == 0
    assert _read_csv(tmp_path / "demo" / "labels.csv") == _read_csv(
        tmp_path / "histograms" / "labels.csv"
    )


def test_quantize_to_one_colour_says_one_colour(tmp_path, capsys):
    # "wrote q.png (1 colours, loss absolute)"
    source = tmp_path / "photo.png"
    Image.fromarray(np.random.RandomState(0).randint(0, 256, (6, 6, 3), np.uint8)).save(source)
    out = tmp_path / "q.png"
    assert main(["quantize", str(source), "--colors", "1", "--out", str(out)]) == 0
    assert f"wrote {out} (1 colour, loss absolute)" in capsys.readouterr().out
    assert main(["quantize", str(source), "--colors", "2", "--out", str(out)]) == 0
    assert f"wrote {out} (2 colours, loss absolute)" in capsys.readouterr().out


def _displays_drawn(monkeypatch, name):
    """The list that each display of class ``plotting.<name>`` the command draws is
    appended to, as its ``plot`` returns it (the figures' titles, axes and legends
    are checked on them)."""
    from robustkmeans import plotting

    drawn = []
    plot = getattr(plotting, name).plot

    def spy(self, *args, **kwargs):
        display = plot(self, *args, **kwargs)
        drawn.append(display)
        return display

    monkeypatch.setattr(getattr(plotting, name), "plot", spy)
    return drawn


def test_silhouette_figure_of_a_subsample_keeps_cluster_colours_and_says_so(
    image_dir, tmp_path, monkeypatch
):
    # silhouette.png of a subsample coloured the clusters present by rank (a cluster
    # absent from the subsample shifted the colours of those after it, unlike
    # scatter.png and representatives.png), and its title did not say subsample
    drawn = _displays_drawn(monkeypatch, "SilhouetteDisplay")
    folder, _ = image_dir
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "3", "--features", "histogram", "--no-progress"]
    assert main([*argv, "--silhouette-sample-size", "6", "--out", str(out)]) == 0
    (display,) = drawn
    assert display.n_clusters == 3
    assert display.ax_.get_title() == (
        "Silhouette per sample\n(random subsample of 6 of 10 images)"
    )
    drawn.clear()
    assert main([*argv, "--out", str(tmp_path / "all")]) == 0
    assert drawn[0].ax_.get_title() == "Silhouette per sample"


def test_reports_say_what_each_metric_means_and_which_way_is_better(image_dir, tmp_path):
    # the Metrics tables listed bare names (objective, davies_bouldin, adjusted_rand...)
    # with no word on what they measure or whether higher is better; only the
    # "Choosing k" section of --k auto said the direction of four of them
    folder, _ = image_dir
    argv = ["--features", "histogram", "--no-progress", "--n-init", "1", "--k", "2"]
    out = tmp_path / "cluster"
    assert main(["cluster", str(folder), *argv, "--out", str(out)]) == 0
    report = (out / "report.html").read_text()
    metrics = report[report.index("<h2>Metrics</h2>") : report.index("<h2>Clusters</h2>")]
    for text in (
        "objective: the total cost of the images to their centers under the loss huber",
        "lower is better",
        "silhouette: from -1 to 1, higher is better",
        "calinski_harabasz: higher is better",
        "davies_bouldin: 0 or more, lower is better",
        "against the subfolder names",
        "adjusted_rand: 1 for the same grouping, about 0 for a random one",
    ):
        assert text in metrics, text
    # without classes: no word on the scores not computed
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in folder.rglob("*.*"):
        (flat / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "cluster_flat"
    assert main(["cluster", str(flat), *argv, "--out", str(out)]) == 0
    report = (out / "report.html").read_text()
    assert "silhouette: from -1 to 1" in report and "adjusted_rand:" not in report
    assert "on the random subsample" not in report
    out = tmp_path / "cluster_sub"
    argv_sub = [*argv, "--silhouette-sample-size", "6", "--out", str(out)]
    assert main(["cluster", str(flat), *argv_sub]) == 0
    report = (out / "report.html").read_text()
    assert "on the random subsample of images the Settings name" in report
    out = tmp_path / "compare"
    assert main(["compare-losses", str(folder), *argv, "--out", str(out)]) == 0
    report = (out / "report.html").read_text()
    metrics = report[report.index("<h2>Metrics per loss</h2>") : report.index("<h2>Figures")]
    assert "silhouette: from -1 to 1, higher is better" in metrics
    assert "adjusted_rand: 1 for the same grouping" in metrics
    # the objectives of different losses are costs in different units
    assert "not comparable between losses" in metrics


def test_terminal_and_summary_say_when_the_silhouette_is_of_a_subsample(
    image_dir, tmp_path, capsys
):
    # the report's Settings said "silhouette on: a random subsample of 6 of 10
    # images"; the terminal printed silhouette=... (euclidean) and summary.json's
    # silhouette had no word of it (only inside the command line)
    folder, _ = image_dir
    argv = ["--k", "2", "--features", "histogram", "--no-progress", "--n-init", "1"]
    argv += ["--silhouette-sample-size", "6"]
    out = tmp_path / "cluster"
    assert main(["cluster", str(folder), *argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"silhouette=\S+ \(euclidean, on 6 of 10 images\)", printed), printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["silhouette_on"] == (
        "a random subsample of 6 of 10 images (--silhouette-sample-size)"
    )
    assert main(["compare-losses", str(folder), *argv, "--out", str(tmp_path / "c")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(euclidean, on 6 of 10 images)") == len(LOSS_NAMES), printed
    # all images: as before
    argv[-1] = "0"
    assert main(["cluster", str(folder), *argv, "--out", str(tmp_path / "all")]) == 0
    assert re.search(r"silhouette=\S+ \(euclidean\)\n", capsys.readouterr().out)
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert "silhouette_on" not in summary["settings"]


def test_outputs_name_the_folder_their_image_paths_are_relative_to(
    image_dir, tmp_path, monkeypatch
):
    # labels.csv, the report and summary.json give each image's path relative to
    # the image folder, but summary.json did not name that folder (only inside the
    # command line, relative to a working folder it does not record) and the
    # report's title named it as typed: the paths of labels.csv led nowhere from
    # another folder, and demo's (crops in OUT/images/) not even from OUT
    folder, _ = image_dir
    monkeypatch.chdir(tmp_path)
    argv = ["--k", "2", "--features", "histogram", "--no-progress", "--n-init", "1"]
    assert main(["cluster", "images", *argv, "--out", "out"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["settings"]["image_folder"] == str(folder.resolve())
    rows = _read_csv(tmp_path / "out" / "labels.csv")
    assert all((Path(summary["settings"]["image_folder"]) / r["file"]).is_file() for r in rows)
    report = (tmp_path / "out" / "report.html").read_text()
    assert f"<td>{folder.resolve()}</td>" in report
    assert main(["compare-losses", "images", *argv, "--out", "cmp"]) == 0
    assert f"<td>{folder.resolve()}</td>" in (tmp_path / "cmp" / "report.html").read_text()
    assert main(["demo", "--n-per-class", "2", *argv, "--out", "demo"]) == 0
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["settings"]["image_folder"] == str((tmp_path / "demo" / "images").resolve())
    rows = _read_csv(tmp_path / "demo" / "labels.csv")
    assert all((Path(summary["settings"]["image_folder"]) / r["file"]).is_file() for r in rows)


def test_report_says_when_k_is_the_default(image_dir, tmp_path, monkeypatch):
    # a report of `cluster` without --k showed k "8" in its Settings, the command
    # line without --k, and nothing on where the 8 came from (the k of --k auto
    # says "searched, criterion ..."); demo's 6 is one per class
    folder, _ = image_dir
    argv = ["--features", "histogram", "--no-progress", "--n-init", "1"]
    # ten images: the default 8 fits
    assert main(["cluster", str(folder), *argv, "--out", str(tmp_path / "a")]) == 0
    report = (tmp_path / "a" / "report.html").read_text()
    assert "<td>8 (the default --k; pass --k, or --k auto to search)</td>" in report
    assert main(["cluster", str(folder), *argv, "--k", "3", "--out", str(tmp_path / "b")]) == 0
    assert "<td>3</td>" in (tmp_path / "b" / "report.html").read_text()
    assert main(["demo", "--n-per-class", "2", *argv, "--out", str(tmp_path / "d")]) == 0
    report = (tmp_path / "d" / "report.html").read_text()
    assert "<td>6 (the default --k of demo: one per class)</td>" in report
    assert main(["compare-losses", str(folder), *argv, "--out", str(tmp_path / "c")]) == 0
    report = (tmp_path / "c" / "report.html").read_text()
    assert "<td>5 (the default --k; choose one with cluster --k auto)</td>" in report


def test_k_selection_figure_says_when_its_silhouette_is_of_a_subsample(
    image_dir, tmp_path, monkeypatch
):
    # the Settings and summary.json said "silhouette on: a random subsample of 6 of
    # 10 images", but k_selection.png drew a bare "mean silhouette" curve
    drawn = _displays_drawn(monkeypatch, "KSelectionDisplay")
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "auto", "--k-range", "2:4", "--features", "histogram"]
    argv += ["--no-progress", "--n-init", "1"]
    out = tmp_path / "sub"
    assert main([*argv, "--silhouette-sample-size", "6", "--out", str(out)]) == 0
    (display,) = drawn
    note = "random subsample of 6 of 10 images"
    assert display.ax_.get_title().endswith(f"\n(silhouette: euclidean distance, on a {note})")
    assert display.ax_silhouette_.get_ylabel() == "mean silhouette (subsample of 6)"
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert "mean silhouette (subsample of 6)" in legend and "mean silhouette" not in legend
    report = (out / "report.html").read_text()
    caption = re.search(r"<figcaption>([^<]*)<code>k_selection.png", report).group(1)
    assert f"silhouette on a {note}" in caption
    # every image: as before
    drawn.clear()
    out = tmp_path / "all"
    assert main([*argv, "--out", str(out)]) == 0
    assert drawn[0].ax_.get_title().endswith("\n(silhouette: euclidean distance)")
    assert drawn[0].ax_silhouette_.get_ylabel() == "mean silhouette"
    report = (out / "report.html").read_text()
    assert "subsample" not in re.search(r"<figcaption>([^<]*)<code>k_selection.png", report)[1]


def test_the_line_on_skipped_images_names_the_command_as_every_other(tmp_path, capsys):
    # "skipped 1 unreadable image(s): ..." was the one stderr line printed without
    # "robustkmeans cluster: ", which every other note, warning and error has
    folder = tmp_path / "images"
    _make_images(folder, n_per_class=3)
    (folder / "green" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "out"
    argv = ["cluster", str(folder), "--k", "2", "--out", str(out), "--on-error", "skip"]
    assert main([*argv, "--features", "histogram", "--no-progress"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any("skipped 1 unreadable image(s): " in line for line in lines)
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert [f"robustkmeans cluster: {note}" for note in notes] == lines


def test_labels_csv_costs_are_taken_chunk_by_chunk(monkeypatch):
    # labels.csv's cost column made the whole n x k cost matrix (160 MB for
    # 200,000 images and 200 clusters) to keep one value per image
    import robustkmeans.metrics
    from robustkmeans import LossKMeans
    from robustkmeans.metrics import _own_costs

    monkeypatch.setattr(robustkmeans.metrics, "_MAX_COST_VALUES", 50)
    X = np.random.RandomState(0).normal(size=(100, 3)).astype(np.float32)
    km = LossKMeans(n_clusters=5, loss="absolute", n_init=1, random_state=0).fit(X)
    expected = km.transform(X)[np.arange(100), km.labels_]
    rows = []

    def transform(data):
        rows.append(data.shape[0])
        return type(km).transform(km, data)

    monkeypatch.setattr(km, "transform", transform, raising=False)
    cost = _own_costs(km, X, km.labels_)
    assert max(rows) == 10 and sum(rows) == 100
    assert cost.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(cost, expected)


def test_k_at_the_top_of_the_range_is_noted_with_what_to_do(image_dir, tmp_path, capsys):
    # a criterion other than the elbow can choose the largest k searched, beyond
    # which a better one may lie: the run said nothing of it
    folder, _ = image_dir
    argv = ["cluster", str(folder), "--k", "auto", "--features", "histogram", "--no-progress"]
    for k_range, noted in (("2:4", True), ("3:6", False)):
        out = tmp_path / k_range.replace(":", "_")
        assert main([*argv, "--n-init", "1", "--k-range", k_range, "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        k = summary["metrics"]["k"]
        edge = [note for note in summary["notes"] if "is the largest k searched" in note]
        assert (k == int(k_range.split(":")[1])) == noted
        assert bool(edge) == noted
        if noted:
            assert edge == [
                f"note: k={k}, chosen by silhouette, is the largest k searched (2..4): a "
                "larger k may score better; widen --k-range to see."
            ]
            assert edge[0].split("note: ")[1] in capsys.readouterr().err


def test_demo_k_at_the_top_of_a_range_its_images_limit_says_to_raise_n_per_class(tmp_path, capsys):
    # the demo makes its images: "add images" was no advice there (the review of
    # these changes)
    argv = ["demo", "--out", str(tmp_path / "d"), "--k", "auto", "--k-range", "2:20"]
    argv += ["--k-criterion", "calinski_harabasz", "--n-per-class", "2", *DEMO]
    assert main(argv) == 0
    notes = json.loads((tmp_path / "d" / "summary.json").read_text())["notes"]
    edge = [note for note in notes if "is the largest k searched (2..11)" in note]
    assert len(edge) == 1 and edge[0].endswith("raise --n-per-class to see.")
