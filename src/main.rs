//! The `jacscope` binary: parses the command line, runs a subcommand or the interactive
//! view, and is the only place that prints errors and picks exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use jacscope::cli::{Cli, expression_behind_double_dash};
use jacscope::commands;
use jacscope::error::{exit_code_of, message_of};

fn main() -> ExitCode {
    let cli = Cli::parse_from(expression_behind_double_dash(std::env::args_os().collect()));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Some(command) => commands::run(command, &mut out),
        None => commands::run_interactive(&cli.problem, &cli.display),
    };
    let _ = out.flush();
    let Err(error) = result else {
        return ExitCode::SUCCESS;
    };
    let code = exit_code_of(&error);
    if code == 0 {
        return ExitCode::SUCCESS;
    }
    // Not `eprintln!`, which panics when stderr is closed or full: then the message cannot
    // be shown, and the exit code is all that is left to say the run failed.
    match writeln!(std::io::stderr(), "{}", message_of(&error)) {
        Ok(()) => ExitCode::from(code),
        Err(_) => ExitCode::FAILURE,
    }
}
