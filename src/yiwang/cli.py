"""`yiwang …` — the management CLI: Django's management commands behind a short entry point."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    # `yiwang load-demo` and `yiwang load_demo` are the same command
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["yiwang", *args])


if __name__ == "__main__":
    main()
