"""The simulated PC's parts: state, identity cause→effect, renderers of real command layouts."""
