//! TODO(owner): inputs
