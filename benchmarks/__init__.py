"""Benchmarks of the imputers: the MIWAE paper's UCI table (``benchmarks.uci``)."""
