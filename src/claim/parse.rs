//! Parsing a claim against the problem it is about.
