//! The value of every input variable: the loaded arrays, and seeded standard-normal draws
//! for the rest.

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{ArrayD, Dimension, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::InputError;
use crate::expr::{Graph, Op, Shape};

/// The first index (in row-major order) of a NaN or infinite entry, if there is one.
pub fn first_non_finite(array: &ArrayD<f64>) -> Option<Vec<usize>> {
    let Some(values) = array.as_slice() else {
        return array
            .indexed_iter()
            .find(|(_, x)| !x.is_finite())
            .map(|(index, _)| index.slice().to_vec());
    };
    // Standard layout (every array read or drawn): a flat scan, the index unflattened.
    let mut rest = values.iter().position(|x| !x.is_finite())?;
    let mut index = vec![0; array.ndim()];
    for (axis, &dim) in array.shape().iter().enumerate().rev() {
        index[axis] = rest % dim;
        rest /= dim;
    }
    Some(index)
}

/// The array in standard (row-major, contiguous) layout, copying only if needed.
pub fn standard_layout(array: ArrayD<f64>) -> ArrayD<f64> {
    if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    }
}

/// Bytes needed to hold the value of every node of `graph` as `f64`, or `None` if that
/// overflows `u64`. Used to refuse expressions whose values would not fit in memory.
pub fn estimate_bytes(graph: &Graph) -> Option<u64> {
    graph.nodes.iter().try_fold(0u64, |total, node| {
        node.shape.numel()?.checked_mul(8)?.checked_add(total)
    })
}

/// Validates a freshly read array of variable `name` (rank ≤ 2, finite) and puts it in
/// standard layout.
pub(super) fn checked(
    name: &str,
    origin: &str,
    array: ArrayD<f64>,
) -> Result<ArrayD<f64>, InputError> {
    if array.ndim() > 2 {
        return Err(InputError::TooManyDimensions {
            origin: origin.to_string(),
            ndim: array.ndim(),
        });
    }
    if let Some(index) = first_non_finite(&array) {
        let value = array[IxDyn(&index)];
        return Err(InputError::NonFinite {
            name: name.to_string(),
            origin: origin.to_string(),
            what: value.to_string(),
            index,
        });
    }
    Ok(standard_layout(array))
}

/// The value of every input variable of a graph.
///
/// Values are shared (`Arc`), so cloning `Inputs` or perturbing one entry with
/// [`Inputs::with_value`] copies only the array that changes. Every array is in standard
/// (row-major) layout.
#[derive(Debug, Clone)]
pub struct Inputs {
    values: BTreeMap<String, Arc<ArrayD<f64>>>,
}

impl Inputs {
    /// The inputs of `graph`: the `loaded` arrays, and random values for the rest.
    ///
    /// **Random values (a user-facing contract; `--seed` reproduces them):** one
    /// `ChaCha8Rng::seed_from_u64(seed)` stream draws standard normal values
    /// (`rand_distr::StandardNormal`) for every variable that is not loaded. The
    /// variables are visited in ascending order of name, compared byte by byte (so
    /// uppercase before lowercase: `W`, `X`, `b`), and each is filled in row-major order.
    /// Loaded variables draw nothing, so loading a variable changes the random values of
    /// the variables that sort after it.
    ///
    /// Arrays in `loaded` that are not variables of `graph` are ignored; a loaded array
    /// whose shape differs from the graph's is an [`InputError::ShapeMismatch`].
    pub fn new(
        graph: &Graph,
        mut loaded: BTreeMap<String, ArrayD<f64>>,
        seed: u64,
    ) -> Result<Inputs, InputError> {
        let shapes: BTreeMap<&str, &Shape> = graph
            .nodes
            .iter()
            .filter_map(|node| match &node.op {
                Op::Input(name) => Some((name.as_str(), &node.shape)),
                _ => None,
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = BTreeMap::new();
        for (name, shape) in shapes {
            let value = match loaded.remove(name) {
                Some(array) => {
                    let found = Shape(array.shape().to_vec());
                    if found != *shape {
                        return Err(InputError::ShapeMismatch {
                            name: name.to_string(),
                            expected: shape.clone(),
                            found,
                        });
                    }
                    standard_layout(array)
                }
                None => {
                    let numel = shape.dims().iter().product();
                    let draws: Vec<f64> = (0..numel).map(|_| rng.sample(StandardNormal)).collect();
                    ArrayD::from_shape_vec(IxDyn(shape.dims()), draws)
                        .expect("one draw per element")
                }
            };
            values.insert(name.to_string(), Arc::new(value));
        }
        Ok(Inputs { values })
    }

    /// The value of variable `name`.
    pub fn get(&self, name: &str) -> Option<&ArrayD<f64>> {
        self.values.get(name).map(|value| &**value)
    }

    /// The shared value of variable `name` (for evaluation without copying).
    pub(crate) fn shared(&self, name: &str) -> Option<&Arc<ArrayD<f64>>> {
        self.values.get(name)
    }

    /// A copy of these inputs with one entry changed: `name[index] = value`.
    ///
    /// Only the changed array is copied. `None` if `name` is not an input or `index`
    /// does not fit its shape.
    pub fn with_value(&self, name: &str, index: &[usize], value: f64) -> Option<Inputs> {
        let mut array = ArrayD::clone(self.values.get(name)?);
        *array.get_mut(IxDyn(index))? = value;
        let mut values = self.values.clone();
        values.insert(name.to_string(), Arc::new(array));
        Some(Inputs { values })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::eval::testing::GraphBuilder;

    #[test]
    fn the_first_non_finite_entry_is_found_in_reading_order_in_any_layout() {
        let mut a = ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 3, 4]));
        a[[1, 2, 0]] = f64::NAN;
        a[[1, 0, 3]] = f64::INFINITY;
        assert_eq!(first_non_finite(&a), Some(vec![1, 0, 3]));
        // Transposed (not standard layout): still the first in the view's reading order.
        let t = a.clone().reversed_axes();
        assert_eq!(first_non_finite(&t), Some(vec![0, 2, 1]));
        assert_eq!(first_non_finite(&ArrayD::zeros(ndarray::IxDyn(&[3]))), None);
    }

