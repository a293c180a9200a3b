"""Step 5, the render: stitch the clips, burn in the captions, mix the voice and music, encode H.264/AAC.

`short` is the step (`render_short`); `captions`, `overlay`, `stitch` and `mix` are its parts.
"""
