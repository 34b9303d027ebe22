//! Nodes that compute the same value: `trace(X) * trace(X)` has two `trace(X)` nodes (the
//! graph shares only its inputs), which a formula should name once and treat as one tensor.
//!
//! [`representatives`] maps every node to the first node of the graph with the same
//! operation on the same (representative) operands; [`find`] looks a node up by its
//! operation. Both work on any graph, including a claim's graph with nodes appended after
//! its root.

use crate::expr::{Graph, NodeId, Op};

/// For each node, the first node (smallest id) that computes the same value: the same
/// operation and shape on operands with the same representatives. Inputs are their own.
pub fn representatives(graph: &Graph) -> Vec<NodeId> {
    let mut rep: Vec<NodeId> = Vec::with_capacity(graph.nodes.len());
    // The operation of each representative, its operands mapped to representatives.
    let mut seen: Vec<(Op, NodeId)> = Vec::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        let op = node.op.map_operands(|a| rep[a]);
        let same = seen
            .iter()
            .find(|(other, r)| *other == op && graph.node(*r).shape == node.shape)
            .map(|&(_, r)| r);
        match same {
            Some(r) => rep.push(r),
            None => {
                seen.push((op, id));
                rep.push(id);
            }
        }
    }
    rep
}

/// The representative node computing `op` (operands given as representatives) among the
/// first `limit` nodes, if the graph has one.
pub fn find(graph: &Graph, rep: &[NodeId], op: &Op, limit: usize) -> Option<NodeId> {
    (0..limit.min(graph.nodes.len()))
        .find(|&id| rep[id] == id && graph.node(id).op.map_operands(|a| rep[a]) == *op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::test_support::graph;

    #[test]
    fn equal_subexpressions_share_a_representative() {
        let g = graph(
            "trace(X) * trace(X) + sum(X @ X.T) * sum(X @ X.T) + trace(X.T)",
            &[("X", "3x3")],
        );
        let rep = representatives(&g);
        let traces: Vec<NodeId> = (0..g.nodes.len())
            .filter(|&n| matches!(g.node(n).op, Op::Trace(_)))
            .collect();
        assert_eq!(traces.len(), 3);
        assert_eq!(rep[traces[0]], rep[traces[1]], "trace(X) twice");
        assert_ne!(rep[traces[0]], rep[traces[2]], "trace(X.T) is another node");
        let sums: Vec<NodeId> = (0..g.nodes.len())
            .filter(|&n| matches!(g.node(n).op, Op::Reduce { .. }))
            .collect();
        assert_eq!(
            rep[sums[0]], rep[sums[1]],
            "sum(X @ X.T) twice, through its operands"
        );
        let x = g.input("X").unwrap();
        assert_eq!(
            find(&g, &rep, &Op::Trace(x), g.nodes.len()),
            Some(traces[0])
        );
        assert_eq!(find(&g, &rep, &Op::Inv(x), g.nodes.len()), None);
    }
}
