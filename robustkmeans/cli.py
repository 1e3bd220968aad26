"""Command line: ``robustkmeans cluster | compare-losses | quantize | demo``.

Every subcommand reads its inputs without modifying them and writes its outputs
atomically (a temporary file in the destination folder, then ``os.replace``), so
an interrupted run never leaves a half-written file. ``cluster``, ``demo`` and
``compare-losses`` check their options (and that matplotlib, which draws their
figures, is installed), then compute everything before writing any file
(``demo`` writes its images first, as the input of the run), then replace
their outputs together (restoring the previous ones if a replacement fails) and
remove those of the previous run that this one does not write, if still as that
run wrote them (a manifest in the folder lists them with their SHA-256); a file
of the same name that the command did not write is left, with a note (the
manifest lists ``demo``'s images too, which only a later ``demo`` removes). User
errors (an empty folder, unreadable images, all listed, k larger than the number
of images...) end with a one-line message on stderr and exit status 1; option
values out of range are argparse usage errors (exit status 2) before any image
is read; ``--debug`` shows the traceback.

A file name that is not valid UTF-8 (possible on Linux) is written to
``labels.csv`` as its own bytes, so that it reads back as the path of the file
(open the CSV with ``errors="surrogateescape"``); ``report.html``,
``summary.json`` and the terminal, which need valid text, show those bytes as
``\\xff`` escapes.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import csv
import difflib
import hashlib
import html
import io
import json
import os
import re
import shlex
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from ._utils import display_text as _display_text
from ._utils import make_folders, system_path

__all__ = ["build_parser", "main"]


class UserError(Exception):
    """An error in the user's input, reported in one line without a traceback."""


# ----------------------------------------------------------------------------- output


