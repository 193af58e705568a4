"""``make bench-peers``: the benchmark's saga written with faust-streaming and with Temporal.

Run with ``python -m bench.peers --help``; results go to ``bench/results/peers.json``.
See ``docs/peers.md``.
"""
