"""personascope: measure the personality of LLMs and role-playing agents, and check the measurement."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("personascope")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