def _write_temporary(folder: Path, name: str, data: bytes | str) -> str:
    """Write ``data`` to a new temporary file in ``folder``, for ``os.replace`` to ``name``
    (with the permissions the umask gives new files)."""
    from ._cache import new_temporary

    fd, tmp = new_temporary(folder, f".{name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _write_atomic(path: Path, data: bytes | str):
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    make_folders(path.parent)
    tmp = _write_temporary(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Every file that ``cluster`` (and ``demo``) or ``compare-losses`` writes in --out.
_OUTPUT_NAMES = frozenset(
    {
        "labels.csv",
        "report.html",
        "summary.json",
        "k_selection.png",
        "representatives.png",
        "scatter.png",
        "silhouette.png",
        "compare_losses.png",
    }
)

# Written last in --out: the name and SHA-256 of every output of the run. A later
# run removes a file it does not write only if it is listed here and unchanged.
_MANIFEST = ".robustkmeans-outputs.json"


def _is_demo_image(name: str) -> bool:
    """Whether ``name`` (relative to --out, with ``/``) is an image that ``demo`` writes."""
    from ._demo import DEMO_CLASSES

    parts = name.split("/")
    return (
        len(parts) == 3
        and parts[0] == "images"
        and parts[1] in DEMO_CLASSES
        and parts[2].startswith(f"{parts[1]}_")
        and parts[2].endswith(".png")
        and parts[2][len(parts[1]) + 1 : -4].isdigit()
    )


# Replaced last, so that the page and the summary are the last to change.
_WRITTEN_LAST = ("report.html", "summary.json")


#: what a terminal would act on rather than show (escape sequences recolour or clear
#: the screen, a carriage return overwrites the line): the control characters but
#: the newline and the tab, shown escaped as the report shows them
_NOT_ON_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _echo(message: str, file=None) -> None:
    """Print ``message`` (on stdout by default), file names that are not UTF-8 and
    control characters (``_NOT_ON_TERMINAL``) escaped."""
    print(_escape_all(_NOT_ON_TERMINAL, _display_text(message)), file=file)


class _Notes:
    """The notes and warnings of a run, as printed on stderr, for the report.

    :func:`main` gives each run one, as ``args.notes``, with the list in which it
    records Python's warnings; :func:`_note` prints a note on stderr and records
    it here, and :meth:`take_warnings` does so for the warnings given so far, so
    that ``report.html`` ("Notes") and ``summary.json`` (``notes``) hold every
    line the run printed on stderr before they were written.
    """

    def __init__(self, caught=None):
        self.entries: list[str] = []  # as printed, without "robustkmeans COMMAND: "
        self._caught = caught if caught is not None else []
        self._seen = 0
        self._warned: set[str] = set()

    def take_warnings(self, args) -> None:
        """Print and record the warnings given since the last call, one per distinct
        message; Pillow's, which do not name the image, with the input files that
        give them."""
        new = self._caught[self._seen :]
        self._seen = len(self._caught)
        messages = [_one_line(w.message) for w in new]
        fresh = [m for m in dict.fromkeys(messages) if m not in self._warned]
        self._warned.update(fresh)
        sources = _pillow_warning_sources(
            getattr(args, "image_files", []),
            dict.fromkeys(
                m for m, w in zip(messages, new, strict=True) if m in fresh and _from_pillow(w)
            ),
        )
        for message in fresh:
            names = sources.get(message)
            if names:
                message = f"{message} (in {len(names)} image(s): {_shown(names)})"
            _note(args, _in_command_terms(message, args.command), "warning")


def _in_command_terms(message: str, command: str) -> str:
    """The clusterer's warning for fewer distinct points than clusters, said of
    what the command clusters (it speaks of "duplicate points in X"): the pixels
    of ``quantize``'s palette, the images of the others; other messages as they are."""
    found = re.match(
        r"Number of distinct clusters \((\d+)\) found smaller than n_clusters \((\d+)\)",
        message,
    )
    if found is None:
        return message
    n, k = found.groups()
    if command == "quantize":
        return (
            f"the pixels the palette is fitted on hold only {n} distinct colour(s), fewer "
            f"than --colors {k}"
        )
    holds = "cluster holds" if n == "1" else "clusters hold"
    return (
        f"at k={k} only {n} {holds} images: their features take fewer than {k} "
        f"distinct values (duplicate images?), so the other clusters stay empty; a k of "
        f"at most {n} gives every cluster images"
    )


def _note(args, message: str, kind: str | None = "note") -> None:
    """Print ``robustkmeans COMMAND: KIND: message`` on stderr and record it in ``args.notes``.

    Every note and warning of a run goes through here, so that the report and
    ``summary.json`` show what the terminal did. ``kind=None`` leaves out
    ``KIND: `` (the command is named all the same, as on every line on stderr).
    """
    text = message if kind is None else f"{kind}: {message}"
    _echo(f"robustkmeans {args.command}: {text}", file=sys.stderr)
    notes = getattr(args, "notes", None)
    if notes is not None:
        notes.entries.append(_display_text(text))


def _notes_section(args) -> list[tuple[str, str]]:
    """The report's "Notes" section, or none when the run has no note."""
    notes = getattr(args, "notes", None)
    if notes is None or not notes.entries:
        return []
    items = "".join(f"<li>{html.escape(entry)}</li>" for entry in notes.entries)
    return [("Notes", f"<ul>{items}</ul>")]


def _wrote_line(out: Path, names, extra: str = "") -> str:
    """The last line of a run: every file it wrote in ``out``."""
    return f"wrote {len(names)} files to {out}: {', '.join(names)}{extra}"


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    """The SHA-256 of a regular file (not a link), or ``None`` when it cannot be read."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _read_manifest(out: Path) -> dict[str, str]:
    """The outputs that the previous run wrote in ``out``, with their SHA-256.

    Without a readable manifest, no file is known to be ours: ``{}``.
    """
    try:
        data = json.loads((out / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {
        name: digest
        for name, digest in files.items()
        if (name in _OUTPUT_NAMES or _is_demo_image(name)) and isinstance(digest, str)
    }


def _check_destinations(out: Path, names) -> None:
    """Refuse, before anything is replaced, a destination that cannot be written."""
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in {out}: permission denied; no output was changed.")
    for name in names:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            raise UserError(
                f"cannot write {path}: it is a folder; move it away and rerun "
                "(no output was changed)."
            )


def _backup(path: Path) -> str:
    """Rename ``path`` to a new, unused name in its folder and return that name."""
    fd, backup = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".bak")
    os.close(fd)
    try:
        os.replace(path, backup)
    except BaseException:
        Path(backup).unlink(missing_ok=True)
        raise
    return backup


def _write_outputs(
    out: Path, files: dict[str, bytes | str], command: str = "cluster", written=None
):
    """Write the outputs of a run together, then drop those of an earlier run.

    Every file is first written to a temporary file in ``out`` and every
    destination is checked; only then are they renamed into place, each old
    file of the same name set aside as a backup in ``out`` first,
    ``report.html`` and ``summary.json`` last, then the manifest
    :data:`_MANIFEST`. If a rename fails, the files already replaced are
    restored from their backups, so a run that fails leaves the previous
    outputs as they were.

    A file of :data:`_OUTPUT_NAMES` that this run does not write (an earlier
    run's ``silhouette.png``...) is removed only if the manifest lists it and it
    is still exactly what that run wrote; any other (the user's own file, or one
    changed since) is left (:func:`_note_before_writing` notes it). Nothing else
    in ``out`` is touched.

    ``written`` maps the files that the run has already written in ``out`` (the
    images of ``demo``, as ``images/<class>/<name>.png``) to their SHA-256, for
    the manifest. The images of an earlier ``demo`` that this one did not write
    again are removed like the other outputs; a run of another command leaves
    them, still listed, to the next ``demo``.
    """
    make_folders(out)
    written, stale, _ = _previous_outputs(out, files, command, written)
    last = [name for name in _WRITTEN_LAST if name in files]
    order = [*(name for name in files if name not in last), *last]
    manifest = json.dumps(
        {
            "written_by": "robustkmeans",
            "files": dict(
                sorted({**written, **{name: _sha256(data) for name, data in files.items()}}.items())
            ),
        },
        indent=2,
    )
    _check_destinations(out, [*order, *stale, _MANIFEST])

    temporary = {}
    done = []  # [path, its backup or None, whether the new file is in place]
    try:
        for name in order:
            temporary[name] = _write_temporary(out, name, files[name])
        temporary[_MANIFEST] = _write_temporary(out, _MANIFEST, manifest)
        for name in [*order, *stale, _MANIFEST]:  # a stale file only goes to its backup
            path = out / name
            step = [path, None, False]
            done.append(step)
            if os.path.lexists(path):
                step[1] = _backup(path)
            if name in temporary:
                step[2] = True  # before the rename: an interrupt just after it is undone too
                os.replace(temporary[name], path)
                del temporary[name]
    except BaseException:
        for path, backup, placed in reversed(done):  # undo, last first
            try:
                if backup is not None:
                    os.replace(backup, path)
                elif placed:
                    path.unlink(missing_ok=True)
            except OSError:
                pass  # undo the others still
        raise
    finally:
        for tmp in temporary.values():
            Path(tmp).unlink(missing_ok=True)  # those not renamed (after an error)
    for _, backup, _ in done:
        if backup is not None:
            try:
                os.unlink(backup)
            except OSError:
                pass  # the run succeeded; a leftover backup harms nothing


def _previous_outputs(out: Path, names, command: str, written=None):
    """``(written, stale, left)`` for a run writing ``names`` in ``out``.

    ``stale``: the files of :data:`_OUTPUT_NAMES` (and, for ``demo``, the earlier
    demo images) that the previous run wrote, unchanged, and this one does not
    write: removed. ``left``: those of such a name that it did not write, or that
    changed since: kept. ``written`` is the given one, plus the demo images that
    another command keeps listed.
    """
    ours = _read_manifest(out)
    written = dict(written or {})
    images = {name for name in ours if _is_demo_image(name) and name not in written}
    if command != "demo":  # not this command's: kept, and still listed
        written.update({name: ours[name] for name in images})
        images = set()
    stale, left = [], []
    for name in sorted((_OUTPUT_NAMES | images) - set(names)):
        path = out / name
        if not os.path.lexists(path):
            continue
        if name in ours and _file_sha256(path) == ours[name]:
            stale.append(name)
        else:
            left.append(name)
    return written, stale, left


def _note_before_writing(args, out: Path, names, written=None) -> None:
    """Note the outputs that the run leaves as they are, and the warnings so far.

    Called once everything is computed, just before the report is built, so
    that its "Notes" (and ``summary.json``) hold what the terminal shows.
    """
    for name in _previous_outputs(out, names, args.command, written)[2]:
        _note(
            args,
            f"left {out / name} as it is: not written by the previous robustkmeans run "
            "in this folder, or changed since",
        )
    notes = getattr(args, "notes", None)
    if notes is not None:
        notes.take_warnings(args)


#: representatives.png draws at most this many clusters, the largest: each is a row
#: of 150 pixels, and matplotlib refuses a figure past 65,536 (about 437 rows), after
#: minutes of drawing (a report of 440 clusters was still drawing after 12 minutes);
#: the display's ``max_clusters`` draws the largest (the report's table lists all)
_MAX_DRAWN_CLUSTERS = 60


#: compare_losses.png draws at most this many clusters (columns) per loss: a column
#: of 135 pixels in every loss's row, and constrained layout over subfigures grows
#: faster than the axes (40 clusters, 240 axes: 15 s to draw and save); the
#: display's ``max_clusters`` draws the first loss's largest and their counterparts
_MAX_COMPARED_CLUSTERS = 20


def _figure_png(figure) -> bytes:
    """Render a matplotlib figure as PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _csv_bytes(header, rows) -> bytes:
    """The CSV file, UTF-8, with each file name written as its bytes on disk.

    A name that is not valid UTF-8 is written with its own bytes (the file is
    then not valid UTF-8 there), so that it reads back as the same path: open the
    CSV with ``errors="surrogateescape"`` (``encoding_errors`` in pandas).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", sys.getfilesystemencodeerrors())


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        return "n/a" if not np.isfinite(value) else f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    header = list(rows[0])
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(row.get(h, ''))}</td>" for h in header) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# What each metric of the reports' tables measures, and which way is better.
_METRIC_MEANINGS = {
    "silhouette": "from -1 to 1, higher is better: how much closer each image is to "
    "its own cluster than to the next one, in the distance the table names",
    "calinski_harabasz": "higher is better: the spread between clusters over the "
    "spread within them",
    "davies_bouldin": "0 or more, lower is better: how much each cluster overlaps "
    "the one most like it",
}
_LABEL_MEANINGS = {
    "homogeneity": "1 when each cluster holds a single class",
    "completeness": "1 when each class lies in a single cluster",
    "v_measure": "the harmonic mean of homogeneity and completeness",
    "adjusted_rand": "1 for the same grouping, about 0 for a random one (below 0 "
    "for worse than random)",
    "normalized_mutual_info": "from 0 to 1",
}


def _metrics_legend(columns, *, loss=None, subsample=False) -> str:
    """A list saying what each metric among ``columns`` measures and which way is
    better: the objective under ``loss``, or (``loss=None``) under each row's; the
    silhouette of a subsample (``subsample``) says so."""
    if loss is not None:
        objective = (
            f"the total cost of the images to their centers under the loss {loss} "
            "and its scale; lower is better, but only between fits of that loss and "
            "scale on the same images (it also falls as k grows)"
        )
    else:
        objective = (
            "the total cost of the images to their centers under the row's loss, "
            "lower is better; not comparable between losses, whose costs differ in "
            "kind and unit (compare their silhouettes and scores instead)"
        )
    parts = [f"objective: {objective}"] if "objective" in columns else []
    parts += [f"{name}: {text}" for name, text in _METRIC_MEANINGS.items() if name in columns]
    if subsample and "silhouette" in columns:
        parts = [
            part + ", on the random subsample of images the Settings name"
            if part.startswith("silhouette:")
            else part
            for part in parts
        ]
    labels = [f"{name}: {text}" for name, text in _LABEL_MEANINGS.items() if name in columns]
    if labels:
        parts.append(
            "against the subfolder names (the true classes), from 0 to 1 unless "
            "said, higher is better: " + "; ".join(labels)
        )
    return "<ul>" + "".join(f"<li>{html.escape(part)}</li>" for part in parts) + "</ul>"


def _figure_html(name: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(name)}">'
        f"<figcaption>{html.escape(caption)} (<code>{html.escape(name)}</code>)</figcaption>"
        "</figure>"
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;font-size:.9em}th{background:#f2f2f2}figure{margin:1em 0}
img{max-width:100%}figcaption{font-size:.85em;color:#555}code{font-size:.9em}
"""


def _folder_title(folder) -> str:
    """The image folder as the report's title names it: as given, unless it is ``.``
    or ``..`` (a run from inside the folder), which name nothing: then its own name."""
    given = os.path.normpath(os.fspath(folder))
    if set(Path(given).parts) <= {".", ".."}:
        resolved = Path(given).resolve()
        return resolved.name or str(resolved)
    return os.fspath(folder)


# What an HTML page may not hold (a parse error; drawn as nothing, or a box): the
# control characters other than whitespace, and the noncharacters.
_NOT_IN_HTML = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
    + "]"
)


def _html_page(title: str, sections: list[tuple[str, str]]) -> str:
    """The report page; file names that are not UTF-8, and the characters HTML does
    not allow (a control character in a file name), are shown as escapes (``\\x1b``)."""
    body = "".join(f"<h2>{html.escape(h)}</h2>\n{content}\n" for h, content in sections)
    page = _display_text(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}</body></html>\n"
    )
    return _escape_all(_NOT_IN_HTML, page)


def _escape_all(pattern: re.Pattern, text: str) -> str:
    """``text`` with each character ``pattern`` matches written as its escape."""
    return pattern.sub(lambda found: _escape_character(found[0]), text)


def _escape_character(character: str) -> str:
    """``character`` as Python writes it escaped: ``\\x1b``, ``\\ufdd0``, ``\\U0001fffe``."""
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# ----------------------------------------------------------------------------- inputs


def _has_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _load_folder(folder: str, args):
    """List the images of a folder: its own files, and one subfolder per class.

    Labels (from the subfolder names) are returned only when every image lies in
    a subfolder and at least two subfolders hold images (an empty subfolder is
    not a class). When images lie beside class subfolders, or all in one
    subfolder, a note (on stderr, in the report and summary.json) says why the
    clusters are not scored; another names the files left out for their extension.
    Subfolders that cannot be read are listed, as unreadable images are: they stop
    the run, or with ``--on-error skip`` are left out with a note. An image of the
    folder that is an image of a subfolder (a symbolic link) is listed once, in
    its class, with a warning.
    """
    from ._images import (
        _files_under,
        _loose_files,
        _unreadable_reasons,
        image_extensions,
        load_image_folder,
    )

    path = Path(folder)
    if not path.is_dir():
        what = "is not a folder" if os.path.lexists(folder) else "does not exist"
        raise UserError(f"{folder!r} {what}; give a folder of images.")
    extensions = image_extensions()
    top = [str(f) for f in _loose_files(path, extensions)]
    errors, hidden = [], []
    everything = _files_under(path, None, errors, hidden)
    unreadable = _unreadable_reasons(errors, path)
    described = [f"{name} ({reason})" for name, reason in unreadable.items()]
    if unreadable and args.on_error == "raise":
        raise UserError(
            f"{len(unreadable)} folder(s) in {folder!r} cannot be read: {'; '.join(described)}. "
            "Give read permission to them or move them out, or pass --on-error skip to "
            "cluster the images of the others."
        )
    if unreadable:
        _note(
            args,
            f"skipped {len(unreadable)} unreadable folder(s) and the images in them: "
            f"{_shown(described, 5)}",
            None,
        )
    others = [f for f in everything if not f.lower().endswith(extensions)]
    if others:
        _note(
            args,
            f"left out {len(others)} file(s) whose extension is not one of an image "
            f"({_shown(_relative(others, folder))}); the images read end in "
            f"{', '.join(extensions)}",
        )
    # hidden folders (shown with a trailing separator), and hidden files named as
    # images (not .DS_Store and the like)
    hidden = sorted(h for h in hidden if h.endswith(os.sep) or h.lower().endswith(extensions))
    if hidden:
        names = [os.path.relpath(h, folder) + os.sep * h.endswith(os.sep) for h in hidden]
        _note(
            args,
            f"left out {len(hidden)} hidden folder(s) and image file(s), whose names start "
            f"with '.' ({_shown(names)}); rename those that hold images to cluster them",
        )
    try:
        with warnings.catch_warnings():
            # those images are clustered here, and noted below when it matters
            warnings.filterwarnings("ignore", message=r"load_image_folder: \d+ image file\(s\) lie")
            # (the unreadable folders are noted above, in the command's terms)
            warnings.filterwarnings("ignore", message=r"load_image_folder: \d+ folder\(s\)")
            data = load_image_folder(path, on_error="skip")
        nested = [str(f) for f in data.filenames]
    except ValueError:  # no image in any subfolder
        data, nested = None, []
    # An image lying directly in the folder that is an image of a class subfolder
    # (a link fav.png -> a/1.png, or the file a class's link points at) is clustered
    # once, in its class, as load_image_folder keeps a file reached under two class
    # folders once (else it would weigh twice, and its loose copy unscore the run)
    in_classes = {os.path.realpath(f): f for f in nested}
    aliases = [
        (f, in_classes[os.path.realpath(f)]) for f in top if os.path.realpath(f) in in_classes
    ]
    if aliases:
        top = [f for f in top if os.path.realpath(f) not in in_classes]
        shown = [
            f"{Path(link).name} (kept as {os.path.relpath(kept, folder)})" for link, kept in aliases
        ]
        _note(
            args,
            f"{len(aliases)} image(s) lying directly in {folder!r} are the same files as "
            "images of the class subfolders (through symbolic links) and are clustered "
            f"once, in their class: {_shown(shown, 5)}",
            "warning",
        )
    filenames = top + nested
    if not filenames:
        skipped = f"; {len(unreadable)} unreadable folder(s) skipped" if unreadable else ""
        raise UserError(
            f"no images found in {folder!r} or its subfolders (looked for "
            f"{', '.join(extensions)}{skipped})."
        )
    if data is None:
        return filenames, None, []
    if np.unique(data.target).size < 2:
        # (beside loose images, one subfolder is no sign of classes: no note)
        if not top:
            name = data.target_names[int(data.target[0])]
            _note(
                args,
                f"every image lies in one subfolder, {name!r} (one class); the clusters "
                "are not scored against the subfolders (give each class a subfolder of its "
                "own to score them)",
            )
        return filenames, None, []
    if top:
        shown = _shown([Path(f).name for f in top])
        _note(
            args,
            f"{len(top)} image(s) lie directly in {folder!r} "
            f"({shown}), outside the class subfolders; the clusters are not scored against "
            "the subfolders (move those images into a subfolder, or out of the folder, to "
            "score them)",
        )
        return filenames, None, []
    return filenames, np.asarray(data.target), list(data.target_names)


def _lies_in(folder, image_dir) -> bool:
    """Whether ``folder`` is ``image_dir`` or lies inside it, symbolic links resolved."""
    images = Path(image_dir).resolve()
    path = Path(folder).resolve()
    return path == images or images in path.parents


def _check_out_outside(out: Path, image_dir, cache=None) -> None:
    """Refuse an output or cache folder that is the image folder or lies inside it.

    The outputs would replace images of the same name, and a later run would read
    the figures of this one as images (a subfolder as a class); the cache would
    write into the input folder and be read as a class subfolder. Symbolic links
    are resolved.
    """
    for flag, folder in (("--out", out), ("--cache", cache)):
        if folder is None:
            continue
        if _lies_in(folder, image_dir):
            raise UserError(
                f"{flag} {str(folder)!r} is inside the image folder {str(image_dir)!r}; give "
                f"{'an output' if flag == '--out' else 'a cache'} folder outside it (input "
                "images are never modified)."
            )


def _auto_or(value: str, convert, expected: str):
    """``"auto"``, or ``convert(value)`` with argparse's error naming ``expected``."""
    if value == "auto":
        return "auto"
    try:
        return convert(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected} or 'auto', got {value!r}") from None


def _scale(value: str, *, minimum: float = 0.0, closed: bool = False):
    """A loss scale: ``"auto"`` or a finite number above ``minimum`` (or equal, if ``closed``)."""
    scale = _auto_or(value, float, "a number")
    if scale != "auto" and not (
        np.isfinite(scale) and (scale >= minimum if closed else scale > minimum)
    ):
        expected = f"a number {'>=' if closed else '>'} {minimum:g} or 'auto'"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
    return scale


def _positive_scale(value: str):
    """``--delta`` and ``--sigma``: positive, and within the range ``LossKMeans``
    accepts for float32 data (the features and the pixels here), where the loss
    squares them; refused here rather than by the fit, after the images were read,
    in the words of the Python API."""
    from ._loss_kmeans import _scale_range

    scale = _scale(value)
    low, high = _scale_range(np.float32)
    if scale != "auto" and not low <= scale <= high:
        raise argparse.ArgumentTypeError(
            f"expected a number from {low:.3g} to {high:.3g} (the loss squares it in "
            f"float32) or 'auto', got {value!r}"
        )
    return scale


def _nonnegative_scale(value: str):
    """``--epsilon``: zero (no tube) or positive, and a float32 number (the features'
    and the pixels' dtype), as ``LossKMeans`` requires: refused here rather than by
    the fit, after the images were read."""
    scale = _scale(value, closed=True)
    high = float(np.finfo(np.float32).max)
    if scale != "auto" and not scale <= high:
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 to {high:.3g} (a float32 number) or 'auto', got {value!r}"
        )
    return scale


