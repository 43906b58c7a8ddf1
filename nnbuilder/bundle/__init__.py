"""A trained model as files: save and load without unpickling anything, and its model card.

    bundle.py  Bundle, save_bundle, load_bundle;  files.py: manifest, checksums, safe zips;  card.py: the card
"""

from nnbuilder.bundle.bundle import Bundle, bundle_zip_bytes, load_bundle, save_bundle

__all__ = ["Bundle", "bundle_zip_bytes", "load_bundle", "save_bundle"]
