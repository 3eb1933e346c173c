"""veritee: the command-line front end and the tools that join the roles (demo, simulator)."""

__version__ = "0.1.0"
