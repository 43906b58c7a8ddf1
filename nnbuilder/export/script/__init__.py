"""The generated training script: writer.py assembles it from data.py, layers.py, train.py and transformer.py."""
