"""OpenAI (or any OpenAI-compatible server): the shared client, scripts, first frames, speech, word timings."""
