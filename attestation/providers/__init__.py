"""Providers that obtain evidence from a device or kernel interface on each platform."""
