//! The `jacscope` binary: parses the command line, runs a subcommand or the interactive
//! view, and is the only place that prints errors and picks exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clap::error::{ContextKind, ContextValue};
use jacscope::cli::{Cli, expression_behind_double_dash};
use jacscope::commands;
use jacscope::error::{ascii_message_of, exit_code_of, message_of};
use jacscope::expr::diagnostic::escape;

fn main() -> ExitCode {
    let cli = parse_command_line();
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
    if code == 0 {
        return ExitCode::SUCCESS;
    }
    // A claim that does not hold (exit code 3) has said so on stdout: no message.
    if message_of(&error).is_empty() {
        return ExitCode::from(code);
    }
    // Not `eprintln!`, which panics when stderr is closed or full: then the message cannot
    // be shown, and the exit code is all that is left to say the run failed.
    let message = if ascii {
        ascii_message_of(&error)
    } else {
        message_of(&error)
    };
    match writeln!(std::io::stderr(), "{message}") {
        Ok(()) => ExitCode::from(code),
        Err(_) => ExitCode::FAILURE,
    }
}

/// The command line, or the end of the run: help and version printed, or clap's message
/// for a bad command line with the arguments it quotes escaped (so an argument cannot
/// clear the screen or start a forged line), exit code 2.
fn parse_command_line() -> Cli {
    let args = expression_behind_double_dash(std::env::args_os().collect());
    let mut error = match Cli::try_parse_from(args) {
        Ok(cli) => return cli,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => error,
    };
    let quoted: Vec<(ContextKind, ContextValue)> = error
        .context()
        .filter_map(|(kind, value)| match value {
            ContextValue::String(text) => Some((kind, ContextValue::String(escape(text)))),
            ContextValue::Strings(texts) => Some((
                kind,
                ContextValue::Strings(texts.iter().map(|text| escape(text)).collect()),
            )),
            _ => None,
        })
        .collect();
    for (kind, value) in quoted {
        error.insert(kind, value);
    }
    error.exit()
}
