//! `card-printer`: a thin shell over the library (see `card_printer::cli`).

use clap::Parser;

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .without_time()
        .init();
    let cli = card_printer::cli::Cli::parse();
    let ctx = card_printer::cli::Context::from_env();
    let code = match card_printer::cli::run(cli, &ctx, &mut std::io::stdout()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            card_printer::cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
