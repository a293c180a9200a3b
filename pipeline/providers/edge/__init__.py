"""Microsoft Edge's online voices (edge-tts): free, an explicit choice only."""
