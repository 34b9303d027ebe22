//! Indices of J typed by a person, read against J's axis names and lengths: a full index
//! (`0,3,0,7`, for `at --index`) or some axes by name (`i=0,l=7`, for `slice --fix` and the
//! explorer's go-to prompt). The one reader of both, with one wording of each mistake.

use thiserror::Error;

use crate::expr::diagnostic::escape_char;

/// J's axes as a person names them (`i,j,k,l` with their lengths): what a typed index is
/// read against.
#[derive(Debug, Clone, Copy)]
pub struct Axes<'a> {
    names: &'a [String],
    dims: &'a [usize],
}

/// A typed index that does not fit J.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexError {
    /// A name that is not one of J's axes.
    #[error("J has no axis '{}'; {}", shown(name), axes_phrase(axes))]
    UnknownAxis {
        /// The name as typed.
        name: String,
        /// J's axis names.
        axes: Vec<String>,
    },
    /// A component outside its axis.
    #[error("{name} = {value} is out of range 0..{dim}")]
    OutOfRange {
        /// The axis name.
        name: String,
        /// The component typed, or reached by a step (so it may be negative).
        value: i128,
        /// The axis length: the component must be below it.
        dim: usize,
    },
    /// A full index with the wrong number of components.
    #[error("index has {}, J has {} ({})", counted(*got, "component", "components"), counted(axes.len(), "axis", "axes"), axes_list(axes))]
    Count {
        /// Components typed.
        got: usize,
        /// J's axis names.
        axes: Vec<String>,
    },
    /// A component that is not a non-negative integer.
    #[error("'{}' is not an index; indices are non-negative integers", shown(text))]
    NotANumber {
        /// The component as typed.
        text: String,
    },
    /// An item without `AXIS=` where axes are named.
    #[error(
        "'{}' does not name its axis; write AXIS=N, e.g. {}",
        shown(item),
        shown(example)
    )]
    Unnamed {
        /// The item as typed.
        item: String,
        /// The item with an axis name, as it might have been meant.
        example: String,
    },
    /// One axis named twice.
    #[error("axis {name} is given twice")]
    Duplicate {
        /// The axis name.
        name: String,
    },
}

