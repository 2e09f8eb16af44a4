"""Read and write the small KEY=value files that `make run` keeps under var/."""

from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    """Return the KEY=value pairs of `path`, or {} when it does not exist."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    pairs = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def write_env_file(path: Path, pairs: dict[str, str]) -> None:
    """Write `pairs` to `path`, readable by its owner only (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in pairs.items()))
