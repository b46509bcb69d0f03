//! The `synack` binary: parse the command line, run, print errors, exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = synack::cli::Cli::parse();
    synack::i18n::set(cli.language());
    match synack::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`synack trace ... | head`): it
        // has what it wanted, as with any tool in a pipeline.
        Err(err) if synack::app::broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(synack::app::exit_code(&err))
        }
    }
}
