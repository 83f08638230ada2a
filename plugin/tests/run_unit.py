"""Runs the plain-Python unit tests (test_*.py here) and prints `RESULT passed=N failed=M skipped=K`."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    """Discovers, runs, summarises; exits 1 on any failure."""
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors)
    print(f"RESULT passed={result.testsRun - failed - skipped} failed={failed} skipped={skipped}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
