"""One PC's run as a fleet report, Intune run states read back, and the fleet summary."""
