"""Your own media (`folder:PATH`): matching files to scenes, and reading them."""