    fn two_input_graph() -> Graph {
        let mut builder = GraphBuilder::new("X + W");
        builder.input("X", &[2, 2]);
        builder.input("W", &[3]);
        builder.build()
    }

    #[test]
    fn random_inputs_follow_the_documented_stream() {
        let graph = two_input_graph();
        let inputs = Inputs::new(&graph, BTreeMap::new(), 7).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<f64> = (0..7).map(|_| rng.sample(StandardNormal)).collect();
        // W sorts before X: W takes the first three draws, X the next four, row-major.
        assert_eq!(inputs.get("W").unwrap().as_slice().unwrap(), &draws[..3]);
        assert_eq!(inputs.get("X").unwrap().as_slice().unwrap(), &draws[3..]);
        let again = Inputs::new(&graph, BTreeMap::new(), 7).unwrap();
        assert_eq!(again.get("X"), inputs.get("X"));
        let other_seed = Inputs::new(&graph, BTreeMap::new(), 8).unwrap();
        assert_ne!(other_seed.get("X"), inputs.get("X"));
    }

    #[test]
    fn loaded_variables_draw_nothing() {
        let graph = two_input_graph();
        let w = array![1.0, 2.0, 3.0].into_dyn();
        let loaded = BTreeMap::from([("W".to_string(), w.clone())]);
        let inputs = Inputs::new(&graph, loaded, 7).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<f64> = (0..4).map(|_| rng.sample(StandardNormal)).collect();
        assert_eq!(inputs.get("W"), Some(&w));
        assert_eq!(inputs.get("X").unwrap().as_slice().unwrap(), &draws[..]);
    }

    #[test]
    fn loaded_arrays_must_have_the_graph_shape() {
        let loaded = BTreeMap::from([("W".to_string(), ArrayD::zeros(IxDyn(&[4])))]);
        let error = Inputs::new(&two_input_graph(), loaded, 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the loaded W is 4 but the expression needs 3"
        );
    }

    #[test]
    fn with_value_changes_one_entry_and_shares_the_rest() {
        let inputs = Inputs::new(&two_input_graph(), BTreeMap::new(), 0).unwrap();
        let changed = inputs.with_value("X", &[1, 0], 42.0).unwrap();
        assert_eq!(changed.get("X").unwrap()[[1, 0]], 42.0);
        assert_ne!(inputs.get("X").unwrap()[[1, 0]], 42.0);
        assert_eq!(
            changed.get("X").unwrap()[[0, 1]],
            inputs.get("X").unwrap()[[0, 1]]
        );
        assert!(std::ptr::eq(
            changed.get("W").unwrap(),
            inputs.get("W").unwrap()
        ));
        assert!(inputs.with_value("X", &[2, 0], 1.0).is_none());
        assert!(inputs.with_value("X", &[0], 1.0).is_none());
        assert!(inputs.with_value("Y", &[0, 0], 1.0).is_none());
    }

    #[test]
    fn estimated_bytes_count_every_node() {
        let mut builder = GraphBuilder::new("X @ W");
        let x = builder.input("X", &[64, 1024]);
        let w = builder.input("W", &[1024, 512]);
        builder.push(Op::MatMul(x, w), &[64, 512]);
        assert_eq!(
            estimate_bytes(&builder.build()),
            Some(8 * (64 * 1024 + 1024 * 512 + 64 * 512))
        );
        let mut huge = GraphBuilder::new("X");
        huge.input("X", &[usize::MAX, 2]);
        assert_eq!(estimate_bytes(&huge.build()), None);
    }
}
