//! Command-line definitions (clap). Parsing only: what each subcommand does lives in
//! `commands`, and `main.rs` turns errors into messages and exit codes.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::calculus::Notation;
use crate::emit::Framework;

/// Explore the Jacobian ∂Y/∂X of a matrix expression, in index notation.
///
/// With no subcommand, opens the interactive view on EXPR (default: the linear layer
/// `X @ W.T` with X 64×1024 and W 512×1024).
#[derive(Debug, Parser)]
#[command(name = "jacscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; none opens the interactive view.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The problem for the interactive view.
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// Display options for the interactive view.
    #[command(flatten)]
    pub display: DisplayArgs,
}

impl Cli {
    /// Whether `--ascii` was given, to a subcommand or to the interactive view: then every
    /// byte jacscope prints is ASCII, its error messages included.
    pub fn ascii(&self) -> bool {
        match &self.command {
            Some(command) => command.output().ascii,
            None => self.display.ascii,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The formula of ∂Y/∂X, the derivation steps and a sparsity summary.
    Explain {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// Print the formula instead as a self-contained Python snippet for this framework:
        /// `jacobian(X, W, …)` (the dense J, one einsum per term) and `entry(index, X, W, …)`.
        #[arg(long, value_enum, value_name = "FRAMEWORK")]
        emit: Option<Framework>,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One entry of J: its value, a finite-difference check, and why it is zero.
    At {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The entry, as comma-separated indices in J's axis order (e.g. 0,3,0,7 for i,j,k,l).
        #[arg(long, value_name = "I,J,K,L", allow_hyphen_values = true)]
        index: String,
        /// Also say where the entry lands in this layout: out+in, in+out,
        /// numerator-colmajor, numerator-rowmajor, denominator-colmajor, denominator-rowmajor.
        #[arg(long, value_name = "NAME")]
        layout: Option<String>,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// J's shape in every layout (JAX, PyTorch, SymPy, vec conventions), and whether a
    /// claimed shape is one of them.
    Shape {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// A shape to check, e.g. 64x1024x1024x512 or "(64, 1024, 1024, 512)".
        #[arg(long, value_name = "SHAPE")]
        claim: Option<String>,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Whether a claimed shape or index formula is J, and where and why not (exit code 3
    /// when it is not).
    Check {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The claim: a shape (64x1024x1024x512), an index formula in the notation
        /// jacscope prints ("delta(i,k)*W[j,l]") or a matrix expression of the language
        /// ("kron(W, eye(64))" with --layout); it may begin with a minus sign.
        #[arg(long, value_name = "CLAIM", allow_hyphen_values = true)]
        claim: String,
        /// The layout a matrix claim is J in (default: J's own, for a J of rank ≤ 2):
        /// out+in, in+out, numerator-colmajor, numerator-rowmajor, denominator-colmajor,
        /// denominator-rowmajor.
        #[arg(long, value_name = "NAME")]
        layout: Option<String>,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// A 2-D slice of J: a spy plot, a picture (SVG, PNG), or its values as CSV, JSON or
    /// .npy.
    Slice {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The two axes of J the slice spans, by name (e.g. k,l).
        #[arg(long, value_name = "A,B")]
        axes: String,
        /// The values of the other axes (e.g. i=0,j=3); axes not named are fixed at 0.
        #[arg(long, value_name = "AXIS=N,...", default_value = "")]
        fix: String,
        /// What to print: a text spy plot, a picture of the heat map, or the values.
        #[arg(long, value_enum, default_value_t = SliceFormat::Text)]
        format: SliceFormat,
        /// Write to this file instead of stdout (required for npy, svg and png).
        #[arg(short = 'o', long, value_name = "FILE")]
        output_file: Option<PathBuf>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// What the colours of a picture tell (svg and png).
        #[arg(long, value_enum)]
        mode: Option<HeatMode>,
        /// Size of the map: the spy plot in characters, a picture in blocks.
        #[command(flatten)]
        size: MapSize,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// J as one matrix in a vec layout (the explorer's matricized view): a spy plot or a
    /// picture of its structure, counted from the deltas.
    Matrix {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The matrix layout: numerator-colmajor, numerator-rowmajor (|Y| × |X|),
        /// denominator-colmajor, denominator-rowmajor (|X| × |Y|).
        #[arg(long, value_name = "NAME")]
        layout: String,
        /// What to print: a text spy plot, or a picture of the heat map.
        #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
        format: MatrixFormat,
        /// Write to this file instead of stdout (required for svg and png).
        #[arg(short = 'o', long, value_name = "FILE")]
        output_file: Option<PathBuf>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// What the colours tell; J as one matrix shows its structure only (sparsity).
        #[arg(long, value_enum)]
        mode: Option<HeatMode>,
        /// Size of the map: the spy plot in characters, a picture in blocks.
        #[command(flatten)]
        size: MapSize,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Size, structural nonzeros, numeric nonzeros and density of J.
    Stats {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// Skip the numeric nonzero count (then `nonzeros` is null).
        #[arg(long)]
        structural_only: bool,
        /// Count the numeric nonzeros even when the count would take more than about a
        /// minute (by default a count over the limit is not started: `nonzeros` is null
        /// and `nonzeros_not_counted` gives its estimated operations); --structural-only
        /// still skips it.
        #[arg(long)]
        count_all: bool,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The whole J as a dense f64 .npy, laid out out.shape + in.shape like JAX's jacrev.
    Dense {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The .npy file to write.
        #[arg(short = 'o', long, value_name = "FILE")]
        output_file: PathBuf,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Refuse Jacobians with more entries than this.
        #[arg(long, default_value_t = 1 << 26)]
        max_entries: u64,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The forward value of the expression as an f64 .npy (its shape is the expression's).
    Eval {
        /// The problem.
        #[command(flatten)]
        problem: ProblemArgs,
        /// The .npy file to write.
        #[arg(short = 'o', long, value_name = "FILE")]
        output_file: PathBuf,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The arrays in .npy, .npz and .safetensors files, and whether each can be loaded.
    ///
    /// For each array: its name, dtype, shape, size in the file, and whether it can be
    /// loaded with -l (and if not, why). Reads headers only, never the data.
    Inputs {
        /// The files to list.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Output options.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// A shell completion script on stdout.
    ///
    /// For example: jacscope completions bash >
    /// ~/.local/share/bash-completion/completions/jacscope
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on stdout.
    ///
    /// For example: jacscope man | man -l -. With a subcommand, that subcommand's page.
    Man {
        /// A subcommand (e.g. explain); none for the main page.
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Option<String>,
    },
}

/// The output options of the subcommands that print no document (`completions`, `man`).
const PLAIN_OUTPUT: OutputArgs = OutputArgs {
    json: false,
    ascii: false,
};

impl Command {
    /// The output options: a subcommand's own, or none given (`completions`, `man`).
    pub fn output(&self) -> &OutputArgs {
        match self {
            Command::Explain { output, .. }
            | Command::At { output, .. }
            | Command::Shape { output, .. }
            | Command::Check { output, .. }
            | Command::Slice { output, .. }
            | Command::Matrix { output, .. }
            | Command::Stats { output, .. }
            | Command::Dense { output, .. }
            | Command::Eval { output, .. }
            | Command::Inputs { output, .. } => output,
            Command::Completions { .. } | Command::Man { .. } => &PLAIN_OUTPUT,
        }
    }
}

/// The problem: an expression, the shapes and values of its inputs, and the wrt variable.
#[derive(Debug, Clone, Args)]
pub struct ProblemArgs {
    /// The expression, e.g. "relu(X @ W.T + b)" (default: "X @ W.T" with X 64x1024, W 512x1024).
    #[arg(value_name = "EXPR")]
    pub expr: Option<String>,
    /// The shape of a variable: NAME=64x1024, NAME=512 (vector) or NAME=scalar.
    #[arg(short = 's', long = "shape", value_name = "NAME=SHAPE")]
    pub shapes: Vec<String>,
    /// Load a variable from NAME=FILE.npy or from one tensor, NAME=FILE.safetensors:TENSOR;
    /// or every variable found in FILE.npz or FILE.safetensors.
    #[arg(short = 'l', long = "load", value_name = "[NAME=]FILE[:TENSOR]")]
    pub loads: Vec<String>,
    /// The variable to differentiate with respect to (default: the first in EXPR); A,B for
    /// the second derivative d/dB of dY/dA (laid out out.shape + A.shape + B.shape, like
    /// nested jax.jacrev); X,X for the Hessian.
    #[arg(long, value_name = "NAME|A,B")]
    pub wrt: Option<String>,
    /// 2: the Hessian with respect to the first variable of EXPR (short for --wrt V,V).
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = "wrt",
          value_parser = clap::value_parser!(u8).range(1..=2))]
    pub order: u8,
    /// Seed of the standard normal inputs that are not loaded.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Refuse problems whose estimated memory exceeds SIZE (e.g. 512M, 4G, 1.5GiB, or
    /// bytes); default: half of the available memory, at most 8 GiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// Parses a memory size: bytes, or a number with a unit K, M, G, T (powers of 1024;
/// `KB`, `KiB`, … and lowercase accepted).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 512M, 4G or 1073741824"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches("ib").trim_end_matches('b');
    let scale: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(format!("unknown unit in '{text}'; use K, M, G or T")),
    };
    let bytes = number * scale as f64;
    if bytes.is_finite() && bytes <= u64::MAX as f64 {
        Ok(bytes as u64)
    } else {
        Err(format!("'{text}' is too large"))
    }
}

/// Parses a count that must be at least 1 (`--width`, `--height`).
pub fn parse_positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("'{text}' is not a whole number such as 64")),
    }
}

/// Options shared by the subcommands' printers.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Print one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print only ASCII: formulas, shapes, warnings and errors.
    #[arg(long)]
    pub ascii: bool,
}

impl OutputArgs {
    /// The notation of the text printed: ASCII with `--ascii`, else Unicode.
    pub fn notation(&self) -> Notation {
        if self.ascii {
            Notation::Ascii
        } else {
            Notation::Unicode
        }
    }
}

/// Display options of the interactive view.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Draw without Unicode glyphs.
    #[arg(long)]
    pub ascii: bool,
    /// Capture the mouse (click to move, wheel to scroll).
    #[arg(long)]
    pub mouse: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the terminal supports it and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour (monochrome glyph ramp).
    Never,
}

/// `--width` and `--height` of a spy plot or a picture.
#[derive(Debug, Clone, Copy, Args)]
pub struct MapSize {
    /// Width of the map (at least 1): characters of a spy plot (default 64), blocks of a
    /// picture (default 256, at most 4096).
    #[arg(long, value_parser = parse_positive)]
    pub width: Option<usize>,
    /// Height of the map (at least 1): lines of a spy plot (default 16), blocks of a
    /// picture (default 128, at most 4096).
    #[arg(long, value_parser = parse_positive)]
    pub height: Option<usize>,
}

/// `--mode` of a picture: what the colour of a nonzero block tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeatMode {
    /// Structural zero, numeric zero or nonzero; shade = share of nonzero entries.
    Sparsity,
    /// Shade = largest |value| in the block, relative to the largest of the map.
    Abs,
    /// Diverging colours: the block's value of largest magnitude, with its sign.
    Signed,
}

/// `matrix --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// A spy plot: `*` where a block has a structural nonzero, `.` elsewhere.
    Text,
    /// An SVG picture of the heat map (needs -o).
    Svg,
    /// A PNG picture of the heat map (needs -o).
    Png,
}

/// `slice --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SliceFormat {
    /// A spy plot: `*` where a block has a nonzero, `.` elsewhere.
    Text,
    /// The values as comma-separated rows.
    Csv,
    /// The values as a JSON document.
    Json,
    /// The values as a 2-D f64 .npy file (needs -o).
    Npy,
    /// An SVG picture of the heat map (needs -o).
    Svg,
    /// A PNG picture of the heat map (needs -o).
    Png,
}

/// The command line with an expression that starts with a minus (`-sum(X)`, `-X`) moved
/// behind `--`, where clap reads it as the expression and not as options.
///
/// An argument counts as such an expression when it starts with one `-` and is not an
/// option of the (sub)command: its first letter is no short option (`-X`, `-trace(X)`,
/// `-2*X`), or it is a short option that takes a value but what follows has a parenthesis
/// (`-sum(X)` is not `-s um(X)`). Values of options (`--claim -delta(i,k)`, `--seed -1`)
/// are left alone, and so is everything after an existing `--`.
pub fn expression_behind_double_dash(mut args: Vec<OsString>) -> Vec<OsString> {
    let mut top = Cli::command();
    // Adds the generated options (`-h`, `-V`) to every (sub)command.
    top.build();
    let mut command = &top;
    let mut position = 1;
    let mut found = None;
    while position < args.len() {
        let Some(arg) = args[position].to_str() else {
            position += 1;
            continue;
        };
        if arg == "--" {
            return args;
        }
        if std::ptr::eq(command, &top)
            && let Some(sub) = top.find_subcommand(arg)
        {
            command = sub;
            position += 1;
            continue;
        }
        let takes_value = |arg: &str| {
            command.get_arguments().any(|a| {
                a.get_action().takes_values()
                    && (a.get_long().is_some_and(|l| arg == format!("--{l}"))
                        || a.get_short().is_some_and(|c| arg == format!("-{c}")))
            })
        };
        if takes_value(arg) {
            position += 2;
            continue;
        }
        if found.is_none() && is_minus_expression(command, arg) {
            found = Some(position);
        }
        position += 1;
    }
    if let Some(position) = found {
        let expression = args.remove(position);
        args.push(OsString::from("--"));
        args.push(expression);
    }
    args
}

/// Whether `arg` is an expression starting with a minus rather than an option of `command`
/// (see [`expression_behind_double_dash`]).
fn is_minus_expression(command: &clap::Command, arg: &str) -> bool {
    let Some(rest) = arg.strip_prefix('-') else {
        return false;
    };
    let Some(first) = rest.chars().next() else {
        return false;
    };
    if first == '-' {
        return false;
    }
    match command
        .get_arguments()
        .find(|a| a.get_short() == Some(first))
    {
        Some(option) => option.get_action().takes_values() && rest.contains('('),
        None => true,
    }
}

/// `explain --emit`: the frameworks by their names (`numpy`, `jax`, `torch`).
impl ValueEnum for Framework {
    fn value_variants<'a>() -> &'a [Self] {
        &Framework::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(OsString::from).collect();
        expression_behind_double_dash(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn an_expression_with_a_leading_minus_goes_behind_double_dash() {
        assert_eq!(
            rewritten(&["jacscope", "explain", "-sum(X)", "-s", "X=3x3"]),
            ["jacscope", "explain", "-s", "X=3x3", "--", "-sum(X)"]
        );
        assert_eq!(
            rewritten(&["jacscope", "at", "-s", "X=2x2", "-X", "--index", "-1"]),
            ["jacscope", "at", "-s", "X=2x2", "--index", "-1", "--", "-X"]
        );
        assert_eq!(
            rewritten(&["jacscope", "-trace(X)", "-s", "X=3x3"]),
            ["jacscope", "-s", "X=3x3", "--", "-trace(X)"]
        );
        let parsed = Cli::parse_from(rewritten(&["jacscope", "shape", "-sum(X)", "-s", "X=3x3"]));
        let Some(Command::Shape { problem, .. }) = parsed.command else {
            panic!("{parsed:?}");
        };
        assert_eq!(problem.expr.as_deref(), Some("-sum(X)"));
        assert_eq!(problem.shapes, ["X=3x3"]);
    }

    #[test]
    fn a_claim_may_begin_with_a_minus_sign() {
        let args = ["jacscope", "check", "--claim", "-delta(i,k)*W[j,l]"];
        assert_eq!(rewritten(&args), args);
        let parsed = Cli::parse_from(rewritten(&args));
        let Some(Command::Check { problem, claim, .. }) = parsed.command else {
            panic!("{parsed:?}");
        };
        assert_eq!((problem.expr, claim.as_str()), (None, "-delta(i,k)*W[j,l]"));
    }

    #[test]
    fn options_and_their_values_stay_where_they_are() {
        for args in [
            &["jacscope", "explain", "X", "-sX=3x3", "-lW=w.npy"][..],
            &["jacscope", "explain", "X", "-s", "X=3x3", "--seed", "7"],
            &["jacscope", "slice", "X", "--fix", "i=0", "-o", "-out.csv"],
            &["jacscope", "explain", "-s", "X=3x3", "--", "-X"],
            &["jacscope", "-h"],
        ] {
            assert_eq!(rewritten(args), args, "{args:?}");
        }
    }

    #[test]
    fn ascii_is_known_for_every_command_and_the_explorer() {
        let ascii = |args: &[&str]| Cli::parse_from(args).ascii();
        assert!(ascii(&["jacscope", "explain", "X", "--ascii"]));
        assert!(ascii(&["jacscope", "dense", "X", "-o", "j.npy", "--ascii"]));
        assert!(ascii(&["jacscope", "--ascii"]));
        assert!(!ascii(&["jacscope", "at", "X", "--index", "0,0"]));
        assert!(!ascii(&["jacscope"]));
    }

    #[test]
    fn spy_plot_sizes_are_at_least_one() {
        assert_eq!(parse_positive("64"), Ok(64));
        assert_eq!(parse_positive("0"), Err("must be at least 1".to_string()));
        assert!(parse_positive("-3").is_err());
        assert!(parse_positive("wide").is_err());
    }

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("1073741824"), Ok(1 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2 kb"), Ok(2048));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3Q").is_err());
        assert!(parse_size("1e30T").is_err());
    }
}
