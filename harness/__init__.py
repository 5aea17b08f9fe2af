"""The loopback harness the tests and the benchmarks share: a real `tagtrail serve` on a free port
(`harness.live`) and throw-away databases on this machine's PostgreSQL (`harness.pg`).

It sits beside `tests/` and `bench/`, not inside either, so a benchmark never imports a test
module; both put the repository's root on `sys.path` (pytest's rootdir, `bench/*.py` by hand).
"""
