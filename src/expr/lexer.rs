//! TODO(owner): lexer
