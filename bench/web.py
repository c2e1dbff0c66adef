"""P1–P3, the HTTP benchmarks: API submission (8 and 32 clients) beside a minimal insert endpoint, a
surge of submissions with retried Idempotency-Keys, and the progress query, "my cases" and a department
queue beside a hello-world endpoint — all on one gunicorn set-up (see docs/benchmarks.md).

    .venv/bin/python bench/web.py --scale small     # starts its own production set-up (PostgreSQL, Redis)

The work is in ``bench._http``; this file keeps the name the runner imports.
"""

import sys
from pathlib import Path


def run(scale: str, site=None) -> list[dict]:
    """``site``: the runner's running ``bench._site.ProductionSite``; without it, one of its own."""
    from bench._http import run as run_http

    return run_http(scale, site=site)


if __name__ == "__main__":
    # run as a script, bench/ would lead sys.path and this file would shadow the standard library's http
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from bench._http import main

    main()
