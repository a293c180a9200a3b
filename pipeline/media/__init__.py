"""Media shared by the render and the providers: moving stills (`motion`), which font draws which script (`fonts`),
text laid out in any script (`text`), and what a vendor's file is (`probe`). It imports no step package, so a
provider never reaches into the render, nor the render into a provider."""
