//! TODO(owner): sparsity
