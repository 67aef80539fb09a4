"""The ticketpulse benchmark suite: ``nox -s bench`` or ``python -m benchmarks.run``.

Measurement only: nothing here asserts a timing. See ``benchmarks/README.md``.
"""
