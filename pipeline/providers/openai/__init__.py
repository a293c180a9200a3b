"""OpenAI (or any OpenAI-compatible server): the shared client, scripts, first frames, speech, word timings."""

# OpenAI's announced end of every /v1/audio/speech model (tts-1, tts-1-hd, gpt-4o-mini-tts); whisper-1 ends on
# 2027-02-26. Here, not in voice.py, so the registry knows it without importing the SDK.
SPEECH_ENDS = "2027-01-06"
