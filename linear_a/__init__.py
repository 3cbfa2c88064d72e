"""The `linear-a` command-line tool (sits above every layer; nothing imports it)."""
