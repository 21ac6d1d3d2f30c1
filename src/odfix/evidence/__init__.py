"""What a PC tells us: one module per source, each a way to get it and a parser."""