def _k_value(value: str):
    k = _auto_or(value, int, "an integer")
    if k != "auto" and k < 1:
        raise argparse.ArgumentTypeError(f"k must be at least 1, got {k}")
    return k


def _n_clusters(value: str) -> int:
    """A fixed number of clusters: ``compare-losses`` does not search k."""
    if value == "auto":
        raise argparse.ArgumentTypeError(
            "compare-losses needs a number of clusters, not 'auto'; choose one with "
            "'robustkmeans cluster IMAGE_DIR --k auto' first"
        )
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError(f"k must be at least 1, got {k}")
    return k


def _checked_int(value: str, ok, expected: str) -> int:
    """``int(value)`` where ``ok`` accepts it, else argparse's error naming ``expected``."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not ok(number):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
    return number


def _n_jobs(value: str) -> int:
    """joblib's ``n_jobs``: a positive number of jobs, or -1 (all cores), -2, ..."""
    return _checked_int(value, lambda n: n != 0, "a number of jobs >= 1, or -1 for all cores")


def _positive_int(value: str) -> int:
    return _checked_int(value, lambda n: n >= 1, "an integer >= 1")


# The largest seed that numpy (and so scikit-learn's ``random_state``) accepts.
_MAX_SEED = 2**32 - 1


def _seed(value: str) -> int:
    """``--random-state``: a seed numpy accepts, 0 to 2**32 - 1."""
    return _checked_int(
        value, lambda n: 0 <= n <= _MAX_SEED, f"an integer from 0 to {_MAX_SEED} (2**32 - 1)"
    )


def _device(value: str) -> str:
    """``--device``: cpu, cuda, cuda:N or auto, as written; whether this machine has
    that GPU is checked later, still before any image is read (:func:`_check_device`)."""
    if re.fullmatch(r"auto|(cpu|cuda)(:(0|[1-9][0-9]*))?", value) is None:
        raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N or auto, got {value!r}")
    return value


# VGG16's five max-pools halve the image side: pool5, the layer used, needs 32 pixels.
_MIN_IMAGE_SIZE = 32


def _image_size(value: str) -> int:
    return _checked_int(
        value, lambda n: n >= _MIN_IMAGE_SIZE, f"an integer >= {_MIN_IMAGE_SIZE} (VGG16's input)"
    )


def _sample_size(value: str) -> int:
    """``--silhouette-sample-size``: 0 (all samples) or at least 3 (a silhouette needs
    2 to n - 1 clusters among the n images scored)."""
    return _checked_int(value, lambda n: n == 0 or n >= 3, "0 (use all images) or an integer >= 3")


def _nonempty_out(value: str, example: str) -> str:
    """``--out``: a path; an empty one would silently write into the current folder."""
    if not value:
        raise argparse.ArgumentTypeError(
            f"expected a path, got an empty string; give one, e.g. --out {example}"
        )
    # ("--out=~/results" reaches us unexpanded)
    return system_path(os.path.expanduser(value))


def _file_in_the_way(path: str) -> str | None:
    """The file at ``path`` or above it that keeps it from being a folder, else ``None``."""
    current = os.path.abspath(path)
    while not os.path.exists(current):  # the nearest existing path above decides
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return None if os.path.isdir(current) else current


def _folder(value: str, example: str) -> str:
    """A folder that exists or can be created: not a file, nor inside one."""
    blocking = _file_in_the_way(value)
    if blocking is not None:
        where = (
            "is a file"
            if blocking == os.path.abspath(value)
            else f"would be inside {blocking!r}, which is a file"
        )
        raise argparse.ArgumentTypeError(
            f"{value!r} {where}, not a folder; give a folder (it is created if missing), "
            f"e.g. {example}"
        )
    return value


def _cannot_write_in(value: str) -> str | None:
    """Why no file can be written in the folder ``value``, else ``None``.

    The folders missing on the way are created and a temporary file is written
    in the last one, then all are removed, so nothing is left; this finds what
    looking at permissions does not (a read-only file system, ``/proc``, a
    link to a missing folder...).
    """
    # (the path as the system resolves it, as the folders are then created:
    # make_folders)
    target = os.path.realpath(value)
    missing = []
    current = target
    while not os.path.lexists(current):  # the root always exists
        missing.append(current)
        current = os.path.dirname(current)
    created = []
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except OSError as exc:
                return f"cannot create the folder {folder!r} ({exc.strerror or exc})"
            created.append(folder)
        try:
            fd, tmp = tempfile.mkstemp(dir=target, prefix=".robustkmeans-", suffix=".tmp")
        except OSError as exc:
            return f"cannot write a file in {value!r} ({exc.strerror or exc})"
        os.close(fd)
        os.unlink(tmp)
    finally:
        for folder in reversed(created):
            try:
                os.rmdir(folder)
            except OSError:
                pass
    return None


def _check_writable_outputs(args) -> None:
    """Refuse, as usage errors before any image is read, an ``--out`` or ``--cache``
    in which no file can be written (the work would be lost at the end).

    ``quantize``'s ``--out`` is a file: a folder there, or a folder to hold it
    that cannot be written, is refused. A folder inside the image folder is left
    to the command, which refuses it (:func:`_check_out_outside`) before
    anything would be created there.
    """
    parser = args.command_parser
    if args.command == "quantize":
        out = args.out
        if os.path.isdir(out):
            parser.error(
                f"argument --out: {out!r} is a folder; give the name of the image file "
                "to write, e.g. --out quantized.png"
            )
        parent = os.path.dirname(os.path.abspath(out))
        blocking = _file_in_the_way(parent)
        reason = (
            f"{out!r} would be inside {blocking!r}, which is a file"
            if blocking is not None
            else _cannot_write_in(parent)
        )
        if reason is not None:
            parser.error(f"argument --out: {reason}; give a file in a folder you can write in")
        return
    image_dir = getattr(args, "image_dir", None)
    if image_dir is None:  # demo: its images are the input
        image_dir = os.path.join(args.out, "images")
    for flag, folder in (("--out", args.out), ("--cache", getattr(args, "cache", None))):
        if folder is None or _lies_in(folder, image_dir):
            continue
        reason = _cannot_write_in(folder)
        if reason is not None:
            parser.error(f"argument {flag}: {reason}; give a folder you can write in")


def _out_folder(value: str) -> str:
    return _folder(_nonempty_out(value, "results"), "--out results")


def _cache_folder(value: str) -> str:
    if not value:
        raise argparse.ArgumentTypeError(
            "expected a path, got an empty string; give a folder, e.g. --cache features"
        )
    # ("--cache=~/features" reaches us unexpanded: the featurizer expands it, so the
    # checks of the folder must see the same one)
    return _folder(system_path(os.path.expanduser(value)), "--cache features")


def _weights(value: str) -> str:
    """``--weights``: ``imagenet``, ``random`` or a file, ``~`` expanded as for --out
    (``--weights=~/vgg16.pth`` reaches us unexpanded)."""
    return value if value in ("imagenet", "random") else os.path.expanduser(value)


def _out_image(value: str) -> str:
    return _nonempty_out(value, "quantized.png")


def _k_range(value: str) -> range | list[int]:
    """Parse ``"2:10"`` (inclusive), ``"2-10"`` or ``"2,3,5"``, in increasing order.

    A range stays a :class:`range`, never a list: ``2:1000000000`` is cut to the
    k below the number of images (:func:`_k_below`) without being built.
    """
    try:
        for sep in (":", "-"):
            if sep in value:
                low, high = (int(v) for v in value.split(sep))
                values = range(low, high + 1)
                break
        else:
            values = sorted({int(v) for v in value.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a range like 2:10 or a list like 2,3,5, got {value!r}"
        ) from None
    if isinstance(values, range) and not values and values.stop > 1:  # 10:2: k >= 1
        raise argparse.ArgumentTypeError(
            f"the k range {value!r} is empty: it starts above its end; give the smaller "
            f"k first, e.g. {values.stop - 1}:{values.start}"
        )
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"the k range must hold integers >= 1, got {value!r}")
    # (a single value is refused after parsing, with --k known: _check_k_options)
    return values


def _k_below(k_range, n_images: int):
    """The values of the increasing ``k_range`` below ``n_images`` (a range stays one,
    never measured: ``len(range(2, 10**30))`` overflows)."""
    if isinstance(k_range, range):
        return range(k_range.start, min(k_range.stop, n_images))
    return k_range[: bisect.bisect_left(k_range, n_images)]


def _check_device(device: str) -> str:
    """``--device`` (spelled right: :func:`_device`): a torch device this machine has,
    checked before any image is read."""
    import torch

    from ._vgg16 import _missing_cuda_device

    if device == "auto":
        return device
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):  # an index torch cannot read (cuda:99999999999999999999)
        raise UserError(
            f"--device {device!r} is not a torch device; use cpu, cuda, cuda:N or auto."
        ) from None
    count = _missing_cuda_device(torch, parsed)
    if count == 0:
        raise UserError(
            f"--device {device}: torch finds no CUDA GPU on this machine; use "
            "--device cpu, or --device auto (the GPU when there is one)."
        )
    if count is not None:
        raise UserError(
            f"--device {device}: there are {count} CUDA device(s), cuda:0 to "
            f"cuda:{count - 1}; use one of them or --device cuda."
        )
    return device


def _fetch_imagenet_weights(featurizer) -> None:
    """Get ``--weights imagenet`` (torchvision's cache or download) before any image is read."""
    import torch

    from ._vgg16 import _IMAGENET1K_V1_FILE, WEIGHTS_ENV, _weights_in_env

    env = _weights_in_env()
    if env and os.path.isfile(env):
        # the stand-in file, checked before fit loads it, to name it by the variable
        path = os.path.abspath(env)
        _check_weights_file(path, f"--weights imagenet: ${WEIGHTS_ENV}={path}")
    try:
        featurizer.fit()
    except RuntimeError as exc:  # the download failed
        cause = exc.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        checkpoints = os.path.join(torch.hub.get_dir(), "checkpoints")
        raise UserError(
            "--weights imagenet: torchvision's VGG16 ImageNet weights are not in its cache "
            f"and could not be downloaded ({reason}). Offline, pass --weights PATH (a state "
            "dict of vgg16().features) or set ROBUSTKMEANS_VGG16_WEIGHTS, or copy "
            f"{_IMAGENET1K_V1_FILE} into {checkpoints}; --features histogram needs no weights."
        ) from exc


def _check_weights_file(path: str, what: str) -> None:
    """Read the weights file ``path`` once, before any image (or demo crop) is
    written, so that a file torch cannot load fails the run first, named by ``what``.
    The network built from it is the one the featurizer uses on the CPU (the
    process-wide memo, keyed by the file's digest): the file is read only once."""
    from ._vgg16 import _file_digest, _shared_features

    try:
        _shared_features(path, f"sha256:{_file_digest(path)}", "cpu")
    except ValueError as exc:
        raise UserError(f"{what}: {exc}") from None


