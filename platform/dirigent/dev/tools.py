"""Finding the external programs local infrastructure needs, with install hints."""

from __future__ import annotations

import re
import shutil
import subprocess

from dirigent.errors import ConfigurationError

__all__ = ["java_major_version", "require_tool"]

_INSTALL_HINTS = {
    "java": "apt-get install -y openjdk-17-jre-headless",
    "mvn": "apt-get install -y maven",
    "redis-server": "apt-get install -y redis-server",
}


def require_tool(name: str) -> str:
    """Return the path of ``name`` or raise with the exact command that installs it."""
    path = shutil.which(name)
    if path is None:
        hint = _INSTALL_HINTS.get(name, f"install {name}")
        raise ConfigurationError(
            f"{name!r} is not on PATH; dirigent's local infrastructure needs it. "
            f"On Debian/Ubuntu: sudo {hint} (or `make deps` as root)"
        )
    return path


def java_major_version(java: str) -> int:
    """The major version of a ``java`` binary (``java -version`` prints to stderr)."""
    out = subprocess.run(
        [java, "-version"], capture_output=True, text=True, check=False, timeout=30
    ).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if match is None:
        raise ConfigurationError(f"cannot read the Java version from: {out.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major
