"""A guest console as a screen: VT emulation, scrollback and search (no I/O, no UI)."""