def _imagenet_note(path: str) -> str:
    """Describe the file that ``--weights imagenet`` used (checked before any image
    is read, by ``_fetch_imagenet_weights``).

    :class:`~robustkmeans.VGG16Featurizer` reads ``weights="IMAGENET1K_V1"``
    from the file named by ``$ROBUSTKMEANS_VGG16_WEIGHTS`` when it is set (the
    offline stand-in for torchvision's ImageNet weights), else from torchvision's
    cache; the note names the file it resolved (``weights_path_``), so that the
    report never credits torchvision with weights that came from elsewhere.
    """
    from ._vgg16 import WEIGHTS_ENV, _weights_in_env

    env = _weights_in_env()
    if not env or os.path.abspath(env) != os.path.abspath(path):
        return f"VGG16 ImageNet weights (torchvision) from {path}"
    return (
        f"VGG16 weights from {path} (${WEIGHTS_ENV}, used by --weights imagenet in place "
        "of torchvision's ImageNet weights)"
    )


def _histograms_instead(args, reason: str, remedy: str, on_error: str):
    """Colour histograms where VGG16 features cannot be computed (``demo``'s
    ``--features auto``), with the description of the features, which says why
    (on stdout and in the report), and a note naming VGG16's options given, which
    are then ignored."""
    from ._demo import ColorHistogramFeaturizer

    given = _vgg16_options_given(args)
    if given:
        which = "VGG16's options) are" if len(given) > 1 else "a VGG16 option) is"
        _note(
            args, f"{reason}: colour histograms are used, and {', '.join(given)} ({which} ignored"
        )
    return ColorHistogramFeaturizer(on_error=on_error), (
        f"colour histograms: {reason.upper()} ({remedy})"
    )


def _make_featurizer(args, *, allow_histogram: bool):
    """Return (featurizer, one-line description of the features).

    Checks what VGG16 needs (PyTorch, the device, the weights) before any image
    is read; with ``allow_histogram`` (``demo``), ``--features auto`` uses colour
    histograms where PyTorch or the weights are missing, and says so.
    """
    from ._demo import ColorHistogramFeaturizer, find_vgg16_weights

    features = args.features
    on_error = "nan"  # every unreadable image is found, then listed or skipped (_extract)
    if features == "histogram":
        return (
            ColorHistogramFeaturizer(on_error=on_error),
            "colour histograms (8x8x8 RGB bins, square-rooted)",
        )
    fallback = features == "auto" and allow_histogram
    from ._vgg16 import VGG16Featurizer, _import_torch

    try:
        _import_torch()
    except ImportError:
        if not fallback:
            raise  # naming the extra to install
        return _histograms_instead(
            args,
            "PyTorch is not installed",
            "install it with `pip install robustkmeans[vision]` to use VGG16 features",
            on_error,
        )
    progress = not args.no_progress and _has_tqdm()
    common = {
        "image_size": _VGG16_IMAGE_SIZE if args.image_size is None else args.image_size,
        "cache": args.cache,
        "progress": progress,
        "on_error": on_error,
    }
    if args.device:
        common["device"] = _check_device(args.device)
    if args.weights == "random":
        note = "VGG16 with RANDOM weights (not meaningful features; for smoke tests only)"
        return VGG16Featurizer(weights=None, **common), note
    if args.weights == "imagenet":
        featurizer = VGG16Featurizer(weights="IMAGENET1K_V1", **common)
        _fetch_imagenet_weights(featurizer)
        return featurizer, _imagenet_note(featurizer.weights_path_)
    try:
        path = find_vgg16_weights(args.weights)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise UserError(
            f"{exc} Or use --weights imagenet (torchvision's cache), --weights random "
            "(smoke test) or --features histogram."
        ) from None
    if path is None:
        if fallback:
            return _histograms_instead(
                args,
                "no VGG16 weights found",
                "pass --weights PATH or set ROBUSTKMEANS_VGG16_WEIGHTS to use VGG16 features",
                on_error,
            )
        raise UserError(
            "no VGG16 weights found: pass --weights PATH (a state dict of vgg16().features), "
            "set ROBUSTKMEANS_VGG16_WEIGHTS, use --weights imagenet (torchvision's cache), "
            "--weights random (smoke test) or --features histogram."
        )
    _check_weights_file(str(path), f"--weights {path}")
    return VGG16Featurizer(weights=str(path), **common), f"VGG16 weights from {path}"


# ----------------------------------------------------------------------------- workflows


def _silhouette_subset(n_samples, args):
    """Indices the silhouette is computed on: all, or a seeded subsample for large n.

    The subsample is the one :func:`~robustkmeans.model_selection.select_k` draws
    with ``random_state=args.random_state`` (it seeds
    :func:`sklearn.metrics.silhouette_score` with the first integer drawn from
    that seed, and the clusterer has its own ``random_state``), so the report's
    silhouette, its silhouette plot and the "Choosing k" table agree for the same
    fit. (A run with ``--k 6`` scores its own fit on the same subsample; with an
    ``auto`` scale that fit differs from the search's at k=6, whose scale is
    estimated once for every k.)
    """
    size = args.silhouette_sample_size
    if size is None or n_samples <= size:
        return np.arange(n_samples)
    seed = np.random.RandomState(args.random_state).randint(np.iinfo(np.int32).max)
    return np.random.RandomState(seed).permutation(n_samples)[:size]


def _silhouette_setting(n_subset, n_images) -> dict:
    """The reports' Settings entry saying that the silhouettes are those of a random
    subsample (``--silhouette-sample-size``), or nothing where they use every image."""
    if n_subset >= n_images:
        return {}
    return {
        "silhouette on": f"a random subsample of {n_subset} of {n_images} images "
        "(--silhouette-sample-size)"
    }


def _silhouette_defined(labels) -> bool:
    """Whether the silhouette of ``labels`` exists: 2 to n_samples - 1 clusters."""
    from .metrics import _is_degenerate

    return not _is_degenerate(labels, len(labels))


def _cluster_metrics(features, labels, model, subset) -> dict:
    """Objective and internal indices; NaN (shown as n/a) where one is undefined.

    The silhouette is computed on ``features[subset]``: NaN when the subsample
    holds a single cluster or only singletons, like the package's scorers. Its
    distance is the one that matches the loss (:func:`~robustkmeans.metrics.loss_metric`),
    named in ``silhouette_metric``.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    from .metrics import _validity_index, loss_metric

    metric = loss_metric(model)
    return {
        "objective": float(model.inertia_),
        "silhouette": _validity_index(
            silhouette_score, features[subset], labels[subset], metric=metric
        ),
        "silhouette_metric": metric,
        "calinski_harabasz": _validity_index(calinski_harabasz_score, features, labels),
        "davies_bouldin": _validity_index(davies_bouldin_score, features, labels),
    }


_LOSS_SCALE = {
    "huber": "delta",
    "pseudo_huber": "delta",
    "correntropy": "sigma",
    "epsilon_insensitive": "epsilon",
}


def _load_failures(filenames) -> dict:
    """``{file: reason}`` for the files that cannot be read now; the others of
    ``filenames`` can, so that their non-finite features come from the network."""
    from ._images import ImageLoadError, load_rgb

    reasons = {}
    for name in filenames:
        try:
            load_rgb(name)
        except ImageLoadError as exc:
            reasons[name] = exc.reason
    return reasons


def _check_finite_features(bad_files, reasons) -> None:
    """Fail when images that read fine got non-finite features: no ``--on-error``
    choice helps there, the weights are at fault."""
    finite_fail = [name for name in bad_files if name not in reasons]
    if finite_fail:
        shown = _shown(finite_fail)
        raise UserError(
            f"the features of {len(finite_fail)} image(s) that read fine are not finite "
            f"(NaN or infinite): {shown}. The network's weights give them; check the "
            "file given to --weights (or ROBUSTKMEANS_VGG16_WEIGHTS)."
        )


def _shown(names, most: int = 3) -> str:
    """The first ``most`` of ``names``, comma-separated, with `` ...`` when there are more."""
    return ", ".join(names[:most]) + (" ..." if len(names) > most else "")


def _one_line(message) -> str:
    return " ".join(str(message).split())


def _from_pillow(warning) -> bool:
    """Whether a recorded warning was raised by Pillow's own code."""
    import PIL

    folder = os.path.dirname(os.path.abspath(PIL.__file__))
    return os.path.abspath(str(warning.filename)).startswith(folder + os.sep)


def _pillow_warning_sources(filenames, messages) -> dict[str, list[str]]:
    """``{message: files}``: the files whose header or EXIF block gives each Pillow warning.

    Pillow's warnings (``Corrupt EXIF data...``) do not name the image, and the
    featurizers read images in worker threads (the figures read them again); once
    the run has given one, each input file is opened again (its header and EXIF
    block only, not its pixels) to find those that give it. A warning raised
    while decoding pixels is not found so, and is shown without a name.
    """
    if not messages:
        return {}
    from PIL import Image

    found = {message: [] for message in messages}
    for name in filenames:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with Image.open(name) as image:
                    # (a PNG without an eXIf chunk before its pixels would decode
                    # them all to look for one: its header is enough there)
                    if image.format != "PNG" or "exif" in image.info:
                        image.getexif()
            except Exception:  # unreadable: listed as such elsewhere
                continue
        for warning in caught:
            message = _one_line(warning.message)
            if message in found and name not in found[message]:
                found[message].append(name)
    return found


def _extract(featurizer, filenames, y, args):
    """Features of the images; those that cannot be read are listed, or skipped.

    The featurizer gives NaN rows for unreadable images (``on_error="nan"``), so
    that all of them are found in one run: with ``--on-error raise`` the run then
    fails listing every one; with ``--on-error skip`` they are dropped, and the
    images left are counted again (:func:`_check_counts`, at least 2, and ``--k``
    at most).
    """
    with warnings.catch_warnings():
        # The unreadable files are reported below, in one line.
        warnings.filterwarnings("ignore", message=".*could not be read", category=UserWarning)
        features = np.asarray(featurizer.fit_transform(filenames))
    bad = ~np.all(np.isfinite(features), axis=1)
    reasons = {}
    if bad.any():
        bad_files = [filenames[i] for i in np.flatnonzero(bad)]
        reasons = _load_failures(bad_files)
        _check_finite_features(bad_files, reasons)
    if args.on_error == "raise" and reasons:
        described = "; ".join(f"{name} ({reason})" for name, reason in reasons.items())
        raise UserError(
            f"{len(reasons)} of {len(filenames)} image(s) cannot be read: {described}. "
            "Remove or replace them, or pass --on-error skip to cluster the others."
        )
    skipped = {}  # {file: why it cannot be read}, in the order of filenames
    if args.on_error == "skip":
        if bad.any():
            skipped = reasons  # (every unreadable image has its reason, checked above)
            features = features[~bad]
            filenames = [f for f, b in zip(filenames, bad, strict=True) if not b]
            y = None if y is None else y[~bad]
            described = [f"{name} ({reason})" for name, reason in skipped.items()]
            _note(args, f"skipped {len(skipped)} unreadable image(s): {_shown(described, 5)}", None)
        if not filenames:
            raise UserError("none of the images could be read.")
        if y is not None and np.unique(y).size < 2:
            _note(
                args,
                "only one subfolder has readable images; "
                "the clusters are not scored against the subfolders",
            )
            y = None
    if skipped:  # else the count checked before the features stands
        _check_counts(
            args,
            len(filenames),
            f"{_plural(len(filenames), 'readable image')}, {len(skipped)} unreadable skipped",
        )
    return features, filenames, y, skipped


def _skipped_section(skipped, root):
    """The report's list of the images skipped (``{file: reason}``), each with why
    it could not be read."""
    items = "".join(
        f"<li><code>{html.escape(shown)}</code>: {html.escape(reason)}</li>"
        for shown, reason in zip(_relative(skipped, root), skipped.values(), strict=True)
    )
    return ("Skipped (unreadable) images", f"<ul>{items}</ul>")