impl<'a> Axes<'a> {
    /// J's axes: `names[a]` runs over `0..dims[a]`.
    pub fn new(names: &'a [String], dims: &'a [usize]) -> Axes<'a> {
        assert_eq!(names.len(), dims.len(), "one name per axis");
        Axes { names, dims }
    }

    /// The axis names, in order.
    pub fn names(&self) -> &'a [String] {
        self.names
    }

    /// The position of the axis called `name` (surrounding spaces ignored).
    pub fn axis(&self, name: &str) -> Result<usize, IndexError> {
        let name = name.trim();
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| IndexError::UnknownAxis {
                name: name.to_string(),
                axes: self.names.to_vec(),
            })
    }

    /// A full index: every component, comma-separated (`0,3,0,7`); the empty text is the
    /// index of a scalar J.
    pub fn index(&self, text: &str) -> Result<Vec<usize>, IndexError> {
        let index = if text.trim().is_empty() {
            Vec::new()
        } else {
            text.split(',').map(number).collect::<Result<_, _>>()?
        };
        self.check_index(&index)?;
        Ok(index)
    }

    /// Checks that `index` has one component per axis, each on its axis.
    pub fn check_index(&self, index: &[usize]) -> Result<(), IndexError> {
        if index.len() != self.names.len() {
            return Err(IndexError::Count {
                got: index.len(),
                axes: self.names.to_vec(),
            });
        }
        for (axis, &value) in index.iter().enumerate() {
            self.check(axis, value)?;
        }
        Ok(())
    }

    /// Some axes by name (`i=0, l=7`): `(axis position, component)` in the order typed;
    /// empty items are skipped.
    pub fn assignment(&self, text: &str) -> Result<Vec<(usize, usize)>, IndexError> {
        let items = text.split(',').map(str::trim).filter(|s| !s.is_empty());
        let mut assigned: Vec<(usize, usize)> = Vec::new();
        for (n, item) in items.enumerate() {
            let Some((name, value)) = item.split_once('=') else {
                return Err(IndexError::Unnamed {
                    item: item.to_string(),
                    example: self.example(n, item),
                });
            };
            let axis = self.axis(name)?;
            if assigned.iter().any(|&(a, _)| a == axis) {
                return Err(IndexError::Duplicate {
                    name: self.names[axis].clone(),
                });
            }
            let value = number(value)?;
            self.check(axis, value)?;
            assigned.push((axis, value));
        }
        Ok(assigned)
    }

    /// What the explorer's go-to prompt means by `text`: a full index (`0,3,0,7`), or some
    /// axes by name (`l=7` or `i=2, l=7`) with the others kept from `current`.
    pub fn index_from(&self, text: &str, current: &[usize]) -> Result<Vec<usize>, IndexError> {
        if !text.contains('=') {
            return self.index(text);
        }
        let mut index = current.to_vec();
        for (axis, value) in self.assignment(text)? {
            index[axis] = value;
        }
        Ok(index)
    }

    /// `value` checked against the length of `axis`.
    fn check(&self, axis: usize, value: usize) -> Result<(), IndexError> {
        if value < self.dims[axis] {
            return Ok(());
        }
        Err(IndexError::OutOfRange {
            name: self.names[axis].clone(),
            value: value as i128,
            dim: self.dims[axis],
        })
    }

    /// The component of `axis` in `index` moved by `delta` (the explorer's `+`/`-` on a
    /// fixed axis), if it stays on the axis.
    pub fn step(&self, index: &[usize], axis: usize, delta: isize) -> Result<usize, IndexError> {
        let value = index[axis] as i128 + delta as i128;
        match usize::try_from(value) {
            Ok(moved) if moved < self.dims[axis] => Ok(moved),
            _ => Err(IndexError::OutOfRange {
                name: self.names[axis].clone(),
                value,
                dim: self.dims[axis],
            }),
        }
    }

    /// The `n`-th item `item` of an assignment with the axis it would name if every
    /// component were given in order: `l=7` for `7` in fourth place.
    fn example(&self, n: usize, item: &str) -> String {
        let name = self
            .names
            .get(n.min(self.names.len().saturating_sub(1)))
            .map_or("AXIS", String::as_str);
        format!("{name}={item}")
    }
}

/// One component: a non-negative integer (surrounding spaces ignored).
fn number(text: &str) -> Result<usize, IndexError> {
    let text = text.trim();
    text.parse().map_err(|_| IndexError::NotANumber {
        text: text.to_string(),
    })
}

/// User text with its control characters escaped.
fn shown(text: &str) -> String {
    text.chars().map(escape_char).collect()
}

/// `i,j,k,l`, or `a scalar` for no axes.
fn axes_list(names: &[String]) -> String {
    if names.is_empty() {
        "a scalar".to_string()
    } else {
        names.join(",")
    }
}

/// `its axes are i,j,k,l`, or that J has none.
fn axes_phrase(names: &[String]) -> String {
    if names.is_empty() {
        "J is a scalar, with no axes".to_string()
    } else {
        format!("its axes are {}", names.join(","))
    }
}

