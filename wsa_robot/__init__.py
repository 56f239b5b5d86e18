"""wsa-robot: robot manipulation agents that see through frozen encoders fused by Weight Sharing Attention."""

__version__ = "0.1.0"
