"""The benchmark is run by ``tests/bench/run.py`` (``make bench``), never collected by pytest."""

collect_ignore_glob = ["*.py"]
