"""The offline providers: template scripts, title cards, animated clips, voices; no key, no network."""
