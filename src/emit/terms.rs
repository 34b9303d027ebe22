//! One term of the index formula as Python: a single `einsum` over the term's factors.
//!
//! Each index of the formula gets an einsum letter (its own name where that is one letter).
//! For the dense J every index is a letter and the output subscripts are J's free indices
//! in axis order (out.shape + in.shape, for a J of any rank); for one entry the free
//! indices are values (Python ints) and only the summation indices are letters, summed
//! to a scalar. A Kronecker delta between two letters is an `eye`, between a letter and a
//! value a one-hot vector, between two values a comparison; a tensor read at a value is
//! sliced there; an index no factor reads is a vector of ones (so a term that does not
//! depend on an axis of J is spread along it, and a sum over an index no factor reads
//! counts its range).

use std::collections::BTreeMap;

use super::EmitError;
use super::framework::Framework;
use super::values::number;
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorId, Term};

/// Letters einsum accepts, in the order they are handed out to indices whose name is not
/// a free letter.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The einsum letter of every index of `formula`, by [`IndexId`]: its name if that is a
/// single ASCII letter not taken before, else the first free letter.
pub(super) fn letters(formula: &Formula) -> Result<Vec<char>, EmitError> {
    let mut letters: Vec<char> = Vec::new();
    for var in &formula.indices {
        let mut chars = var.name.chars();
        let own = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() && !letters.contains(&c) => Some(c),
            _ => None,
        };
        let letter = own.or_else(|| LETTERS.chars().find(|c| !letters.contains(c)));
        match letter {
            Some(letter) => letters.push(letter),
            None => {
                return Err(EmitError::TooManyIndices {
                    count: formula.indices.len(),
                });
            }
        }
    }
    Ok(letters)
}

/// What the code of a term reads an index as.
#[derive(Debug, Clone)]
enum Side {
    /// An einsum letter, over `0..dim`.
    Letter(char, usize),
    /// A Python int: a free index's variable in [`entry`](super), or a fixed position.
    Value(String),
}

/// How one term is written: which indices are letters, which are values.
pub(super) struct TermWriter<'a> {
    formula: &'a Formula,
    framework: Framework,
    /// The Python name of each tensor the terms read.
    tensors: &'a BTreeMap<TensorId, String>,
    /// The side of each index, by id.
    sides: Vec<Side>,
    /// The einsum output: J's free letters, or nothing for one entry.
    output: String,
    /// Whether the terms make the dense J (an array even when J is a scalar).
    dense: bool,
}

impl<'a> TermWriter<'a> {
    /// Terms of the dense J: every index a letter, J's free indices the output.
    pub(super) fn dense(
        formula: &'a Formula,
        framework: Framework,
        tensors: &'a BTreeMap<TensorId, String>,
        letters: &[char],
    ) -> TermWriter<'a> {
        let sides = formula
            .indices
            .iter()
            .zip(letters)
            .map(|(var, &letter)| Side::Letter(letter, var.dim))
            .collect();
        let output = formula.free().iter().map(|&id| letters[id]).collect();
        TermWriter {
            formula,
            framework,
            tensors,
            sides,
            output,
            dense: true,
        }
    }

    /// Terms of one entry: the free indices are the Python variables `values` (in J's axis
    /// order), the summation indices letters summed away.
    pub(super) fn entry(
        formula: &'a Formula,
        framework: Framework,
        tensors: &'a BTreeMap<TensorId, String>,
        letters: &[char],
        values: &[String],
    ) -> TermWriter<'a> {
        let free = formula.free();
        let sides = formula
            .indices
            .iter()
            .enumerate()
            .map(|(id, var)| match free.iter().position(|&f| f == id) {
                Some(axis) => Side::Value(values[axis].clone()),
                None => Side::Letter(letters[id], var.dim),
            })
            .collect();
        TermWriter {
            formula,
            framework,
            tensors,
            sides,
            output: String::new(),
            dense: false,
        }
    }

    /// The term as Python code: whether it is subtracted, and its magnitude (`None` if a
    /// delta between two fixed positions makes it zero).
    pub(super) fn term(&self, term: &Term) -> Option<(bool, String)> {
        let fw = self.framework;
        let mut magnitude = term.coeff.abs();
        let mut multipliers: Vec<String> = Vec::new();
        let mut operands: Vec<(String, String)> = Vec::new();
        for factor in &term.factors {
            match factor {
                Factor::Delta(a, b) => match (self.side(*a), self.side(*b)) {
                    (Side::Letter(x, n), Side::Letter(y, m)) => {
                        operands.push((fw.eye(n, m), format!("{x}{y}")))
                    }
                    (Side::Letter(x, n), Side::Value(v)) | (Side::Value(v), Side::Letter(x, n)) => {
                        operands.push((fw.one_hot(n, &v), x.to_string()))
                    }
                    (Side::Value(v), Side::Value(w)) => {
                        match (v.parse::<usize>(), w.parse::<usize>()) {
                            (Ok(p), Ok(q)) if p != q => magnitude = 0.0,
                            (Ok(_), Ok(_)) => {}
                            _ => multipliers.push(format!("float({v} == {w})")),
                        }
                    }
                },
                Factor::Tensor { tensor, slots } => {
                    let name = &self.tensors[tensor];
                    let mut subscripts = String::new();
                    let mut at = Vec::new();
                    for slot in slots {
                        match self.side(*slot) {
                            Side::Letter(x, _) => {
                                subscripts.push(x);
                                at.push(":".to_string());
                            }
                            Side::Value(v) => at.push(v),
                        }
                    }
                    let read = if subscripts.len() == slots.len() {
                        name.clone()
                    } else {
                        format!("{name}[{}]", at.join(", "))
                    };
                    if subscripts.is_empty() {
                        multipliers.push(read);
                    } else {
                        operands.push((read, subscripts));
                    }
                }
            }
        }
        if magnitude == 0.0 {
            return None;
        }
        // Indices of the result and of the sum that no factor reads.
        let read: String = operands.iter().map(|(_, s)| s.as_str()).collect();
        let covered: Vec<IndexId> = match self.dense {
            true => self
                .formula
                .free()
                .into_iter()
                .chain(term.sums.clone())
                .collect(),
            false => term.sums.clone(),
        };
        for id in covered {
            if let Side::Letter(x, n) = self.sides[id]
                && !read.contains(x)
            {
                operands.push((fw.ones(&[n]), x.to_string()));
            }
        }
        let mut parts = Vec::new();
        if magnitude != 1.0 {
            parts.push(number(magnitude));
        }
        parts.extend(multipliers);
        if !operands.is_empty() {
            let inputs: Vec<&str> = operands.iter().map(|(_, s)| s.as_str()).collect();
            let subscripts = format!("{}->{}", inputs.join(","), self.output);
            let codes: Vec<String> = operands.into_iter().map(|(code, _)| code).collect();
            parts.push(fw.einsum(&subscripts, &codes));
        } else if self.dense {
            parts.push(fw.ones(&[]));
        }
        let body = match parts.is_empty() {
            true => number(1.0),
            false => parts.join(" * "),
        };
        Some((term.coeff < 0.0, body))
    }

    /// What a slot is read as.
    fn side(&self, slot: Slot) -> Side {
        match slot {
            Slot::Index(id) => self.sides[id].clone(),
            Slot::Fixed(p) => Side::Value(p.to_string()),
        }
    }
}
