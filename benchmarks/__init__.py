"""Benchmarks of the imputers: one study per module, one command line over
them all (``python -m benchmarks list``; see :mod:`benchmarks.__main__`)."""
