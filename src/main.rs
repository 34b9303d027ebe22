//! The `jacscope` binary: parses the command line, runs a subcommand or the interactive
//! view, and is the only place that prints errors and picks exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use jacscope::cli::{Cli, expression_behind_double_dash};
use jacscope::commands;
use jacscope::error::{ascii_message_of, exit_code_of, message_of};

fn main() -> ExitCode {
    let cli = Cli::parse_from(expression_behind_double_dash(std::env::args_os().collect()));
    let ascii = cli.ascii();
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
    if code != 0 {
        let message = if ascii {
            ascii_message_of(&error)
        } else {
            message_of(&error)
        };
        eprintln!("{message}");
    }
    ExitCode::from(code)
}
