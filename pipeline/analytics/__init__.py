"""What each uploaded Short did on YouTube, and what the channel learns from it (`shorts stats`)."""
