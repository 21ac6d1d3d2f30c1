"""The machine odfix acts on: the real Windows host and a simulated PC, behind one protocol."""