def _plural(n: int, noun: str) -> str:
    """``"1 image"``, ``"2 images"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _files_found(n_files: int) -> str:
    """What the count before the features is: files, some of which may not read."""
    return f"{_plural(n_files, 'image file')} found"


def _more_images(args) -> str:
    """How to get more images: the demo's are made, not found (``--n-per-class``)."""
    return "raise --n-per-class" if args.command == "demo" else "add images"


def _check_counts(args, n_images: int, counted: str):
    """At least two images, no more clusters than images, two k to search below n_images.

    Called before the features are computed, with the number of image files found
    (a k above it can never work, so the run stops before the expensive part), and
    again after, with the images read, when ``--on-error skip`` dropped some.
    ``counted`` says in the messages which count ``n_images`` is (``"16 image files
    found"``, ``"15 readable images, 1 unreadable skipped"``).
    """
    if n_images < 2:
        raise UserError(
            f"clustering needs at least 2 images ({counted}); add images to the folder."
        )
    k = args.k
    more = _more_images(args)
    if k != "auto" and k > n_images:
        if args.k_is_default:
            auto = "" if args.command == "compare-losses" else " or --k auto"
            raise UserError(
                f"the default --k {k} is larger than the number of images ({counted}); "
                f"pass a smaller --k{auto}, or {more}."
            )
        raise UserError(
            f"--k {k} is larger than the number of images ({counted}); use a smaller --k or {more}."
        )
    if k == "auto" and len(_k_below(args.k_range, n_images)) < 2:
        raise UserError(
            f"--k-range {args.k_range[0]}..{args.k_range[-1]} leaves fewer than two "
            f"values below the number of images ({counted}); give a smaller range."
        )


def _default_k(args, default: int) -> None:
    """Set ``args.k`` to ``default`` when --k was not given, and remember which."""
    args.k_is_default = args.k is None
    if args.k is None:
        args.k = default


def _relative(paths, root) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


def _scale_note(model) -> str:
    """``"delta=0.12"`` for a fitted model whose loss has a scale (the value used,
    estimated where it was auto), ``""`` otherwise."""
    scale = _LOSS_SCALE.get(model.loss)
    return "" if scale is None else f"{scale}={_fmt(getattr(model, f'{scale}_'))}"


def _loss_scales(args) -> dict:
    """``--delta``, ``--sigma`` and ``--epsilon`` as keyword arguments."""
    return {"delta": args.delta, "sigma": args.sigma, "epsilon": args.epsilon}


def _loss_kmeans(args, **params):
    """LossKMeans with the loss scales, initialisations and seed of the command line."""
    from ._loss_kmeans import LossKMeans

    return LossKMeans(
        **params, **_loss_scales(args), n_init=args.n_init, random_state=args.random_state
    )


def _label_rows(names, labels, cost, *columns) -> list[list]:
    """Rows of labels.csv: file, the given ``columns``, cluster, cost."""
    return [[n, *columns, int(c), f"{v:.6g}"] for n, c, v in zip(names, labels, cost, strict=True)]


_K_FALLBACKS = ("silhouette", "calinski_harabasz", "davies_bouldin")


def _chosen_k(search, criterion: str) -> tuple[int, str]:
    """The k that ``criterion`` chooses in a :func:`select_k` result, and the rule used.

    When ``criterion`` chooses nothing (no elbow on the objective curve, or an
    index undefined for every k) the first of silhouette, Calinski-Harabasz and
    Davies-Bouldin that chooses a k is used instead, else the smallest k
    searched, with a warning naming the fallback.
    """
    k = search.best_k.get(criterion)
    if k is not None:
        return int(k), criterion
    for used in _K_FALLBACKS:
        if search.best_k.get(used) is not None:
            k = int(search.best_k[used])
            break
    else:
        used, k = "smallest k searched", int(search.k_values[0])
    reason = (
        "the objective curve has no elbow (it needs at least three k values and a bend)"
        if criterion == "elbow"
        else "it is undefined for every k searched"
    )
    fallback = (
        f"the smallest k searched, k={k},"
        if used == "smallest k searched"
        else f"k={k} from the {used} criterion"
    )
    warnings.warn(
        f"--k-criterion {criterion} chose no k: {reason}; using {fallback} instead",
        UserWarning,
        stacklevel=2,
    )
    return k, used


# What each --k-criterion looks for, for the report.
_CRITERION_RULE = {
    "elbow": "the elbow of the objective curve",
    "silhouette": "the largest mean silhouette",
    "calinski_harabasz": "the largest Calinski-Harabasz index",
    "davies_bouldin": "the smallest Davies-Bouldin index",
}


def _k_selection_caption(k: int, criterion: str, subsample: str | None = None) -> str:
    """The caption of k_selection.png, which marks only the elbow and the best silhouette;
    ``subsample`` names the silhouette's random subsample, if any."""
    caption = "Objective and mean silhouette against k, the elbow and the best silhouette marked"
    if subsample is not None:
        caption += f" (silhouette on a {subsample})"
    if criterion not in _CRITERION_RULE:  # _chosen_k's last resort: no criterion chose
        return f"{caption}; k={k} is the {criterion}: no criterion chose a k"
    if criterion in ("elbow", "silhouette"):
        return f"{caption}; k={k} was chosen by {criterion} ({_CRITERION_RULE[criterion]})"
    return (
        f"{caption}; k={k} was chosen by {criterion} ({_CRITERION_RULE[criterion]}), which "
        "this figure does not plot: its values are in the Choosing k table"
    )


def _k_selection_title(k: int, criterion: str, metric: str, subsample: str | None = None) -> str:
    """The title of k_selection.png, which is read alone too: the k taken and the
    criterion that chose it (said not to be plotted where it is not: the figure
    marks only the elbow and the best silhouette), the silhouette's distance and
    ``subsample``, the silhouette's random subsample, if any."""
    if criterion not in _CRITERION_RULE:  # _chosen_k's last resort: no criterion chose
        chose = f"k={k}, the {criterion} (no criterion chose a k)"
    elif criterion in ("elbow", "silhouette"):
        chose = f"k={k}, chosen by {criterion}"
    else:
        chose = f"k={k}, chosen by {criterion} (not plotted)"
    silhouette = f"silhouette: {metric} distance"
    if subsample is not None:
        silhouette += f", on a {subsample}"
    return f"Choosing k: {chose}\n({silhouette})"


def _k_selection_html(search, k: int, criterion: str, args) -> str:
    """The "Choosing k" section: the k each criterion picks, the one used, every value."""
    best = ", ".join(
        f"{name}: {'n/a' if value is None else int(value)}" for name, value in search.best_k.items()
    )
    if any(value is None for value in search.best_k.values()):
        best += " (n/a: the criterion chose none)"
    if criterion in _CRITERION_RULE:
        chose = f"k={k} was chosen by {criterion} ({_CRITERION_RULE[criterion]})"
    else:  # _chosen_k's last resort, the smallest k searched
        chose = f"k={k} is the {criterion}, as no criterion chose a k"
    if criterion == args.k_criterion:
        chose += f", as --k-criterion {args.k_criterion} asked."
    else:
        chose += f": --k-criterion {args.k_criterion} chose none."
    rows = [
        {
            "k": int(kv),
            "objective": float(o),
            "silhouette": float(s),
            "calinski_harabasz": float(ch),
            "davies_bouldin": float(db),
            "chosen": f"chosen by {criterion}" if int(kv) == k else "",
        }
        for kv, o, s, ch, db in zip(
            search.k_values,
            search.objective,
            search.silhouette,
            search.calinski_harabasz,
            search.davies_bouldin,
            strict=True,
        )
    ]
    return (
        f"<p>Best k per criterion: {html.escape(best)}. "
        f"{html.escape(chose)} Lower is better for the objective and Davies-Bouldin, "
        f"higher for the silhouette and Calinski-Harabasz.</p>{_table(rows)}"
    )


