"""Container health check: GET /healthz on the metrics port named by an environment variable.

    python /usr/local/bin/dirigent-healthcheck DIRIGENT_COORDINATOR_METRICS_PORT

Exit 0 when the process answers 200, 1 otherwise (with the reason on stderr). The images
carry no curl: this is the standard library only. The port variable must be set: a health
check that passes because nothing was configured would hide a broken image.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence


def check(port_variable: str, env: Mapping[str, str], *, timeout_s: float = 2.0) -> str | None:
    """None when ``/healthz`` answers 200; otherwise why not."""
    port = env.get(port_variable, "").strip()
    if not port.isdigit():
        return f"{port_variable} is {port!r}: set it to the metrics port the process serves"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except OSError as exc:  # refused, timed out, reset: not serving (yet)
        return f"{url} unreachable: {exc}"
    return None if status == 200 else f"{url} answered {status}"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print("usage: dirigent-healthcheck PORT_VARIABLE", file=sys.stderr)
        return 2
    problem = check(argv[1], os.environ)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
