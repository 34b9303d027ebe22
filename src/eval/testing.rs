//! Hand-built graphs and inputs for unit tests (independent of the parser).

use std::collections::BTreeMap;

use ndarray::ArrayD;

use crate::expr::{Graph, Node, NodeId, Op, Shape, Span};
use crate::inputs::Inputs;

/// Builds a [`Graph`] node by node; every node's span is the whole source text.
pub(crate) struct GraphBuilder {
    graph: Graph,
}

impl GraphBuilder {
    /// An empty graph whose nodes will all show `source` as their text.
    pub(crate) fn new(source: &str) -> Self {
        GraphBuilder {
            graph: Graph {
                source: source.to_string(),
                nodes: Vec::new(),
                root: 0,
            },
        }
    }

    /// The input node of `name` (created on first use).
    pub(crate) fn input(&mut self, name: &str, dims: &[usize]) -> NodeId {
        match self.graph.input(name) {
            Some(id) => id,
            None => self.push(Op::Input(name.to_string()), dims),
        }
    }

    /// Adds a node; the last node added is the root.
    pub(crate) fn push(&mut self, op: Op, dims: &[usize]) -> NodeId {
        self.graph.nodes.push(Node {
            op,
            shape: Shape(dims.to_vec()),
            span: Span::new(0, self.graph.source.len()),
        });
        self.graph.root = self.graph.nodes.len() - 1;
        self.graph.root
    }

    /// The finished graph.
    pub(crate) fn build(self) -> Graph {
        self.graph
    }
}

/// Inputs with exactly the given values.
pub(crate) fn inputs(graph: &Graph, values: &[(&str, ArrayD<f64>)]) -> Inputs {
    let loaded: BTreeMap<String, ArrayD<f64>> = values
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect();
    Inputs::new(graph, loaded, 0).expect("test inputs match the graph")
}