def _run_cluster(
    args, filenames, y, target_names, featurizer, feature_note, root, out, written=None
):
    """Cluster images, write labels.csv, figures, report.html and summary.json.

    Everything is computed before the first file is written, so a run that fails
    leaves the outputs of the previous run in ``out`` as they were. ``written``
    lists the files the run wrote in ``out`` already (see :func:`_write_outputs`).
    Returns the summary and the names of the files written in ``out``.
    """
    from .metrics import _own_costs, evaluate_labels, loss_metric
    from .model_selection import select_k
    from .plotting import (
        ClusterScatterDisplay,
        KSelectionDisplay,
        RepresentativesDisplay,
        SilhouetteDisplay,
    )

    features, filenames, y, skipped = _extract(featurizer, filenames, y, args)
    n_images = len(filenames)
    estimator = _loss_kmeans(args, loss=args.loss)
    figures, search = [], None
    subset = _silhouette_subset(n_images, args)
    if args.k == "auto":
        k_range = _k_below(args.k_range, n_images)
        if k_range[-1] != args.k_range[-1]:
            _note(
                args,
                f"--k-range limited to k <= {n_images - 1} (there are {n_images} images)",
            )
        search = select_k(
            estimator,
            features,
            k_range,
            n_jobs=args.n_jobs,
            random_state=args.random_state,
            sample_size=None if subset.size == n_images else subset.size,
            return_estimators=True,
            progress=not args.no_progress and _has_tqdm(),
        )
        k, criterion = _chosen_k(search, args.k_criterion)
        if criterion != "elbow" and k_range[-1] > k_range[0] and k == k_range[-1]:
            # (the elbow never picks an end; the others can, and the best k may
            # then lie beyond the range)
            capped = k_range[-1] != args.k_range[-1]
            widen = _more_images(args) if capped else "widen --k-range"
            _note(
                args,
                f"k={k}, chosen by {criterion}, is the largest k searched "
                f"({k_range[0]}..{k_range[-1]}): a larger k may score better; {widen} "
                "to see.",
            )
        # (its axis and legend say when the silhouette is of a subsample)
        display = KSelectionDisplay.from_result(search)
        subsample = None
        if subset.size < n_images:
            # images, as the Settings say, where the display says samples
            subsample = f"random subsample of {subset.size} of {n_images} images"
        display.ax_.set_title(_k_selection_title(k, criterion, loss_metric(estimator), subsample))
        figures.append(
            (
                "k_selection.png",
                _figure_png(display.figure_),
                _k_selection_caption(k, criterion, subsample),
            )
        )
        # the fit the search scored, not a refit: the report shows that very fit
        model = search.estimators[int(np.flatnonzero(search.k_values == k)[0])]
    else:
        k = args.k
        model = estimator.set_params(n_clusters=k).fit(features)
    labels = np.asarray(model.labels_)
    cost = _own_costs(model, features, labels)
    names = _relative(filenames, root)
    labels_csv = _csv_bytes(["file", "cluster", "cost"], _label_rows(names, labels, cost))

    metrics = {"k": int(k), "loss": args.loss, **_cluster_metrics(features, labels, model, subset)}
    if y is not None:
        metrics.update(evaluate_labels(y, labels))
    representatives = RepresentativesDisplay.from_estimator(
        model,
        features,
        filenames,
        n_representatives=args.n_representatives,
        n_atypical=2,
        plot=False,
    )
    caption = "Closest to each center, then the most atypical (largest cost)"
    if not any(representatives.atypical.values()):
        caption = (
            f"Closest to each center; no cluster has more than --n-representatives "
            f"{args.n_representatives} images, so none is shown as atypical"
        )
    if len(representatives.representatives) > _MAX_DRAWN_CLUSTERS:
        caption += (
            f"; the {_MAX_DRAWN_CLUSTERS} largest of "
            f"{len(representatives.representatives)} clusters (labels.csv lists every "
            "image's cluster)"
        )
    drawn = representatives.plot(max_clusters=_MAX_DRAWN_CLUSTERS)
    figures.append(("representatives.png", _figure_png(drawn.figure_), caption))
    y_names = None if y is None else np.asarray(target_names)[y]
    scatter = ClusterScatterDisplay.from_estimator(model, features, y=y_names)
    figures.append(
        ("scatter.png", _figure_png(scatter.figure_), "PCA of the features, centers marked")
    )
    if _silhouette_defined(labels[subset]):
        # n_clusters: a cluster absent from the subsample shifts no colour
        silhouette = SilhouetteDisplay.from_predictions(
            features[subset], labels[subset], metric=loss_metric(model), n_clusters=k
        )
        caption = "Silhouette per sample"
        if subset.size < n_images:
            caption += f" (random subsample of {subset.size} of {n_images} images)"
            # the PNG says so too, read alone
            silhouette.ax_.set_title(
                f"Silhouette per sample\n(random subsample of {subset.size} of {n_images} images)"
            )
        figures.append(("silhouette.png", _figure_png(silhouette.figure_), caption))
    pngs = {name: (png, caption) for name, png, caption in figures}

    sizes = np.bincount(labels, minlength=k)
    cluster_rows = []
    for c in range(k):
        cluster_rows.append(
            {
                "cluster": c,
                "size": int(sizes[c]),
                "closest to center": ", ".join(
                    names[i] for i in representatives.representatives[c]
                ),
                "most atypical (largest cost)": ", ".join(
                    f"{names[i]} ({cost[i]:.3g})" for i in representatives.atypical[c]
                ),
            }
        )
    settings = {
        "images": n_images,
        "features": feature_note,
        "loss": args.loss,
        "k": str(k),
        **_silhouette_setting(subset.size, n_images),
    }
    if getattr(args, "k_is_default", False) and search is None:
        # where k came from, as "searched, criterion ..." says for --k auto
        settings["k"] = (
            f"{k} (the default --k of demo: one per class)"
            if args.command == "demo"
            else f"{k} (the default --k; pass --k, or --k auto to search)"
        )
    if search is not None:
        note = f"criterion {criterion}"
        if criterion != args.k_criterion:
            note += f"; --k-criterion {args.k_criterion} chose none"
        settings["k"] = f"{k} (searched, {note})"
    scale = _LOSS_SCALE.get(args.loss)
    if scale is not None:
        settings[scale] = _fmt(getattr(model, f"{scale}_", getattr(args, scale)))
    reproduce = _reproduce_settings(args, featurizer, root)
    if search is not None:
        reproduce = {"k range searched": [int(v) for v in search.k_values], **reproduce}
    settings.update({name: _listed(value) for name, value in reproduce.items()})
    names_written = ["labels.csv", *pngs, "report.html", "summary.json"]
    _note_before_writing(args, out, names_written, written)
    sections = [
        ("Settings", _table([settings])),
        *_notes_section(args),
        (
            "Metrics",
            _table([metrics])
            + _metrics_legend(metrics, loss=args.loss, subsample=subset.size < n_images),
        ),
        ("Clusters", _table(cluster_rows)),
    ]
    if skipped:
        sections.append(_skipped_section(skipped, root))
    if search is not None:
        sections.append(("Choosing k", _k_selection_html(search, k, criterion, args)))
    sections.append(
        ("Figures", "".join(_figure_html(n, png, cap) for n, (png, cap) in pngs.items()))
    )
    summary = {
        # what reproduces the run: its command line, seed, initialisations... and,
        # as in the report's Settings, the silhouette's subsample where there is one
        "settings": {
            name.replace(" ", "_"): value
            for name, value in {
                **_silhouette_setting(subset.size, n_images),
                **reproduce,
            }.items()
        },
        "metrics": metrics,
        # the loss's scale as fitted (a number where --delta/--sigma/--epsilon is auto)
        "scale": {} if scale is None else {scale: float(getattr(model, f"{scale}_"))},
        "skipped": _relative(skipped, root),
        "features": feature_note,
        "cluster_sizes": sizes.tolist(),
        "figures": sorted(pngs),
        # the notes and warnings printed on stderr, as in the report's "Notes"
        "notes": list(getattr(getattr(args, "notes", None), "entries", [])),
    }
    if search is not None:
        summary["k_selection"] = {
            **search.to_dict(),
            "requested_criterion": args.k_criterion,
            "criterion": criterion,  # the one that chose k
        }
    files = {
        "labels.csv": labels_csv,
        **{name: png for name, (png, _) in pngs.items()},
        "report.html": _html_page(f"Clusters of {_folder_title(root)}", sections),
        "summary.json": json.dumps(_json_ready(summary), indent=2, allow_nan=False),
    }
    _write_outputs(out, files, args.command, written)  # only now, once everything is built
    return summary, list(files)


def _json_ready(value):
    """``value`` with NumPy scalars and arrays as Python ones and NaN or inf as None.

    JSON has no NaN: ``json.dumps`` would write ``NaN``, which strict parsers
    reject, so an undefined metric is written as ``null``. Strings are valid
    Unicode (:func:`_display_text`): a file name that is not UTF-8 is written
    with ``\\xff`` escapes, not as lone surrogates that strict parsers reject.
    """
    if isinstance(value, dict):
        return {_display_text(str(key)): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, str):
        return _display_text(value)
    return value


def _reproduce_settings(args, featurizer, root) -> dict:
    """The settings that reproduce a run with its outputs, beside those shown
    already: the image folder ``root`` (absolute: the paths of labels.csv and the
    report are relative to it, and the command line's to a working folder not
    recorded), seed, initialisations, VGG16's input size and device, and the
    command line."""
    from ._vgg16 import VGG16Featurizer

    settings = {
        "image folder": str(Path(root).resolve()),
        "n_init": args.n_init,
        "random_state": args.random_state,
    }
    if isinstance(featurizer, VGG16Featurizer):
        settings["image_size"] = featurizer.image_size
        # the device the features came from (--device auto resolved; fitted by then):
        # CPU and CUDA features differ in their last bits
        device = getattr(featurizer, "device_", None)
        if device is not None:
            settings["device"] = str(device)
    settings["command"] = shlex.join(["robustkmeans", *args.argv])
    return settings


def _listed(value) -> str | int:
    """A list of k values as ``2, 3, 4`` for the report's table."""
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def _cmd_cluster(args) -> int:
    out = Path(args.out)
    _check_out_outside(out, args.image_dir, args.cache)
    _default_k(args, _DEFAULT_K["cluster"])
    filenames, y, target_names = _load_folder(args.image_dir, args)
    _check_counts(args, len(filenames), _files_found(len(filenames)))
    featurizer, note = _make_featurizer(args, allow_histogram=False)
    args.image_files = filenames  # named in Pillow's warnings (main)
    summary, names = _run_cluster(
        args, filenames, y, target_names, featurizer, note, args.image_dir, out
    )
    _print_summary(summary, out, names, args)
    return 0


def _silhouette_of(metric, n_subset, n_images) -> str:
    """``euclidean``, or ``euclidean, on 6 of 10 images`` for the silhouette of a
    subsample, as the terminal prints it after a silhouette."""
    return metric if n_subset >= n_images else f"{metric}, on {n_subset} of {n_images} images"


def _print_summary(summary, out, names, args, extra=""):
    metrics = summary["metrics"]
    n_images = sum(summary["cluster_sizes"])
    n_subset = _silhouette_subset(n_images, args).size
    _echo(f"features: {summary['features']}")
    _echo(
        f"k={metrics['k']} loss={metrics['loss']} sizes={summary['cluster_sizes']} "
        f"silhouette={_fmt(metrics['silhouette'])} "
        f"({_silhouette_of(metrics['silhouette_metric'], n_subset, n_images)})"
    )
    if "adjusted_rand" in metrics:
        _echo(
            f"against the subfolder labels: ARI={metrics['adjusted_rand']:.3f} "
            f"V-measure={metrics['v_measure']:.3f}"
        )
    _echo(_wrote_line(out, names, extra))


# The silhouettes of compare-losses: one distance for every loss, so that the
# rows compare (``cluster`` uses the distance matching its one loss).
_COMPARISON_METRIC = "euclidean"


def _cmd_compare_losses(args) -> int:
    from ._losses import LOSS_NAMES
    from .metrics import _own_costs
    from .plotting import LossComparisonDisplay

    out = Path(args.out)
    _check_out_outside(out, args.image_dir, args.cache)
    _default_k(args, _DEFAULT_K["compare-losses"])
    filenames, y, _ = _load_folder(args.image_dir, args)
    _check_counts(args, len(filenames), _files_found(len(filenames)))
    featurizer, note = _make_featurizer(args, allow_histogram=False)
    args.image_files = filenames  # named in Pillow's warnings (main)
    features, filenames, y, skipped = _extract(featurizer, filenames, y, args)
    n_images = len(filenames)
    estimator = _loss_kmeans(args, n_clusters=args.k)
    display = LossComparisonDisplay.from_estimator(
        estimator,
        features,
        filenames,
        y=y,
        losses=list(LOSS_NAMES),
        n_jobs=args.n_jobs,
        metric=_COMPARISON_METRIC,
        sample_size=args.silhouette_sample_size,
        random_state=args.random_state,
        plot=False,
    )
    names = _relative(filenames, args.image_dir)
    rows = []
    for loss, model in display.estimators_.items():
        labels = display.labels_[loss]
        rows.extend(_label_rows(names, labels, _own_costs(model, features, labels), loss))
    labels_csv = _csv_bytes(["file", "loss", "cluster", "cost"], rows)
    png = _figure_png(display.plot(max_clusters=_MAX_COMPARED_CLUSTERS).figure_)
    caption = "Representative per cluster for each loss"
    if len(display.representatives[0]) > _MAX_COMPARED_CLUSTERS:
        caption += (
            f"; the {_MAX_COMPARED_CLUSTERS} largest clusters of the first loss "
            f"({display.losses[0]}) of {len(display.representatives[0])}, and their "
            "counterparts (labels.csv lists every image's cluster under each loss)"
        )
    table = [
        {
            "loss": loss,
            "scale": _scale_note(display.estimators_[loss]),
            "cluster sizes": " ".join(map(str, sizes)),
            **metrics,
            "silhouette metric": display.silhouette_metric,
        }
        for loss, sizes, metrics in zip(
            display.losses, display.cluster_sizes, display.metrics, strict=True
        )
    ]
    names_written = ["labels.csv", "compare_losses.png", "report.html"]
    _note_before_writing(args, out, names_written)
    # (the display draws its silhouettes' subsample by the same rule)
    n_subset = _silhouette_subset(n_images, args).size
    sections = [
        (
            "Settings",
            _table(
                [
                    {
                        "images": n_images,
                        "features": note,
                        "k": (
                            f"{args.k} (the default --k; choose one with cluster --k auto)"
                            if args.k_is_default
                            else args.k
                        ),
                        **_silhouette_setting(n_subset, n_images),
                        **_reproduce_settings(args, featurizer, args.image_dir),
                    }
                ]
            ),
        ),
        *_notes_section(args),
        (
            "Metrics per loss",
            _table(table) + _metrics_legend(table[0], subsample=n_subset < n_images),
        ),
        *([_skipped_section(skipped, args.image_dir)] if skipped else []),
        (
            "Figures",
            _figure_html("compare_losses.png", png, caption),
        ),
    ]
    report = _html_page(f"Losses compared on {_folder_title(args.image_dir)}", sections)
    _write_outputs(
        out,
        dict(zip(names_written, (labels_csv, png, report), strict=True)),
        args.command,
    )
    _echo(f"features: {note}")
    for row in table:
        extra = f" ARI={row['adjusted_rand']:.3f}" if "adjusted_rand" in row else ""
        _echo(
            f"{row['loss']:>20}: silhouette={_fmt(row['silhouette'])} "
            f"({_silhouette_of(row['silhouette metric'], n_subset, n_images)}){extra}"
        )
    _echo(_wrote_line(out, names_written))
    return 0


# Formats whose encoding is lossy (JPEG always; Pillow's AVIF has no lossless mode).
_LOSSY_FORMATS = frozenset({"JPEG", "MPO", "AVIF", "PDF"})  # (Pillow writes RGB PDFs as JPEG)

# Options that make a format lossless where its default is lossy.
_LOSSLESS_OPTIONS = {"WEBP": {"lossless": True}}


