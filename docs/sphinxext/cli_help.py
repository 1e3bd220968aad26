"""``.. cli-help:: [SUBCOMMAND]``: the ``--help`` text of the ``robustkmeans`` command.

The text is produced at build time from :func:`robustkmeans.cli.build_parser`, so
the documented options can never drift from the installed command.
"""

from __future__ import annotations

import os

from docutils import nodes
from docutils.parsers.rst import Directive


def _help_text(subcommand: str | None) -> str:
    from robustkmeans.cli import build_parser

    os.environ.setdefault("COLUMNS", "88")  # argparse wraps to the terminal width
    parser = build_parser()
    if subcommand:
        actions = [a for a in parser._actions if a.dest == "command"]
        parser = actions[0].choices[subcommand]
    return parser.format_help()


class CliHelp(Directive):
    optional_arguments = 1
    has_content = False

    def run(self):
        subcommand = self.arguments[0] if self.arguments else None
        try:
            text = _help_text(subcommand)
        except (KeyError, IndexError):
            raise self.error(f"robustkmeans has no subcommand {subcommand!r}") from None
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
