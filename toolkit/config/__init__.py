"""OpenCompass-style config files: render them (gen-config), hash them, and load them into specs."""
