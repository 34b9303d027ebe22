//! Checking the forms' expressions in the language as `jacscope check --claim` would, before
//! `explain` prints them.

use super::MatrixForms;
use crate::inputs::Inputs;
use crate::jacobian::Jacobian;
use crate::layout::Layout;
use crate::layout::matrix_expression::holds;

impl MatrixForms {
    /// The forms if each expression in the language holds as J in its layout, checked as
    /// `jacscope check --claim` checks a matrix claim, at every draw of the inputs in
    /// `draws`; `None` if one does not (a form that does not hold is not printed). Forms
    /// with no spelling in the language are vouched for by the derivation alone.
    pub fn checked(self, jacobian: &Jacobian, draws: &[&Inputs]) -> Option<MatrixForms> {
        let pairs = [
            (&self.colmajor_expression, Layout::NumeratorColMajor),
            (&self.rowmajor_expression, Layout::NumeratorRowMajor),
        ];
        pairs
            .iter()
            .all(|(text, layout)| {
                text.as_ref()
                    .is_none_or(|text| holds(jacobian, text, Some(*layout), draws))
            })
            .then_some(self)
    }
}
