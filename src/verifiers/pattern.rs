//! The texts the verifiers (and the clients around them) print, as data.

/// A text a client prints, as its literal pieces: a variable part (a host name, a time,
/// a count…) goes between each two. The engine that prints the text fills it in; `why`
/// reads the pieces to recognise the text in what a user pasted, so the words live in
/// one place. A fixed text is one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern(pub &'static [&'static str]);

impl Pattern {
    /// The text with `values` between the pieces, in order.
    pub fn fill(&self, values: &[&str]) -> String {
        debug_assert_eq!(values.len() + 1, self.0.len(), "{:?}", self.0);
        let mut out = String::new();
        for (index, piece) in self.0.iter().enumerate() {
            out.push_str(piece);
            if let Some(value) = values.get(index) {
                out.push_str(value);
            }
        }
        out
    }

    /// A fixed text (one piece).
    pub fn text(&self) -> String {
        self.fill(&[])
    }
}
