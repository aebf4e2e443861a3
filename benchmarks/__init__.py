"""Benchmarks that run Mienskip's production topology on this machine (see README.md).

Each module is runnable with ``python -m benchmarks.<name>`` and measures the project
beside a baseline from the same run: figures here move 20-40 % between runs, ratios less.
"""
