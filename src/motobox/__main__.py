"""``python -m motobox`` is the ``motobox`` command."""

from motobox.cli import entry

entry()
