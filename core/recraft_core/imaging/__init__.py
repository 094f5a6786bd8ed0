"""Pixels without Pillow or numpy: what an editor's bundled Python can run.

png         PNG encode and decode (standard library only)
imageinfo   format and size from a file's header, without decoding
masks       selections to black/white masks, grow, feather, resize
planning    fitting a canvas region within the API's limits and mapping results back
svg         sanitising SVG results and placing them on the canvas
"""
