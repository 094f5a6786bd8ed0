"""The API's upload limits, the same for every endpoint except where an operation says
otherwise (from Recraft's API docs). Planning works within them; validation enforces them."""

MAX_FILE_BYTES = 10 * 1024 * 1024
# "16 MP" read as 16,000,000 pixels: the stricter reading, so a 4096x4096 image is refused
# here rather than after its upload. (Read as 16 * 2**20 the rule would add nothing to 4096.)
MAX_PIXELS = 16_000_000
MAX_SIDE = 4096
MIN_SIDE = 256
