"""The eseal service: settings, database, HTTP API, protocol endpoints, console, CLI."""

import warnings

# cryptography 51 deprecates DSA, and pyhanko imports its DSA types at start-up although eseal
# never uses DSA: without this every `eseal` command would print two lines of warning on stderr.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")
