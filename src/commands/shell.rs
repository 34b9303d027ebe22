//! `jacscope completions` and `jacscope man`: shell completion scripts and manual pages,
//! both generated from the command-line definitions, so they cannot drift from them.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::output_error;
use crate::cli::Cli;
use crate::error::Error;

/// Writes the completion script of `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<(), Error> {
    // Generated into memory: clap_complete panics on a failed write (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "jacscope", &mut script);
    out.write_all(&script).map_err(output_error)
}

/// Writes the manual page (roff) of jacscope, or of one of its subcommands, to `out`.
pub fn man(subcommand: Option<&str>, out: &mut dyn Write) -> Result<(), Error> {
    let mut command = Cli::command();
    // Names the subcommands' pages `jacscope-explain` and so on.
    command.build();
    let page = match subcommand {
        None => command,
        Some(name) => command.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = command
                .get_subcommands()
                .map(|sub| sub.get_name())
                .filter(|sub| *sub != "help")
                .collect();
            Error::Usage(format!(
                "man: jacscope has no subcommand {name}; its subcommands: {}",
                names.join(", ")
            ))
        })?,
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .source(format!("jacscope {}", env!("CARGO_PKG_VERSION")))
        .render(&mut roff)
        .map_err(|e| Error::Internal(format!("rendering the manual page: {e}")))?;
    out.write_all(&roff).map_err(output_error)
}
