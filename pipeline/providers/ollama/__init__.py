"""Ollama: finding a local server, and scripts from it."""
