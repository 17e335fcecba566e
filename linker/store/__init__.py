"""The parcel store: one DuckDB file holding the loaded parcels and everything derived from them.

`from linker import store` gives the store's public surface (connect, the table helpers,
`status`, the errors); the modules behind it are listed in docs/ARCHITECTURE.md.
"""

from linker.store.connection import *  # noqa: F401,F403
from linker.store.connection import _migrate  # noqa: F401
