"""Synthetic worlds with known smuggling rings (`linker synth`) and the demo (`linker demo`):
developer tools, outside the analysis."""

from linker.synth.world import TYPOLOGIES, SynthSummary, World, generate, synthesise, truth_paths, write_parcels  # noqa: F401
