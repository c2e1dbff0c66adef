"""The demo province (河源市) as data files, and the loader behind `yiwang load-demo` (``loader.py``)."""
