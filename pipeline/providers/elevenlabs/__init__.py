"""ElevenLabs: speech with word timings from its character alignment, billed in characters."""
