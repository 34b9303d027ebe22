//! Comparing a claimed J with the true J: the verdict, the differences and the hints.
