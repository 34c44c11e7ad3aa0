"""Lens sources turned into structured documents and chunks (the first stage of lenswise)."""
