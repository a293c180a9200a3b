"""Runway: the client and prices, its paid tasks, clips and first frames."""
