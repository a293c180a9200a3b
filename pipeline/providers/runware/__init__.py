"""Runware: the client and prices, its paid tasks, clips."""
