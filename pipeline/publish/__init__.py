"""Step 6, publish: upload to YouTube, or drop the package in an outbox folder.

`step` is the step (`publish`); `youtube_auth`, `youtube_metadata`, `youtube_format` (is it a Short?),
`youtube_upload`, `youtube_retry`, `youtube_thumbnail` and `youtube_limits` are YouTube's parts.
"""