/// `1 component`, `3 components`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// J of `X @ W.T` with X 64×1024 and W 512×1024.
    fn with_axes<T>(f: impl FnOnce(Axes) -> T) -> T {
        let names = ["i", "j", "k", "l"].map(String::from);
        f(Axes::new(&names, &[64, 512, 64, 1024]))
    }

    fn error(result: Result<impl std::fmt::Debug, IndexError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn a_full_index_gives_every_component() {
        with_axes(|axes| {
            assert_eq!(axes.index("0,3,0,7").unwrap(), [0, 3, 0, 7]);
            assert_eq!(
                axes.index(" 63 , 511,63,1023 ").unwrap(),
                [63, 511, 63, 1023]
            );
        });
        let scalar = Axes::new(&[], &[]);
        assert_eq!(scalar.index("").unwrap(), Vec::<usize>::new());
        assert_eq!(
            error(scalar.index("0")),
            "index has 1 component, J has 0 axes (a scalar)"
        );
    }

    #[test]
    fn a_full_index_of_the_wrong_length_names_the_axes() {
        with_axes(|axes| {
            assert_eq!(
                error(axes.index("0,3,0")),
                "index has 3 components, J has 4 axes (i,j,k,l)"
            );
            assert_eq!(
                error(axes.index("")),
                "index has 0 components, J has 4 axes (i,j,k,l)"
            );
        });
    }

    #[test]
    fn a_component_out_of_range_names_its_axis_and_length() {
        with_axes(|axes| {
            assert_eq!(
                error(axes.index("0,3,0,1024")),
                "l = 1024 is out of range 0..1024"
            );
            assert_eq!(
                error(axes.assignment("l=1024")),
                "l = 1024 is out of range 0..1024"
            );
            assert_eq!(
                error(axes.index_from("l=1024", &[0, 0, 0, 0])),
                "l = 1024 is out of range 0..1024"
            );
        });
    }

    #[test]
    fn a_component_that_is_not_a_number_is_quoted_escaped() {
        with_axes(|axes| {
            let not_one = "is not an index; indices are non-negative integers";
            assert_eq!(error(axes.index("a,b,0,0")), format!("'a' {not_one}"));
            assert_eq!(error(axes.index("0,,0,0")), format!("'' {not_one}"));
            assert_eq!(error(axes.index("0,-1,0,0")), format!("'-1' {not_one}"));
            assert_eq!(error(axes.assignment("i=x")), format!("'x' {not_one}"));
            assert_eq!(
                error(axes.index("0,\u{1b}[31m,0,0")),
                format!("'\\u{{1b}}[31m' {not_one}")
            );
        });
    }

    #[test]
    fn an_unknown_axis_lists_the_valid_ones() {
        with_axes(|axes| {
            let expected = "J has no axis 'm'; its axes are i,j,k,l";
            assert_eq!(error(axes.assignment("m=1")), expected);
            assert_eq!(error(axes.axis(" m ")), expected);
            assert_eq!(axes.axis("k").unwrap(), 2);
        });
        let scalar = Axes::new(&[], &[]);
        assert_eq!(
            error(scalar.assignment("i=0")),
            "J has no axis 'i'; J is a scalar, with no axes"
        );
    }

    #[test]
    fn an_axis_named_twice_is_refused() {
        with_axes(|axes| {
            assert_eq!(
                error(axes.assignment("i=0, l=7, i = 2")),
                "axis i is given twice"
            );
        });
    }

    #[test]
    fn named_axes_are_assigned_in_the_order_typed() {
        with_axes(|axes| {
            assert_eq!(axes.assignment("l=7, i = 2").unwrap(), [(3, 7), (0, 2)]);
            assert_eq!(axes.assignment(" , ").unwrap(), []);
            assert_eq!(
                error(axes.assignment("i=2, 7")),
                "'7' does not name its axis; write AXIS=N, e.g. j=7"
            );
        });
    }

    #[test]
    fn a_step_stays_on_its_axis() {
        let names: Vec<String> = ["i", "k"].map(String::from).to_vec();
        let axes = Axes::new(&names, &[4, 3]);
        assert_eq!(axes.step(&[3, 0], 1, 1), Ok(1));
        assert_eq!(
            axes.step(&[3, 0], 1, -1).unwrap_err().to_string(),
            "k = -1 is out of range 0..3"
        );
        assert_eq!(
            axes.step(&[3, 0], 0, 1).unwrap_err().to_string(),
            "i = 4 is out of range 0..4"
        );
    }

    #[test]
    fn the_go_to_prompt_takes_a_full_index_or_moves_named_axes() {
        with_axes(|axes| {
            let here = [1, 2, 3, 4];
            assert_eq!(axes.index_from("0,3,0,7", &here).unwrap(), [0, 3, 0, 7]);
            assert_eq!(axes.index_from("l=7, i = 2", &here).unwrap(), [2, 2, 3, 7]);
            assert_eq!(
                error(axes.index_from("0,3", &here)),
                "index has 2 components, J has 4 axes (i,j,k,l)"
            );
            assert_eq!(
                error(axes.index_from("0, l=7", &here)),
                "'0' does not name its axis; write AXIS=N, e.g. i=0"
            );
        });
    }
}
