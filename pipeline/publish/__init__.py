"""Step 6, publish: upload to YouTube, or drop the package in an outbox folder.

`short` is the step (`publish_short`); `youtube_auth`, `youtube_metadata`, `youtube_format` (is it a Short?),
`youtube_upload`, `youtube_retry` and `youtube_thumbnail` are YouTube's parts (its limits are in pipeline.limits).
"""
