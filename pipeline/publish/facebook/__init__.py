"""Facebook Page Reels through the Graph API: start, the file sent to rupload, finish as published, a wait."""
