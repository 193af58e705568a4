"""``make bench``: the coordinator's saga throughput against a raw Kafka pipe.

Run with ``python -m bench --help``; results go to ``bench/results/latest.json``.
"""
