"""Speed and accuracy benchmarks; each `bench_*.py` runs as a script or as a module.

    python benchmarks/bench_speed.py --help          # as the README and .ci/run call them
    python -m benchmarks.bench_speed --help          # the same, from the repository root

What several scripts share (repository paths, the data folder, MTSamples notes,
process measurements) lives in `benchmarks.common`. pysbd (a medspaCy dependency)
installs an unrelated top-level `benchmarks` package; run from the repository root
(or as a script, which puts the root first on `sys.path`) so this one is found.
"""
