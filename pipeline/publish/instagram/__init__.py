"""Instagram Reels through the Graph API: a container, the file sent to rupload, a wait, then media_publish."""
