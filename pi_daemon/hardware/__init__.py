"""Hardware behind small interfaces; real and simulated backends are chosen once, from config."""
