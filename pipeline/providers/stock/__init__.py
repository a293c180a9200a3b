"""Free stock footage: Pexels and Pixabay searches, and fitting a stock clip to a scene."""