def _n_colours(image) -> int:
    """The number of distinct colours of an (H, W, 3) image (or a grey (H, W) one).

    8-bit colours are marked by their 24-bit codes in a table of all of them, as
    quantisation indexes them, a block of rows at a time: ``np.unique(..., axis=0)``
    sorted every pixel as a row, 85 s of a 90 s run on an 8000 x 8000 image (a
    user review)."""
    from ._quantize import _ALL_CODES, _colour_codes

    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.dtype != np.uint8 or image.shape[-1] not in (1, 3):
        return len(np.unique(image.reshape(-1, image.shape[-1]), axis=0))
    seen = np.zeros(_ALL_CODES, dtype=bool)
    rows = max(1, (1 << 22) // max(1, image.shape[1]))
    for start in range(0, image.shape[0], rows):
        seen[_colour_codes(image[start : start + rows].reshape(-1, image.shape[-1]))] = True
    return int(np.count_nonzero(seen))


def _colours(n: int) -> str:
    """``"1 colour"``, ``"2 colours"``..."""
    return f"{n} colour{'s' * (n != 1)}"


def _encode_image(array, image_format: str, out: Path):
    """``array`` encoded as ``image_format``, and the pixels the file holds once read back.

    WebP is written lossless (Pillow's default is lossy). The pixels read back are
    ``None`` for a format that Pillow writes but cannot read (PDF...).
    """
    from ._images import _import_pil

    Image = _import_pil()

    buffer = io.BytesIO()
    try:
        Image.fromarray(array).save(
            buffer, format=image_format, **_LOSSLESS_OPTIONS.get(image_format, {})
        )
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot write {out} as {image_format}: {exc}; end --out in .png."
        ) from None
    data = buffer.getvalue()
    try:
        with Image.open(io.BytesIO(data)) as image:
            stored = np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
        stored = None
    return data, stored


def _cmd_quantize(args) -> int:
    from ._images import _import_pil
    from ._quantize import quantize_colors

    source = Path(args.image)
    out = Path(args.out)
    if source.is_dir():
        raise UserError(
            f"{args.image!r} is a folder; quantize takes one image file "
            "(to cluster a folder of images use 'robustkmeans cluster')."
        )
    if not source.is_file():
        raise UserError(f"image {args.image!r} does not exist.")
    if out.exists() and out.resolve() == source.resolve():
        raise UserError("--out must differ from the input image; input images are never modified.")
    Image = _import_pil()  # the ImportError names the extra to install

    extension = out.suffix.lower()
    Image.init()
    if not extension and out.name.lower() in Image.EXTENSION:
        # ".png" is a hidden file's name to pathlib, with no extension
        raise UserError(
            f"--out {args.out!r} has an extension but no file name; give one, e.g. "
            f"{str(out.with_name('quantized' + out.name))!r}."
        )
    if extension not in Image.EXTENSION:
        raise UserError(f"cannot tell the image format of --out {args.out!r}; end it in .png.")
    image_format = Image.EXTENSION[extension]
    if image_format not in Image.SAVE:
        raise UserError(
            f"Pillow cannot write {image_format} images (--out {args.out!r}); end it in .png."
        )
    n_colors = args.colors
    try:
        with Image.open(source) as image:
            n_pixels = image.width * image.height
    except (OSError, ValueError, Image.DecompressionBombError):
        # unreadable, or too large for Pillow to open (not an OSError):
        # quantize_colors says why, naming the file
        n_pixels = None
    if n_pixels is not None and n_colors > n_pixels:
        n_colors = n_pixels
        _note(
            args,
            f"the image has {n_pixels} pixel(s); the palette "
            f"is capped at {n_colors} colour(s) (--colors {args.colors})",
        )
    if n_pixels is not None and args.sample_size < min(n_colors, n_pixels):
        raise UserError(
            f"--sample-size {args.sample_size} is smaller than --colors {n_colors}: the "
            f"palette is fitted on that many pixels; give --sample-size {n_colors} or more, "
            "or fewer --colors."
        )
    args.image_files = [str(source)]  # named in Pillow's warnings (main)
    quantized = quantize_colors(
        source,
        n_colors=n_colors,
        loss=args.loss,
        **_loss_scales(args),
        sample_size=args.sample_size,
        random_state=args.random_state,
    )
    data, stored = _encode_image(quantized, image_format, out)
    _write_atomic(out, data)
    n_used = _n_colours(quantized)
    if stored is None and image_format in _LOSSY_FORMATS:
        # (not readable back here, e.g. a PDF: its pixels are JPEG-compressed)
        _note(
            args,
            f"{image_format} stores the pixels with lossy compression, so {out} holds more "
            f"colours than the {n_used} of the palette; write .png, .tif or .webp (lossless) "
            "for exactly the palette",
        )
        _echo(f"wrote {out} ({n_used}-colour palette, loss {args.loss}; lossy {image_format})")
        return 0
    if stored is None:
        _echo(
            f"wrote {out} ({_colours(n_used)}, loss {args.loss}; {image_format} cannot be read "
            "back here to check it holds exactly them)"
        )
        return 0
    if stored.shape == quantized.shape and np.array_equal(stored, quantized):
        _echo(f"wrote {out} ({_colours(n_used)}, loss {args.loss})")
        return 0
    n_stored = _n_colours(stored)
    if stored.shape != quantized.shape:
        how = f"{image_format} stored the image resized to {stored.shape[1]}x{stored.shape[0]}"
    elif image_format in _LOSSY_FORMATS:
        how = f"{image_format} compression is lossy: it blends the colours"
    else:
        how = f"{image_format} cannot store the palette exactly"
    _note(
        args,
        f"{how}, so {out} holds {n_stored} distinct colours, "
        f"not the {n_used} of the palette; write .png, .tif or .webp (lossless) for exactly "
        "the palette",
    )
    _echo(
        f"wrote {out} ({n_used}-colour palette, loss {args.loss}; the file holds "
        f"{_colours(n_stored)} after {image_format} encoding)"
    )
    return 0


def _cmd_demo(args) -> int:
    from ._demo import DEMO_CLASSES, make_demo_images

    out = Path(args.out)
    images = out / "images"
    # every argument is checked before the first image is written
    if args.cache is not None:
        _check_out_outside(None, images, args.cache)
    _default_k(args, len(DEMO_CLASSES))
    n_images = len(DEMO_CLASSES) * args.n_per_class
    _check_counts(
        args,
        n_images,
        f"{n_images} crops: {len(DEMO_CLASSES)} classes x --n-per-class {args.n_per_class}",
    )
    featurizer, note = _make_featurizer(args, allow_histogram=True)
    data = make_demo_images(images, n_per_class=args.n_per_class, random_state=args.random_state)
    _echo(
        f"demo: {len(data.filenames)} crops of scikit-learn's sample images in "
        f"{len(data.target_names)} classes ({', '.join(data.target_names)}) written to {images}"
    )
    written = {
        Path(os.path.relpath(f, out)).as_posix(): _file_sha256(Path(f)) for f in data.filenames
    }
    args.image_files = data.filenames  # named in Pillow's warnings (main)
    summary, names = _run_cluster(
        args,
        data.filenames,
        data.target,
        data.target_names,
        featurizer,
        note,
        images,
        out,
        written,
    )
    _print_summary(summary, out, names, args, f", and the {len(written)} images in {images}")
    return 0


# ----------------------------------------------------------------------------- parser


def _add_feature_options(parser, *, features_default):
    group = parser.add_argument_group("features")
    group.add_argument(
        "--features",
        choices=["auto", "vgg16", "histogram"]
        if features_default == "auto"
        else ["vgg16", "histogram"],
        default=features_default,
        help="image features: VGG16 (needs weights) or colour histograms "
        f"(default: {features_default}"
        + (
            "; auto uses VGG16 when weights are found and PyTorch is installed, else "
            "histograms, and says so)"
            if features_default == "auto"
            else ")"
        ),
    )
    group.add_argument(
        "--weights",
        type=_weights,
        default=None,
        help="VGG16 weights: a state-dict file for vgg16().features, 'imagenet' "
        "(torchvision's ImageNet weights from its cache, downloaded there if missing; "
        "when $ROBUSTKMEANS_VGG16_WEIGHTS is set, the file it names instead, as the "
        "offline stand-in, and the report names that file) or 'random' (smoke tests). Default: "
        "$ROBUSTKMEANS_VGG16_WEIGHTS, else shared/weights/vgg16_features_imagenet1k_v1.pth "
        "in the working folder or the nearest folder above it that has one",
    )
    group.add_argument(
        "--image-size",
        type=_image_size,
        default=None,  # 224, set for VGG16; None tells that it was not given
        help=f"VGG16 input side ({_VGG16_IMAGE_SIZE})",
    )
    group.add_argument(
        "--cache",
        type=_cache_folder,
        default=None,
        help="folder caching VGG16 features across runs (outside the image folder); "
        "colour histograms are cheap to recompute and not cached",
    )
    group.add_argument(
        "--device",
        type=_device,
        default=None,
        help="torch device for VGG16: cpu, cuda, cuda:N or auto (the GPU when there is "
        "one, else cpu); default cpu",
    )
    group.add_argument(
        "--on-error",
        choices=["raise", "skip"],
        default="raise",
        help="an unreadable image or folder stops the run (raise, default) or is skipped "
        "and listed",
    )


# --image-size when it is not given.
_VGG16_IMAGE_SIZE = 224

# The options that only VGG16 features use: (attribute, flag).
_VGG16_OPTIONS = (
    ("weights", "--weights"),
    ("image_size", "--image-size"),
    ("cache", "--cache"),
    ("device", "--device"),
)


def _vgg16_options_given(args) -> list[str]:
    """The flags of VGG16's own options given on the command line."""
    return [flag for name, flag in _VGG16_OPTIONS if getattr(args, name, None) is not None]


def _check_vgg16_options(args) -> None:
    """Refuse, as a usage error, VGG16's options given with ``--features histogram``.

    They would be ignored: colour histograms need no weights, device or input
    size, and are not cached (they cost less to recompute than VGG16 features).
    With ``--features vgg16`` (or ``auto``) these options are checked before any
    image is read, so silently accepting them here would hide a mistake.
    """
    if getattr(args, "features", None) != "histogram":
        return
    given = _vgg16_options_given(args)
    if given:
        vgg16 = "--features vgg16" + (" or auto" if args.command == "demo" else "")
        args.command_parser.error(
            f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to {vgg16} only "
            "(colour histograms need no weights, device or input size, and are not "
            f"cached); drop {'it' if len(given) == 1 else 'them'} with --features histogram"
        )


