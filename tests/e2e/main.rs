//! End-to-end tests with the real agent CLIs.
