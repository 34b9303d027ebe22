//! TODO(owner): check
