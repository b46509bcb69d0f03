//! The `synack` binary: parse the command line, run, print errors, exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The language before the command line is parsed: clap's own errors (a
    // bad --port) are said in it too.
    synack::i18n::set(synack::cli::language_of(std::env::args_os().skip(1)));
    let cli = match synack::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return synack::cli::parse_failed(&e),
    };
    synack::i18n::set(cli.language());
    match synack::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`synack trace ... | head`): it
        // has what it wanted, as with any tool in a pipeline.
        Err(err) if synack::app::broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", synack::app::error_line(&err));
            ExitCode::from(synack::app::exit_code(&err))
        }
    }
}
