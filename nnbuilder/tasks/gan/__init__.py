"""The GAN task: a generator and a discriminator that learn to make new rows like the table's."""
