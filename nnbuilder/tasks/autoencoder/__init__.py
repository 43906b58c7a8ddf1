"""The autoencoder task: rebuild each row through a narrow layer; rows rebuilt badly are anomalies."""
