"""Test-wide setup: Qt runs offscreen. Imports no Qt, so tests/core and tests/io stay Qt-free."""

import os

# Must happen before anything imports Qt: GUI tests draw into an offscreen buffer.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