class _Given(argparse.Action):
    """Store the option's value and remember that it was given, in ``args.given``
    (for the usage errors checked after parsing: :func:`_check_scale_options`)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


def _check_scale_options(args) -> None:
    """Refuse, as a usage error, ``--delta``, ``--sigma`` or ``--epsilon`` given for
    a ``--loss`` that does not use it: it would be ignored. (``compare-losses``
    fits every loss, so each scale is used by some.)"""
    loss = getattr(args, "loss", None)
    if loss is None:
        return
    used = _LOSS_SCALE.get(loss)
    wrong = [name for name in ("delta", "sigma", "epsilon") if name in getattr(args, "given", ())]
    wrong = [name for name in wrong if name != used]
    if not wrong:
        return
    flags = ", ".join(f"--{name}" for name in wrong)
    one = len(wrong) == 1
    owners = "; ".join(
        f"--{name} applies to --loss "
        + " or ".join(loss for loss, scale in _LOSS_SCALE.items() if scale == name)
        for name in wrong
    )
    uses = f"which uses --{used}" if used else "which has no scale"
    args.command_parser.error(
        f"{flags} {'does' if one else 'do'} not apply to --loss {loss}, {uses} "
        f"({owners}); drop {'it' if one else 'them'}, or pass the loss that uses "
        f"{'it' if one else 'them'}"
    )


def _add_loss_options(parser, *, with_loss=True):
    from ._losses import LOSS_NAMES

    group = parser.add_argument_group("clustering")
    if with_loss:
        group.add_argument("--loss", choices=LOSS_NAMES, default="huber", help="loss (huber)")
    for name, scale, meaning in (
        ("delta", _positive_scale, "huber / pseudo_huber scale: number > 0"),
        ("sigma", _positive_scale, "correntropy bandwidth: number > 0"),
        ("epsilon", _nonnegative_scale, "epsilon_insensitive tube: number >= 0"),
    ):
        group.add_argument(
            f"--{name}",
            type=scale,
            default="auto",
            action=_Given,
            help=f"{meaning} or auto (auto)",
        )
    group.add_argument(
        "--n-init", type=_positive_int, default=4, help="initialisations per fit (4)"
    )
    group.add_argument("--random-state", type=_seed, default=0, help="seed, 0 to 2**32 - 1 (0)")
    group.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        help=(
            "parallel fits of the k search, with --k auto"
            if with_loss
            else "parallel fits, one loss each"
        )
        + " (joblib; -1: all cores; default: one at a time)",
    )
    group.add_argument(
        "--silhouette-sample-size",
        type=_sample_size,
        default=5000,
        help="compute silhouettes on a random subsample of this many images when there "
        "are more (its cost grows as n^2); 0 uses all (5000)",
    )


def _add_common(parser):
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def _add_image_dir(parser):
    parser.add_argument("image_dir", metavar="IMAGE_DIR", help="folder of images")
    parser.add_argument("--out", type=_out_folder, required=True, help="output folder (created)")


def _add_clustering(parser, func, *, with_loss=True, features_default="vgg16"):
    """The loss, feature and common options of a subcommand that clusters images."""
    _add_loss_options(parser, with_loss=with_loss)
    _add_feature_options(parser, features_default=features_default)
    _add_common(parser)
    # command_parser: for the usage errors checked after parsing (_check_vgg16_options,
    # _check_k_options), which name the subcommand as argparse's own do
    parser.set_defaults(func=func, command_parser=parser)


# --k-range and --k-criterion when they are not given.
_DEFAULT_K_RANGE = range(2, 11)
_DEFAULT_K_CRITERION = "silhouette"

# --k when it is not given (demo: one cluster per class).
_DEFAULT_K = {"cluster": 8, "compare-losses": 5}


def _add_k_options(parser, *, default: str):
    parser.add_argument(
        "--k",
        type=_k_value,
        default=None,  # the command sets ``default``, remembering that --k was not given
        help=f"number of clusters, or 'auto' to search --k-range ({default})",
    )
    parser.add_argument(
        "--k-range",
        type=_k_range,
        default=None,  # _DEFAULT_K_RANGE, set by _check_k_options; None tells it was not given
        help="k values searched with --k auto, e.g. 2:10 (inclusive) or 2,4,8 "
        f"({_DEFAULT_K_RANGE.start}:{_DEFAULT_K_RANGE.stop - 1})",
    )
    parser.add_argument(
        "--k-criterion",
        choices=["silhouette", "elbow", "calinski_harabasz", "davies_bouldin"],
        default=None,  # _DEFAULT_K_CRITERION, likewise
        help=f"how --k auto chooses ({_DEFAULT_K_CRITERION})",
    )
    parser.add_argument(
        "--n-representatives", type=_positive_int, default=4, help="images shown per cluster (4)"
    )


def _check_k_options(args) -> None:
    """Refuse, as usage errors, ``--k-range``, ``--k-criterion`` or ``--n-jobs``
    without ``--k auto`` (they would be ignored) and a single k to search; then set
    their defaults.
    """
    if not hasattr(args, "k_range"):  # quantize; compare-losses does not search k
        return
    given = [
        flag
        for name, flag in (
            ("k_range", "--k-range"),
            ("k_criterion", "--k-criterion"),
            ("n_jobs", "--n-jobs"),  # runs the fits of the search; a fixed k is one fit
        )
        if getattr(args, name) is not None
    ]
    if args.k != "auto" and given:
        one = len(given) == 1
        fixed = "the default --k" if args.k is None else f"--k {args.k}"
        args.command_parser.error(
            f"{', '.join(given)} appl{'ies' if one else 'y'} to --k auto only (the search "
            f"for k); pass --k auto to choose k with {'it' if one else 'them'}, or drop "
            f"{'it' if one else 'them'} to use {fixed}"
        )
    if args.k_range is not None and len(args.k_range[:2]) < 2:
        args.command_parser.error(
            f"argument --k-range: {args.k_range[0]} is a single k value; give at least two "
            "to choose from with --k auto, e.g. 2:10, or pass that k itself as --k"
        )
    if args.k_range is None:
        args.k_range = list(_DEFAULT_K_RANGE)
    if args.k_criterion is None:
        args.k_criterion = _DEFAULT_K_CRITERION


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``robustkmeans`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser with the subcommands ``cluster``, ``compare-losses``, ``quantize``
        and ``demo``.

    See Also
    --------
    main : Parses and runs a command line.

    Examples
    --------
    >>> from robustkmeans.cli import build_parser
    >>> args = build_parser().parse_args(["cluster", "photos", "--k", "5", "--out", "out"])
    >>> args.command, args.k, args.loss
    ('cluster', 5, 'huber')
    """
    parser = argparse.ArgumentParser(
        prog="robustkmeans",
        description="Cluster images with k-means under robust losses on VGG16 features.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cluster = sub.add_parser(
        "cluster",
        help="cluster a folder of images and write labels.csv, figures and report.html",
        description="Cluster the images of IMAGE_DIR (subfolders are read as true labels "
        "and scored). Writes OUT/labels.csv (file, cluster, cost), OUT/report.html, "
        "OUT/summary.json and PNG figures.",
    )
    _add_image_dir(cluster)
    _add_k_options(cluster, default=str(_DEFAULT_K["cluster"]))
    _add_clustering(cluster, _cmd_cluster)

    compare = sub.add_parser(
        "compare-losses",
        help="cluster a folder of images under each of the six losses, side by side",
        description="Cluster IMAGE_DIR with each loss and write OUT/compare_losses.png, "
        "OUT/labels.csv (file, loss, cluster, cost) and OUT/report.html.",
    )
    _add_image_dir(compare)
    compare.add_argument(
        "--k",
        type=_n_clusters,
        default=None,
        help=f"number of clusters, for every loss ({_DEFAULT_K['compare-losses']})",
    )
    _add_clustering(compare, _cmd_compare_losses, with_loss=False)

    quantize = sub.add_parser(
        "quantize",
        help="reduce the colours of one image",
        description="Colour quantisation of IMAGE with LossKMeans on its pixels "
        "(RGB in [0, 1]; scales --delta/--sigma/--epsilon are in these units).",
    )
    quantize.add_argument("image", metavar="IMAGE", help="input image (never modified)")
    quantize.add_argument(
        "--out",
        type=_out_image,
        required=True,
        help="output image, e.g. OUT.png; .png, .tif and .webp (lossless) hold exactly the "
        "palette, while JPEG compression adds colours (said on stderr)",
    )
    quantize.add_argument(
        "--colors",
        type=_positive_int,
        default=16,
        help="palette size, at most the number of pixels (16)",
    )
    from ._losses import LOSS_NAMES

    quantize.add_argument("--loss", choices=LOSS_NAMES, default="absolute", help="loss (absolute)")
    quantize.add_argument(
        "--delta",
        type=_positive_scale,
        action=_Given,
        default=0.1,
        help="huber / pseudo_huber scale: number > 0 or auto (0.1)",
    )
    quantize.add_argument(
        "--sigma",
        type=_positive_scale,
        action=_Given,
        default=0.25,
        help="correntropy bandwidth: number > 0 or auto (0.25)",
    )
    quantize.add_argument(
        "--epsilon",
        type=_nonnegative_scale,
        action=_Given,
        default=0.02,
        help="epsilon_insensitive tube: number >= 0 or auto (0.02)",
    )
    quantize.add_argument(
        "--sample-size",
        type=_positive_int,
        default=10_000,
        help="pixels the palette is fitted on, at least --colors (10000)",
    )
    quantize.add_argument("--random-state", type=_seed, default=0, help="seed, 0 to 2**32 - 1 (0)")
    _add_common(quantize)
    quantize.set_defaults(func=_cmd_quantize, command_parser=quantize)

    demo = sub.add_parser(
        "demo",
        help="cluster a labelled image set built from scikit-learn's sample images",
        description="Cut scikit-learn's two sample photographs into labelled crops "
        "(OUT/images/<class>/), cluster them and report the adjusted Rand index against "
        "the classes. Uses VGG16 when weights are found and PyTorch is installed, else "
        "colour histograms, and prints which and why.",
    )
    demo.add_argument("--out", type=_out_folder, required=True, help="output folder (created)")
    demo.add_argument("--n-per-class", type=_positive_int, default=12, help="crops per class (12)")
    _add_k_options(demo, default="one per class: 6")
    _add_clustering(demo, _cmd_demo, features_default="auto")
    return parser


# The commands that write figures, drawn with matplotlib: every run of them does
# (cluster and demo: representatives.png and scatter.png; compare-losses:
# compare_losses.png). quantize draws nothing.
_WRITES_FIGURES = frozenset({"cluster", "compare-losses", "demo"})


def _import_matplotlib(args) -> None:
    """Set matplotlib to draw off screen for a command that writes figures, or
    fail, naming the extra to install, when it is missing.

    Done before any image is read (and before ``demo`` writes its crops): the
    figures are drawn last, so a run without matplotlib would fail only once
    everything else is computed.
    """
    if args.command not in _WRITES_FIGURES:
        return
    try:
        import matplotlib
    except ImportError:
        pass  # _pyplot raises the ImportError that names the extra
    else:
        matplotlib.use("Agg")  # never open windows: the command only writes files
    from .plotting import _pyplot

    _pyplot()


def _refuse_unrecognized(parser, command, unrecognized):
    """Exit 2 with argparse's "unrecognized arguments", in the words of ``command``.

    ``parse_args`` reports them for the top-level parser (``usage: robustkmeans
    [-h] [--version] COMMAND ...``), which shows none of the command's options;
    the command's own parser shows its usage, and a close option is suggested.
    """
    subparsers = next(a for a in parser._actions if isinstance(a.choices, dict))
    subparser = subparsers.choices[command]
    options = [o for a in subparser._actions for o in a.option_strings if o.startswith("--")]
    message = f"unrecognized arguments: {' '.join(unrecognized)}"
    guesses = [
        match
        for token in unrecognized
        if token.startswith("--")
        for match in difflib.get_close_matches(token.split("=")[0], options, n=1)
    ]
    if guesses:
        message += f" (did you mean {' or '.join(dict.fromkeys(guesses))}?)"
    subparser.error(message)


def main(argv: list[str] | None = None) -> int:
    """Run the ``robustkmeans`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 for a user error (reported in one line on stderr), 2 for
        invalid arguments (argparse's usage message), 130 when interrupted.

    See Also
    --------
    build_parser : The subcommands and their options.

    Examples
    --------
    >>> from robustkmeans.cli import main
    >>> main(["quantize", "no-such-image.png", "--out", "q.png"])
    1
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, unrecognized = parser.parse_known_args(argv)
        if unrecognized:
            _refuse_unrecognized(parser, args.command, unrecognized)
        args.argv = argv  # recorded in the report and summary.json
        _check_k_options(args)
        _check_scale_options(args)
        _check_vgg16_options(args)
        _check_writable_outputs(args)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    if getattr(args, "silhouette_sample_size", None) == 0:
        args.silhouette_sample_size = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            # as Python's own filters: a DeprecationWarning is for the developers of
            # the code that triggers it (matplotlib 3.6 under pyparsing 3.3 gave four)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("default", category=DeprecationWarning, module="robustkmeans")
            args.notes = _Notes(caught)
            _import_matplotlib(args)
            status = args.func(args)
        # one line per distinct warning, without Python's source excerpt (those
        # given before the report was built are in it, and printed already)
        args.notes.take_warnings(args)
        return status
    except KeyboardInterrupt:
        _echo("robustkmeans: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError, ImportError, RuntimeError) as exc:
        if args.debug:
            raise
        notes = getattr(args, "notes", None)
        if notes is not None:
            notes.take_warnings(args)  # the warnings given before the error
        message = " ".join(str(exc).split()) or type(exc).__name__
        _echo(f"robustkmeans {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
