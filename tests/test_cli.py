"""The command line's global behaviour: --help, --version, usage errors."""

from __future__ import annotations

import subprocess
import sys

from seedmusic import __version__


def test_version(run_cli):
    result = run_cli("--version")
    assert result.code == 0
    assert __version__ in result.out


def test_help_lists_only_registered_verbs(run_cli):
    from seedmusic.commands import VERB_MODULES

    result = run_cli("--help")
    assert result.code == 0
    assert "usage: seedmusic" in result.out
    for module in VERB_MODULES:
        assert module.__name__.rsplit(".", 1)[-1] in result.out or module.__doc__


def test_no_verb_prints_help_and_exits_2(run_cli):
    result = run_cli()
    assert result.code == 2


def test_unknown_verb_is_a_usage_error(run_cli):
    result = run_cli("frobnicate")
    assert result.code == 2
    assert "invalid choice" in result.err


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "seedmusic", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout
