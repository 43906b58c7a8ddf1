"""Inside the training (being written: registers the 'internals' probe)."""
