//! TODO(owner): jacobian
