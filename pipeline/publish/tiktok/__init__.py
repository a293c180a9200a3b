"""TikTok through the Content Posting API: a draft in the creator's inbox (default) or a direct post, sent in chunks."""
