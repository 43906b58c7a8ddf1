"""Decision boundary and neuron views (being written: registers the 'boundary' and 'neurons' probes)."""
