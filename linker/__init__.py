"""parcel-linker: find strategic-mineral smuggling operations hidden in express-parcel records."""

__version__ = "0.1.0"
