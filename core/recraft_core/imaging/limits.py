"""The API's upload limits, the same for every endpoint except where an operation says
otherwise (from Recraft's API docs). Planning works within them; validation enforces them.

Results have limits of their own: what an operation returns may be larger than what it
accepts (an upscale), but a result that claims to be much larger is hostile or broken. Its
header is refused before anything its size is allocated, and before an editor is asked to
open a document that large.
"""

MAX_FILE_BYTES = 10 * 1024 * 1024
# "16 MP" read as 16,000,000 pixels: the stricter reading, so a 4096x4096 image is refused
# here rather than after its upload. (Read as 16 * 2**20 the rule would add nothing to 4096.)
MAX_PIXELS = 16_000_000
MAX_SIDE = 4096
MIN_SIDE = 256

# An upscale multiplies a side by up to 4 (creative), so a result side may be four times the
# longest upload side. Pixels: the docs' largest output is 16 MP ("upscale16mp"), and the
# local server caps upscales at 8192 a side (67 MP); twice that is the margin. 134 MP is
# 512 MiB as RGBA: as much as an editor's Python should be asked to hold in one buffer.
MAX_RESULT_SIDE = 4 * MAX_SIDE
MAX_RESULT_PIXELS = 2 * 8192 * 8192
