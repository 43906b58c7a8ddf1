"""ONNX export: graph.py builds the file (preprocessing + network), check.py states its contract and checks it."""
