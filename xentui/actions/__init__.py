"""Intents carried out through a source: hand the terminal to a console, launch or explain a VNC viewer."""
