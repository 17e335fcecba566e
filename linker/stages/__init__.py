"""The analysis stages, one module per step of the data's journey; they talk through named tables."""
