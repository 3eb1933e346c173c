"""Simulated platforms: real evidence formats signed by locally generated roots."""
