//! Empty on purpose: this crate exists for its dependencies' features (see `generate.py`).
