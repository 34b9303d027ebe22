//! The explorer's vocabulary: everything it can be told to do ([`Action`]), the modes that
//! decide what a key means ([`Mode`]), and the small words actions are made of
//! ([`Direction`], [`TextEdit`]).
//!
//! It sits below everything else in the explorer, as csvlens's `Control` does: the keymap
//! turns keys into these, the editors apply them, and the app's `update` carries them out,
//! without any of them importing another.

/// A direction on the heat map (also: previous / next for `[` and `]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards column 0 (or the previous item).
    Left,
    /// Towards the last column (or the next item).
    Right,
    /// Towards row 0.
    Up,
    /// Towards the last row.
    Down,
}

/// An edit of a one-line text field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextEdit {
    /// Types a character at the cursor.
    Insert(char),
    /// Inserts pasted text at the cursor, as one edit.
    Paste(String),
    /// Deletes the character before the cursor.
    Backspace,
    /// Deletes the character at the cursor.
    Delete,
    /// Moves the cursor left.
    Left,
    /// Moves the cursor right.
    Right,
    /// Moves the cursor to the start.
    Home,
    /// Moves the cursor to the end.
    End,
    /// Empties the line.
    Clear,
}

/// What has the keyboard: the main screen (slice or matricized view) or an overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The heat map of a slice, and the inspector.
    Normal,
    /// The matricized view: the whole J as the numerator-layout matrix, and the inspector.
    Matrix,
    /// The conventions panel over the main screen: every layout of J and where the
    /// cursor's entry lands in each.
    Conventions,
    /// The help screen.
    Help,
    /// The example picker.
    Picker,
    /// The expression editor.
    Editor,
    /// The go-to prompt.
    Goto,
    /// The claim prompt: what the user says J is, compared with J.
    Claim,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 8] = [
        Mode::Normal,
        Mode::Matrix,
        Mode::Conventions,
        Mode::Help,
        Mode::Picker,
        Mode::Editor,
        Mode::Goto,
        Mode::Claim,
    ];
}

/// Everything the explorer can be told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Move the cursor one entry.
    Move(Direction),
    /// Move the cursor half a screen.
    Page(Direction),
    /// Show the next pair of axes.
    NextPair,
    /// Show the previous pair of axes.
    PrevPair,
    /// Show pair n (0-based) of [`crate::tui::slices::SliceAxes::all`].
    SelectPair(usize),
    /// Select the previous (Left) or next (Right) fixed axis.
    SelectFixed(Direction),
    /// Change the selected fixed index by this much.
    ChangeFixed(i8),
    /// Jump to the next nonzero of the slice in reading order (the next difference from
    /// the claim, while one is set).
    NextNonzero,
    /// Jump to the previous nonzero (or difference) of the slice in reading order.
    PrevNonzero,
    /// Halve the block size around the cursor.
    ZoomIn,
    /// Double the block size.
    ZoomOut,
    /// Next map mode.
    CycleMapMode,
    /// Switch between the slice view and the matricized view.
    ToggleMatrix,
    /// Switch the matricized view between column-major and row-major vec order.
    ToggleVecOrder,
    /// Differentiate with respect to the next variable.
    CycleWrt,
    /// Save the view on screen as an SVG picture in the current directory.
    SavePicture,
    /// Open an overlay.
    Open(Mode),
    /// Close the overlay.
    Close,
    /// Apply the editor, go-to or claim line, or open the chosen example.
    Submit,
    /// Previous item of a list (or scroll up).
    ListUp,
    /// Next item of a list (or scroll down).
    ListDown,
    /// Edit the text of the editor, the go-to or the claim prompt.
    Text(TextEdit),
    /// Stop the running background work if there is any, else quit (Esc).
    Back,
    /// Quit.
    Quit,
    /// The terminal has a new size.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// A mouse click at a screen position.
    Click {
        /// Screen column.
        column: u16,
        /// Screen row.
        row: u16,
    },
    /// A mouse wheel step.
    Scroll(Direction),
}
