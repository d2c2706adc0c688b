"""mfstudio.io and mfstudio.cli load neither PySide6 nor matplotlib."""

import subprocess
import sys


def test_io_and_cli_import_no_qt_and_no_matplotlib():
    code = (
        "import sys, mfstudio.io, mfstudio.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'matplotlib', 'shiboken6')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
